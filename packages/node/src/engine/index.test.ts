import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ClassifyResult } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { syntheticSmear, tinyBundle } from '../../../../test-support/tiny-bundle.js';
import { writeBundle } from '../bundle-store/index.js';
import { type InferenceEngine, openClassifier } from './index.js';

let work: string;
let bundle: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = await mkdtemp(join(tmpdir(), 'bloodcell-engine-'));
  bundle = join(work, 'model');
  const { model, metadata } = tinyBundle({ seed: 6, fit: 'cell-crop' });
  await writeBundle(bundle, model, metadata);
});

afterAll(() => rm(work, { recursive: true, force: true }));

describe('openClassifier', () => {
  it('gives the same answers on onnx, onnx with preparation workers, tfjs and a tfjs pool', async () => {
    const images = [syntheticSmear(64, 48), syntheticSmear(48, 64)];
    // A tensor among pixels: prepared on this thread even when there are preparation workers.
    const tensor = tf.tensor3d(Float32Array.from(images[0]!.data), [48, 64, 3]);
    const answers: ClassifyResult[][] = [];
    const engines = [
      { engine: 'tfjs' },
      { engine: 'onnx' },
      { engine: 'onnx', prepareWorkers: 1 },
      { engine: 'tfjs', workers: 2 },
    ] as const;
    for (const options of engines) {
      const classifier = await openClassifier(bundle, { ...options, backend: 'cpu' });
      expect(classifier.engine).toBe(options.engine);
      answers.push([...(await classifier.classifyBatch(images)), ...(await classifier.classifyBatch([tensor, images[1]!]))]);
      expect(classifier.tfjsClassifier !== undefined, JSON.stringify(options)).toBe(options.engine === 'tfjs' && !('workers' in options));
      await classifier.close();
    }
    tensor.dispose();
    for (const results of answers.slice(1)) {
      results.forEach((result, i) => {
        expect(result.box).toEqual(answers[0]![i]!.box);
        for (const [type, p] of Object.entries(result.probabilities)) {
          expect(p).toBeCloseTo(answers[0]![i]!.probabilities[type as keyof typeof result.probabilities], 5);
        }
      });
    }
  });

  it('names the valid engines and worker counts when given others', async () => {
    await expect(openClassifier(bundle, { engine: 'gpu' as InferenceEngine })).rejects.toThrow(/valid choices: onnx, tfjs/);
    await expect(openClassifier(bundle, { workers: -1 })).rejects.toMatchObject({ code: 'BAD_WORKERS' });
    await expect(openClassifier(bundle, { engine: 'onnx', prepareWorkers: -1, backend: 'cpu' })).rejects.toMatchObject({
      code: 'BAD_PREPARE_WORKERS',
    });
  });
});
