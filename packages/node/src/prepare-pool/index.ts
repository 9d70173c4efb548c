import { Worker } from 'node:worker_threads';

import { BloodcellError, type BundleMetadata, type CellRegion, OptionError, type PixelImage } from '@bloodcell/core';

import { type WireError, fromWireError } from '../classifier-pool/protocol.js';
import { workerEntry, workerExecArgv } from '../worker-entry/index.js';
import { WorkerRestarts, watchStop } from '../worker-restarts/index.js';

/** What a preparation worker needs of the bundle: where to look and how to crop and scale. */
export type PrepareSetup = Pick<BundleMetadata, 'backbone' | 'preprocessing'>;

/** A batch ready for the forward pass: backbone inputs laid end to end, and where each came from. */
export interface PreparedBatch {
  input: Float32Array;
  regions: CellRegion[];
}

/** Messages to a preparation worker. */
export type ToPrepare = { id: number; images: PixelImage[] };

/** Messages from it. */
export type FromPrepare =
  | { kind: 'ready' }
  | { kind: 'failed'; error: WireError }
  | { kind: 'done'; id: number; batch: PreparedBatch }
  | { kind: 'error'; id: number; error: WireError };

interface Task {
  images: PixelImage[];
  resolve: (batch: PreparedBatch) => void;
  reject: (error: Error) => void;
}

interface PrepareWorker {
  thread: Worker;
  /** The batches it is preparing, in the order of their images in the message. */
  tasks?: Task[];
}

/**
 * Worker threads that locate the cell and write the backbone's input (the ~2-4 ms per image of
 * plain JavaScript before a forward pass), so the thread that answers HTTP or decodes files is not
 * the bottleneck. They never load onnxruntime-node: only OnnxHost's worker may hold sessions.
 * Pixels are copied to a worker (sharp's buffers cannot be transferred, and callers keep theirs);
 * the prepared input comes back transferred.
 */
export class PreparePool {
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;

  private constructor(
    private readonly workers: PrepareWorker[],
    private readonly maxImages: number,
    private readonly restarts: WorkerRestarts,
  ) {
    for (const worker of workers) this.listen(worker);
  }

  /**
   * Starts `workers` threads for a bundle; resolves once each has loaded. Batches that queue
   * while every worker is busy go to the next free one together, up to `maxImages` images.
   *
   * @throws OptionError BAD_PREPARE_WORKERS for a count that is not a positive integer.
   * @example
   * const pool = await PreparePool.start(classifier.metadata, 1);
   * const { input, regions } = await pool.prepare([await decodeImage('smear.jpeg')]);
   */
  static async start(setup: PrepareSetup, workers: number, maxImages = 16): Promise<PreparePool> {
    if (!Number.isInteger(workers) || workers < 1) {
      throw new OptionError('BAD_PREPARE_WORKERS', `prepareWorkers must be a positive integer; got ${workers}.`);
    }
    const workerData: PrepareSetup = { backbone: setup.backbone, preprocessing: setup.preprocessing };
    const entry = workerEntry('prepare-worker.js', 'The preparation worker');
    const execArgv = workerExecArgv();
    const spawn = () => new Worker(entry, { workerData, execArgv });
    const threads = Array.from({ length: workers }, spawn);
    const ready = await Promise.allSettled(threads.map(whenReady));
    const failure = ready.find((outcome) => outcome.status === 'rejected');
    if (failure) {
      await Promise.all(threads.map((thread) => thread.terminate()));
      throw failure.reason;
    }
    // Idle, the workers must not keep the process alive.
    for (const thread of threads) thread.unref();
    const restarts = new WorkerRestarts(workers, spawn, whenReady);
    return new PreparePool(threads.map((thread) => ({ thread })), maxImages, restarts);
  }

  /** Worker threads running; 0 once closed, and while every one stopped and is being replaced. */
  get size(): number {
    return this.closed ? 0 : this.workers.length;
  }

