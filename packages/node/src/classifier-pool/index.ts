import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import {
  BloodcellError,
  type BundleMetadata,
  type CellImage,
  type ClassifyBatchOptions,
  type ClassifyResult,
  ImageInputError,
  OptionError,
} from '@bloodcell/core';

import type { BackendName } from '../backend/index.js';
import { workerEntry, workerExecArgv } from '../worker-entry/index.js';
import { WorkerRestarts, watchStop } from '../worker-restarts/index.js';
import {
  type FromWorker,
  type ToWorker,
  type WireImage,
  fromWireError,
  toWire,
} from './protocol.js';

export interface ClassifierPoolOptions {
  /** Worker threads, each with its own copy of the model. Default: one per core. */
  workers?: number;
  /** TF.js backend each worker uses; default: the fastest that loads (wasm without tfjs-node). */
  backend?: BackendName;
}

/** A batch of work waiting for, or running on, a worker. */
interface Task {
  images: WireImage[];
  batchSize: number;
  resolve: (results: ClassifyResult[]) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  thread: Worker;
  task?: Task;
}

/**
 * Classifies with TF.js on several worker threads at once, each running the whole per-image path
 * (locate, crop, forward pass) on its own model copy: TF.js's wasm backend is single-threaded
 * under Node, so N workers use N cores. It has the `metadata` and `classifyBatch` of a
 * `Classifier`, so the CLI and the web demo take either. (ONNX Runtime is not run here: its Node
 * binding crashes in worker threads; OnnxClassifier uses several cores from one thread instead.)
 */
export class ClassifierPool {
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;

  private constructor(
    readonly metadata: BundleMetadata,
    private readonly workers: PoolWorker[],
    private readonly restarts: WorkerRestarts,
  ) {
    for (const worker of workers) this.listen(worker);
  }

  /**
   * Starts the workers and loads the bundle in each; resolves once all are ready.
   *
   * @throws OptionError BAD_WORKERS or INVALID_BACKEND; BundleError when the bundle cannot be loaded.
   * @example
   * const pool = await ClassifierPool.start('artifacts/model', { workers: 2 });
   * const results = await pool.classifyBatch(images);
   * await pool.close();
   */
  static async start(modelDir: string, options: ClassifierPoolOptions = {}): Promise<ClassifierPool> {
    const count = options.workers ?? availableParallelism();
    if (!Number.isInteger(count) || count < 1) {
      throw new OptionError('BAD_WORKERS', `workers must be a positive integer; got ${count}.`);
    }

    const setup = { modelDir, backend: options.backend };
    const entry = workerEntry('classifier-worker.js', 'The classifier worker script');
    const execArgv = workerExecArgv();
    const spawn = () => new Worker(entry, { workerData: setup, execArgv });
    const threads = Array.from({ length: count }, spawn);
    const ready = await Promise.allSettled(threads.map(whenReady));
    const failure = ready.find((outcome) => outcome.status === 'rejected');
    if (failure) {
      await Promise.all(threads.map((thread) => thread.terminate()));
      throw failure.reason;
    }
    const metadata = (ready[0] as PromiseFulfilledResult<BundleMetadata>).value;
    const restarts = new WorkerRestarts(count, spawn, whenReady);
    return new ClassifierPool(metadata, threads.map((thread) => ({ thread })), restarts);
  }

  /** Number of worker threads running (a stopped one is replaced while restarts last). */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Names the white cell in each image, spreading batches over the workers; results come back in
   * the order of `images`.
   *
   * @example
   * const [first] = await pool.classifyBatch([await decodeImage('smear.jpeg')]);
   */
  async classifyBatch(images: readonly CellImage[], options: ClassifyBatchOptions = {}): Promise<ClassifyResult[]> {
    const batchSize = options.batchSize ?? 8;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ImageInputError('BAD_BATCH_SIZE', `batchSize must be a positive integer; got ${batchSize}.`);
    }
    if (this.closed) throw new BloodcellError('POOL_CLOSED', 'The classifier pool is closed; start a new one.');

    // Small enough that every worker gets a share of one call's images.
    const chunk = Math.max(1, Math.min(batchSize, Math.ceil(images.length / this.workers.length)));
    const wire = await Promise.all(images.map(toWire));
    const parts: Promise<ClassifyResult[]>[] = [];
    for (let start = 0; start < wire.length; start += chunk) {
      parts.push(this.submit(wire.slice(start, start + chunk), batchSize));
    }
    return (await Promise.all(parts)).flat();
  }

  /**
   * Stops the workers; batches still queued or running are refused with POOL_CLOSED.
   *
   * @example
   * await pool.close();
   */
  async close(): Promise<void> {
    this.closed = true;
    const running = this.workers.flatMap((worker) => (worker.task ? [worker.task] : []));
    for (const task of [...this.queue.splice(0), ...running]) {
      task.reject(new BloodcellError('POOL_CLOSED', 'The classifier pool closed.'));
    }
    await Promise.all(this.workers.map((worker) => worker.thread.terminate()));
  }

  private submit(images: WireImage[], batchSize: number): Promise<ClassifyResult[]> {
    // The pool may have closed while this call's images were being packed.
    if (this.closed) return Promise.reject(new BloodcellError('POOL_CLOSED', 'The classifier pool closed.'));
    return new Promise((resolve, reject) => {
      this.queue.push({ images, batchSize, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (worker.task || this.queue.length === 0) continue;
      const task = this.queue.shift()!;
      worker.task = task;
      const message: ToWorker = { id: this.nextId++, images: task.images, batchSize: task.batchSize };
      worker.thread.postMessage(message);
    }
  }

  private listen(worker: PoolWorker): void {
    worker.thread.on('message', (message: FromWorker) => {
      const task = worker.task;
      worker.task = undefined;
      if (message.kind === 'done') task?.resolve(message.results);
      if (message.kind === 'error') task?.reject(fromWireError(message.error));
      this.dispatch();
    });
    watchStop(worker.thread, (why) => this.lost(worker, why));
  }

  /** Fails the batch a stopped worker held, then starts another in its place while restarts last. */
  private lost(worker: PoolWorker, why: string): void {
    if (this.closed) return;
    this.workers.splice(this.workers.indexOf(worker), 1);
    worker.task?.reject(new BloodcellError('WORKER_FAILED', `A classifier worker stopped (${why}); its batch failed.`));
    worker.task = undefined;
    void this.restarts.replace().then((thread) => this.adopt(thread));
  }

  private adopt(thread: Worker | undefined): void {
    if (this.closed) {
      void thread?.terminate();
    } else if (thread) {
      const worker = { thread };
      this.workers.push(worker);
      this.listen(worker);
      this.dispatch();
    } else if (this.workers.length === 0 && !this.restarts.replacing) {
      void this.close();
    }
  }
}

/** Resolves with the bundle's metadata once a new worker has loaded it. */
function whenReady(thread: Worker): Promise<BundleMetadata> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      thread.off('error', reject);
      if (message.kind === 'ready') resolve(message.metadata);
      else if (message.kind === 'failed') reject(fromWireError(message.error));
    };
    thread.once('message', onMessage);
    thread.once('error', reject);
  });
}
