import { Worker } from 'node:worker_threads';

import { BloodcellError } from '@bloodcell/core';

import { type WireError, fromWireError } from '../classifier-pool/protocol.js';
import { workerEntry, workerExecArgv } from '../worker-entry/index.js';

/** Messages to the ONNX Runtime worker. */
export type ToHost =
  | { kind: 'create'; id: number; bytes: Uint8Array; threads: number }
  | { kind: 'run'; id: number; session: number; input: Float32Array; dims: number[] }
  | { kind: 'release'; id: number; session: number };

/** Messages from it. */
export type FromHost =
  | { kind: 'ready' }
  | { kind: 'failed'; error: WireError }
  | { kind: 'done'; id: number; outputs?: Record<string, Float32Array> }
  | { kind: 'error'; id: number; error: WireError };

/** A session living in the ONNX Runtime worker. */
export interface HostedSession {
  /** Runs the model on `input` of shape `dims`; resolves with every output by name. */
  run(input: Float32Array, dims: number[]): Promise<Record<string, Float32Array>>;
  release(): Promise<void>;
}

let shared: Promise<OnnxHost> | undefined;

/**
 * The one worker thread that runs every ONNX Runtime session of this process. One, because
 * onnxruntime-node 1.30 crashes when two worker threads hold sessions (microsoft/onnxruntime#24486);
 * a worker at all, because its `run` blocks the calling thread for the whole forward pass.
 */
export class OnnxHost {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (outputs?: Record<string, Float32Array>) => void; reject: (error: Error) => void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: FromHost) => {
      if (message.kind !== 'done' && message.kind !== 'error') return;
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.kind === 'done') waiting?.resolve(message.outputs);
      else waiting?.reject(fromWireError(message.error));
      // Idle, the worker must not keep the process alive.
      if (this.pending.size === 0) worker.unref();
    });
    worker.on('error', (error) => {
      shared = undefined;
      for (const waiting of this.pending.values()) waiting.reject(new BloodcellError('WORKER_FAILED', `The ONNX Runtime worker crashed: ${error.message}`));
      this.pending.clear();
    });
  }

  /**
   * The process's host, started on first use; rejects with ONNX_RUNTIME_UNAVAILABLE when
   * onnxruntime-node cannot load.
   *
   * @example
   * const session = await (await OnnxHost.shared()).createSession(bytes, 1);
   */
  static shared(): Promise<OnnxHost> {
    shared ??= OnnxHost.start();
    shared.catch(() => (shared = undefined));
    return shared;
  }

  /**
   * Opens a model in the worker with `threads` ONNX Runtime threads.
   *
   * @example
   * const outputs = await (await host.createSession(bytes, 1)).run(input, [1, 224, 224, 3]);
   */
  async createSession(bytes: Uint8Array, threads: number): Promise<HostedSession> {
    const session = this.nextId;
    await this.request({ kind: 'create', id: this.nextId++, bytes, threads });
    return {
      run: async (input, dims) => (await this.request({ kind: 'run', id: this.nextId++, session, input, dims }, [input.buffer as ArrayBuffer]))!,
      release: async () => void (await this.request({ kind: 'release', id: this.nextId++, session })),
    };
  }

  private static async start(): Promise<OnnxHost> {
    // ONNX Runtime's graph passes recurse deeply; a worker's default 4 MB stack is too small for them.
    const entry = workerEntry('onnx-worker.js', 'The ONNX Runtime worker');
    const options = { resourceLimits: { stackSizeMb: 64 }, execArgv: workerExecArgv() };
    const worker = new Worker(entry, options);
    const [message] = (await Promise.race([
      new Promise((resolve) => worker.once('message', (m) => resolve([m]))),
      new Promise((_, reject) => worker.once('error', reject)),
    ])) as [FromHost];
    if (message.kind === 'failed') {
      await worker.terminate();
      throw fromWireError(message.error);
    }
    worker.unref();
    return new OnnxHost(worker);
  }

  private request(message: ToHost, transfer: ArrayBuffer[] = []): Promise<Record<string, Float32Array> | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(message, transfer);
    });
  }
}
