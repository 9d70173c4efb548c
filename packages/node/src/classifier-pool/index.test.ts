import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Classifier } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { syntheticSmear, tinyBundle } from '../../../../test-support/tiny-bundle.js';
import { writeBundle } from '../bundle-store/index.js';
import { ClassifierPool } from './index.js';

let work: string;
let bundle: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = await mkdtemp(join(tmpdir(), 'bloodcell-pool-'));
  bundle = join(work, 'model');
  const { model, metadata } = tinyBundle({ seed: 5 });
  await writeBundle(bundle, model, metadata);
});

afterAll(() => rm(work, { recursive: true, force: true }));

describe('ClassifierPool', () => {
  it('answers as one in-thread classifier, in the order of the images, pixels and tensors alike', async () => {
    const images = [syntheticSmear(40, 30), syntheticSmear(50, 40), syntheticSmear(33, 33)];
    const tensor = tf.tensor3d(Float32Array.from(images[1]!.data), [40, 50, 3]);
    const { model, metadata } = tinyBundle({ seed: 5 });
    const expected = await Classifier.fromModel(model, metadata).classifyBatch([...images, tensor]);

    const pool = await ClassifierPool.start(bundle, { workers: 2, backend: 'cpu' });
    try {
      expect(pool.size).toBe(2);
      expect(pool.metadata.backbone.outputLayer).toBe('out_relu');
      const results = await pool.classifyBatch([...images, tensor], { batchSize: 1 });
      expect(results.map((r) => r.probabilities)).toEqual(expected.map((r) => r.probabilities));
      await expect(pool.classifyBatch([{ data: new Uint8Array(5), width: 2, height: 2 }])).rejects.toMatchObject({
        name: 'ImageInputError',
        code: 'BAD_PIXEL_COUNT',
      });
    } finally {
      await pool.close();
      tensor.dispose();
    }
    await expect(pool.classifyBatch(images)).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });

  it('replaces a worker that stops, failing only the batch it held, and fails running batches on close', async () => {
    const pool = await ClassifierPool.start(bundle, { workers: 2, backend: 'cpu' });
    type Inside = { workers: { task?: unknown; thread: { terminate(): Promise<number> } }[] };
    const workers = () => (pool as unknown as Inside).workers;
    const images = [syntheticSmear(40, 30), syntheticSmear(50, 40)];
    try {
      // Eight whole fields in one batch: far more work than stopping the worker takes.
      const fields = Array.from({ length: 8 }, () => syntheticSmear(320, 240));
      const held = pool.classifyBatch(fields, { batchSize: 8 });
      held.catch(() => undefined);
      while (!workers().some((worker) => worker.task)) await new Promise((resolve) => setImmediate(resolve));
      await workers().find((worker) => worker.task)!.thread.terminate();
      await expect(held).rejects.toMatchObject({ code: 'WORKER_FAILED', message: expect.stringMatching(/exited with code 1/) });

      while (pool.size < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      const results = await pool.classifyBatch(images, { batchSize: 1 });
      expect(results).toHaveLength(2);

      const running = pool.classifyBatch(images, { batchSize: 1 }).catch((error: unknown) => error);
      await pool.close();
      expect(await running).toMatchObject({ code: 'POOL_CLOSED' });
    } finally {
      await pool.close();
    }
  });

  it('refuses a bad worker count and reports a missing bundle as a BundleError', async () => {
    await expect(ClassifierPool.start(bundle, { workers: 0 })).rejects.toMatchObject({ code: 'BAD_WORKERS' });
    await expect(ClassifierPool.start(join(work, 'none'), { workers: 1, backend: 'cpu' })).rejects.toMatchObject({
      name: 'BundleError',
      code: 'BUNDLE_NOT_FOUND',
    });
  });
});