  /**
   * Locates the cell in each image and writes their backbone inputs, in one worker.
   *
   * @throws ImageInputError as the same preparation on this thread would; BloodcellError
   *   POOL_CLOSED after close, WORKER_FAILED when the worker stopped. While a stopped worker is
   *   being replaced, batches wait for the new one.
   * @example
   * const { input, regions } = await pool.prepare(images);
   */
  prepare(images: readonly PixelImage[]): Promise<PreparedBatch> {
    if (this.closed) {
      return Promise.reject(new BloodcellError('POOL_CLOSED', 'The preparation workers are closed.'));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ images: [...images], resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Stops the workers; batches still queued or being prepared are refused with POOL_CLOSED.
   *
   * @example
   * await pool.close();
   */
  async close(): Promise<void> {
    this.closed = true;
    const running = this.workers.flatMap((worker) => worker.tasks ?? []);
    for (const task of [...this.queue.splice(0), ...running]) {
      task.reject(new BloodcellError('POOL_CLOSED', 'The preparation workers closed.'));
    }
    await Promise.all(this.workers.map((worker) => worker.thread.terminate()));
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (worker.tasks || this.queue.length === 0) continue;
      // One message for the batches that queued meanwhile: fewer thread hand-offs per image.
      const tasks = [this.queue.shift()!];
      let count = tasks[0]!.images.length;
      while (this.queue.length > 0 && count + this.queue[0]!.images.length <= this.maxImages) {
        count += this.queue[0]!.images.length;
        tasks.push(this.queue.shift()!);
      }
      worker.tasks = tasks;
      worker.thread.ref();
      const message: ToPrepare = { id: this.nextId++, images: tasks.flatMap((task) => task.images) };
      worker.thread.postMessage(message);
    }
  }

  private listen(worker: PrepareWorker): void {
    worker.thread.on('message', (message: FromPrepare) => {
      const tasks = worker.tasks ?? [];
      worker.tasks = undefined;
      worker.thread.unref();
      if (message.kind === 'done') settle(tasks, message.batch);
      if (message.kind === 'error') for (const task of tasks) task.reject(fromWireError(message.error));
      this.dispatch();
    });
    watchStop(worker.thread, (why) => this.lost(worker, why));
  }

  /**
   * Fails the batches a stopped worker held, then starts another in its place while restarts
   * last; OnnxClassifier prepares on its own thread while none is running.
   */
  private lost(worker: PrepareWorker, why: string): void {
    if (this.closed) return;
    this.workers.splice(this.workers.indexOf(worker), 1);
    const failure = new BloodcellError('WORKER_FAILED', `A preparation worker stopped (${why}); its batches failed.`);
    for (const task of worker.tasks ?? []) task.reject(failure);
    worker.tasks = undefined;
    void this.restarts.replace().then((thread) => this.adopt(thread));
  }

  private adopt(thread: Worker | undefined): void {
    if (this.closed) {
      void thread?.terminate();
    } else if (thread) {
      // Idle, it must not keep the process alive.
      thread.unref();
      const worker = { thread };
      this.workers.push(worker);
      this.listen(worker);
      this.dispatch();
    } else if (this.workers.length === 0 && !this.restarts.replacing) {
      void this.close();
    }
  }
}

/**
 * Hands each batch its rows of a merged message. Views share one buffer, so whoever transfers
 * one must copy it first (OnnxClassifier does); one batch alone gets the buffer itself.
 */
function settle(tasks: Task[], { input, regions }: PreparedBatch): void {
  if (tasks.length === 1) return tasks[0]!.resolve({ input, regions });
  const perImage = input.length / regions.length;
  let first = 0;
  for (const task of tasks) {
    const end = first + task.images.length;
    task.resolve({ input: input.subarray(first * perImage, end * perImage), regions: regions.slice(first, end) });
    first = end;
  }
}

/** Resolves once a new worker has loaded, or rejects with why it could not. */
function whenReady(thread: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    thread.once('message', (message: FromPrepare) => {
      thread.off('error', reject);
      if (message.kind === 'ready') resolve();
      else if (message.kind === 'failed') reject(fromWireError(message.error));
    });
    thread.once('error', reject);
  });
}
