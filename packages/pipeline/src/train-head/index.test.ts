import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { seededRandom } from '../random/index.js';
import { predictHead, trainHead } from './index.js';

const SHAPE = [2, 2, 3] as const;
const LENGTH = 12;

/** Separable synthetic features: class k lights up feature k (plus noise). */
function features(count: number, seed: number) {
  const random = seededRandom(seed);
  const values = new Float32Array(count * LENGTH);
  const labels = Array.from({ length: count }, (_, i) => i % 4);
  labels.forEach((label, i) => {
    for (let j = 0; j < LENGTH; j++) values[i * LENGTH + j] = random() * 0.5 + (j === label ? 2 : 0);
  });
  return { features: values, labels };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('trainHead', () => {
  it('learns separable features', async () => {
    const trained = await trainHead(features(200, 1), features(80, 2), { featureShape: SHAPE, seed: 3, epochs: 15, learningRate: 0.05 });
    expect(trained.history[trained.bestEpoch]!.validationAccuracy).toBeGreaterThan(0.95);
    expect(trained.validationProbabilities).toHaveLength(80);
  });

  it('stops once validation loss has not improved for `patience` epochs and keeps the best', async () => {
    // Validation labels unrelated to the features: validation loss rises as training fits.
    const noise = { ...features(80, 2), labels: Array.from({ length: 80 }, (_, i) => (i * 7) % 4) };
    const trained = await trainHead(features(200, 1), noise, { featureShape: SHAPE, seed: 3, epochs: 60, patience: 3, learningRate: 0.05 });
    const best = trained.history[trained.bestEpoch]!;
    expect(trained.history.length).toBeLessThan(60);
    expect(trained.history.at(-1)!.epoch - trained.bestEpoch).toBe(3);
    expect(Math.min(...trained.history.map((epoch) => epoch.validationLoss))).toBe(best.validationLoss);
  });

  it('trains a pooled head on pooled rows that answers the same on the full feature maps', async () => {
    const validation = features(40, 2);
    const trained = await trainHead(features(200, 1), validation, { featureShape: SHAPE, kind: 'pooled', seed: 3, epochs: 5 });
    expect(trained.head.inputs[0]!.shape).toEqual([null, ...SHAPE]);
    const full = predictHead(trained.head, validation.features, LENGTH, SHAPE);
    full.forEach((row, i) => row.forEach((p, k) => expect(p).toBeCloseTo(trained.validationProbabilities[i]![k]!, 5)));
  });

  it('repeats exactly for a seed', async () => {
    const options = { featureShape: SHAPE, seed: 5, epochs: 3 } as const;
    const a = await trainHead(features(64, 1), features(16, 2), options);
    const b = await trainHead(features(64, 1), features(16, 2), options);
    expect(b.validationProbabilities).toEqual(a.validationProbabilities);
  });

  it('predicts in batches without leaking tensors', async () => {
    const { head } = await trainHead(features(32, 1), features(8, 2), { featureShape: SHAPE, epochs: 1 });
    const before = tf.memory().numTensors;
    const rows = predictHead(head, features(10, 3).features, LENGTH, SHAPE, 4);
    expect(rows).toHaveLength(10);
    expect(tf.memory().numTensors).toBe(before);
  });
});
