import { parentPort, workerData } from 'node:worker_threads';

import { FeatureExtractor } from '@bloodcell/core';

import { toWireError } from '../classifier-pool/protocol.js';
import { packedPixels } from '../onnx-classifier/pixels.js';
import { writeBackboneInput } from '../onnx-classifier/prepare.js';
import type { FromPrepare, PrepareSetup, PreparedBatch, ToPrepare } from './index.js';

/**
 * One preparation thread: locates the cell and writes the backbone input, exactly as
 * OnnxClassifier does on its own thread. It must never import onnxruntime-node.
 */
function serve(setup: PrepareSetup): void {
  const port = parentPort!;
  const send = (message: FromPrepare, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

  let extractor: FeatureExtractor;
  try {
    // Only `locate` is used, which needs no backbone: the same code as the main thread's
    // FeatureExtractor, so the two cannot drift apart.
    extractor = new FeatureExtractor(null as never, setup.backbone, setup.preprocessing);
  } catch (error) {
    send({ kind: 'failed', error: toWireError(error) });
    return;
  }
  send({ kind: 'ready' });

  port.on('message', (message: ToPrepare) => {
    prepare(extractor, message).then(
      (batch) => send({ kind: 'done', id: message.id, batch }, [batch.input.buffer as ArrayBuffer]),
      (error: unknown) => send({ kind: 'error', id: message.id, error: toWireError(error) }),
    );
  });
}

async function prepare(extractor: FeatureExtractor, { images }: ToPrepare): Promise<PreparedBatch> {
  const { inputSize: size, scaling } = extractor.spec;
  const regions = await Promise.all(images.map((image) => extractor.locate(image)));
  const input = new Float32Array(images.length * size * size * 3);
  images.forEach((image, i) => {
    writeBackboneInput(packedPixels(image), regions[i]!.box, size, scaling, input, i * size * size * 3);
  });
  return { input, regions };
}

serve(workerData as PrepareSetup);
