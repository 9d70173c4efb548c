import '@tensorflow/tfjs-backend-cpu';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { type ClassifyResult, cropAndResize, scalePixels } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { HAS_SHARED, SHARED_MISSING, TRAIN_DIR } from '../../../../test-support/shared.js';
import { smallTrainedBundle } from '../../../../test-support/trained-bundle.js';
import { syntheticSmear } from '../../../../test-support/tiny-bundle.js';
import { selectBackend } from '../backend/index.js';
import { loadClassifier } from '../bundle-store/index.js';
import { ClassifierPool } from '../classifier-pool/index.js';
import { decodeImage } from '../decode/index.js';
import { BatchCoalescer } from './coalesce.js';
import { loadOnnxClassifier, writeBackboneInput } from './index.js';

describe('BatchCoalescer', () => {
  it('merges batches submitted together, and those queued during a pass, and splits the rows back', async () => {
    const passes: number[][] = [];
    // A fake forward pass: each image is one float; its "probability" row is [v, -v], its pooled row [v].
    const coalescer = new BatchCoalescer(async (input, count) => {
      passes.push([...input]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { probabilities: Float32Array.from([...input].flatMap((v) => [v, -v])), pooled: input.slice(0, count) };
    }, 3);

    // Submitted in one turn: they share the first pass, as batches a preparation worker returns together do.
    const together = [coalescer.submit(Float32Array.of(1), 1), coalescer.submit(Float32Array.of(2, 3), 2)];
    await new Promise((resolve) => setTimeout(resolve, 1));
    const during = [4, 5, 6, 7].map((v) => coalescer.submit(Float32Array.of(v), 1));
    const results = await Promise.all([...together, ...during]);
    expect(passes).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(results.map((rows) => [...rows.probabilities])).toEqual([[1, -1], [2, -2, 3, -3], [4, -4], [5, -5], [6, -6], [7, -7]]);
    expect(results.map((rows) => [...rows.pooled])).toEqual([[1], [2, 3], [4], [5], [6], [7]]);
  });

  it('rejects every batch of a failed pass and goes on with the next', async () => {
    let calls = 0;
    const coalescer = new BatchCoalescer(async (input) => {
      calls += 1;
      if (calls === 2) throw new Error('pass failed');
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { probabilities: input, pooled: input };
    }, 8);
    const first = coalescer.submit(Float32Array.of(1), 1);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const outcomes = await Promise.allSettled([first, ...[2, 3].map((v) => coalescer.submit(Float32Array.of(v), 1))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect([...(await coalescer.submit(Float32Array.of(9), 1)).pooled]).toEqual([9]);
  });
});

describe('writeBackboneInput', () => {
  beforeAll(() => selectBackend({ prefer: 'cpu' }));

  const image = syntheticSmear(61, 47);
  const boxes = [
    { x: 10, y: 5, width: 30, height: 30 },
    { x: 0, y: 0, width: 61, height: 47 },
    { x: 31, y: 17, width: 30, height: 30 }, // ends on the right and bottom edges
    { x: -8, y: -8, width: 40, height: 40 }, // reaches outside, as a zoomed-out view does
  ];

  for (const scaling of ['tf', 'caffe'] as const) {
    it(`crops, resizes and scales (${scaling}) as core's tensor ops do`, () => {
      for (const box of boxes) {
        const expected = tf.tidy(() => {
          const pixels = tf.tensor3d(Float32Array.from(image.data), [image.height, image.width, 3]);
          return scalePixels(cropAndResize(pixels, 20, box), scaling).dataSync() as Float32Array;
        });
        const written = new Float32Array(5 + 20 * 20 * 3);
        writeBackboneInput({ ...image, channels: 3 }, box, 20, scaling, written, 5);
        const difference = expected.reduce((most, value, i) => Math.max(most, Math.abs(value - written[5 + i]!)), 0);
        expect(difference, JSON.stringify(box)).toBeLessThan(1e-4);
      }
    });
  }
});

const TITLE = 'the same answers on every engine, real images';

describe.skipIf(!HAS_SHARED)(HAS_SHARED ? TITLE : `${TITLE} (skipped: ${SHARED_MISSING})`, () => {
  let bundle: string;
  const files: string[] = [join(TRAIN_DIR, 'EOSINOPHIL', '_14_9466.jpeg')];

  beforeAll(async () => {
    bundle = await smallTrainedBundle();
    for (const type of ['EOSINOPHIL', 'LYMPHOCYTE', 'MONOCYTE', 'NEUTROPHIL']) {
      const names = (await readdir(join(TRAIN_DIR, type))).sort();
      files.push(...names.filter((_, i) => i % 500 === 7).slice(0, 4).map((name) => join(TRAIN_DIR, type, name)));
    }
  });

  it('agrees to 1e-4 across tfjs cpu, tfjs wasm, onnx (with and without preparation workers) and a worker pool', async () => {
    const images = await Promise.all(files.map((file) => decodeImage(file)));
    const answers: Record<string, ClassifyResult[]> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      await selectBackend({ prefer: backend });
      const classifier = await loadClassifier(bundle);
      answers[`tfjs ${backend}`] = await classifier.classifyBatch(images, { batchSize: 4 });
      classifier.dispose();
    }
    const onnx = await loadOnnxClassifier(bundle, { threads: 2 });
    answers.onnx = await onnx.classifyBatch(images, { batchSize: 3 });
    await onnx.dispose();
    const prepared = await loadOnnxClassifier(bundle, { threads: 2, prepareWorkers: 2 });
    answers['onnx, preparation workers'] = await prepared.classifyBatch(images, { batchSize: 2 });
    // One image per call, all at once, as a server's concurrent requests are merged.
    answers['onnx, preparation workers, one at a time'] = await Promise.all(images.map((image) => prepared.classify(image)));
    await prepared.dispose();
    const pool = await ClassifierPool.start(bundle, { workers: 2, backend: 'wasm' });
    answers['tfjs pool'] = await pool.classifyBatch(images);
    await pool.close();

    const reference = answers['tfjs cpu']!;
    for (const [engine, results] of Object.entries(answers)) {
      results.forEach((result, i) => {
        const where = `${engine}, ${files[i]}`;
        expect(result.box, where).toEqual(reference[i]!.box);
        expect(result.cellType, where).toBe(reference[i]!.cellType);
        expect(result.reviewReasons, where).toEqual(reference[i]!.reviewReasons);
        for (const [type, probability] of Object.entries(result.probabilities)) {
          expect(Math.abs(probability - reference[i]!.probabilities[type as keyof typeof result.probabilities]), where).toBeLessThan(1e-4);
        }
      });
    }
  }, 600_000);

  it('refuses a bad batch size and a wrong pixel count with ImageInputErrors, in this thread or a worker', async () => {
    await selectBackend({ prefer: 'cpu' });
    for (const prepareWorkers of [0, 1]) {
      const onnx = await loadOnnxClassifier(bundle, { threads: 1, prepareWorkers });
      await expect(onnx.classifyBatch([], { batchSize: 0 })).rejects.toMatchObject({ code: 'BAD_BATCH_SIZE' });
      const broken = { data: new Uint8Array(10), width: 4, height: 4 };
      await expect(onnx.classify(broken)).rejects.toMatchObject({ name: 'ImageInputError', code: 'BAD_PIXEL_COUNT' });
      await onnx.dispose();
    }
  });
});
