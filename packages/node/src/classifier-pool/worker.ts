import { parentPort, workerData } from 'node:worker_threads';

import type { Classifier } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';

import { selectBackend } from '../backend/index.js';
import { loadClassifier } from '../bundle-store/index.js';
import { type FromWorker, type ToWorker, type WorkerSetup, fromWire, toWireError } from './protocol.js';

/** One thread of a ClassifierPool: loads the bundle once, then classifies batch after batch. */
async function serve(setup: WorkerSetup): Promise<void> {
  const port = parentPort!;
  const send = (message: FromWorker) => port.postMessage(message);

  let classifier: Classifier;
  try {
    await selectBackend(setup.backend ? { prefer: setup.backend } : {});
    classifier = await loadClassifier(setup.modelDir);
  } catch (error) {
    send({ kind: 'failed', error: toWireError(error) });
    return;
  }
  send({ kind: 'ready', metadata: classifier.metadata });

  port.on('message', (message: ToWorker) => {
    const images = message.images.map(fromWire);
    classifier
      .classifyBatch(images, { batchSize: message.batchSize })
      .then(
        (results) => send({ kind: 'done', id: message.id, results }),
        (error: unknown) => send({ kind: 'error', id: message.id, error: toWireError(error) }),
      )
      .finally(() => tf.dispose(images.filter((image): image is tf.Tensor3D => image instanceof tf.Tensor)));
  });
}

void serve(workerData as WorkerSetup);
