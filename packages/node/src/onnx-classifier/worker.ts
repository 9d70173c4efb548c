import { parentPort } from 'node:worker_threads';

import type * as Ort from 'onnxruntime-node';

import { toWireError } from '../classifier-pool/protocol.js';
import { loadOnnxRuntime } from '../onnx-runtime/index.js';
import { sessionOptions } from './options.js';
import type { FromHost, ToHost } from './host.js';

/**
 * The process's one ONNX Runtime thread: onnxruntime-node runs a session synchronously on the
 * calling thread, so running it here leaves the main thread free to decode and crop meanwhile.
 */
async function serve(): Promise<void> {
  const port = parentPort!;
  const send = (message: FromHost, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const sessions = new Map<number, Ort.InferenceSession>();

  let ort: Awaited<ReturnType<typeof loadOnnxRuntime>>;
  try {
    ort = await loadOnnxRuntime();
  } catch (error) {
    send({ kind: 'failed', error: toWireError(error) });
    return;
  }
  send({ kind: 'ready' });

  port.on('message', (message: ToHost) => {
    void handle(message).then(
      ([reply, transfer]) => send(reply, transfer),
      (error: unknown) => send({ kind: 'error', id: message.id, error: toWireError(error) }),
    );
  });

  async function handle(message: ToHost): Promise<[FromHost, ArrayBuffer[]]> {
    if (message.kind === 'create') {
      sessions.set(message.id, await ort.InferenceSession.create(message.bytes, sessionOptions(message.threads)));
      return [{ kind: 'done', id: message.id }, []];
    }
    const session = sessions.get(message.session);
    if (!session) throw new Error(`no ONNX Runtime session ${message.session}; it was released`);
    if (message.kind === 'release') {
      sessions.delete(message.session);
      await session.release();
      return [{ kind: 'done', id: message.id }, []];
    }
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', message.input, message.dims) };
    const results = await session.run(feeds);
    // Copied: the runtime's own buffers may live outside the JS heap, where they cannot be transferred.
    const outputs = Object.fromEntries(Object.entries(results).map(([name, tensor]) => [name, (tensor.data as Float32Array).slice()]));
    return [{ kind: 'done', id: message.id, outputs }, Object.values(outputs).map((data) => data.buffer as ArrayBuffer)];
  }
}

void serve();
