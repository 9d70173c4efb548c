import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { decodeImage, loadClassifier, selectBackend } from '@bloodcell/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GROUPS_CSV, HAS_SHARED, MOBILENET_DIR, SHARED_MISSING, TRAIN_DIR } from '../../../test-support/shared.js';
import { trainBundle, type TrainResult } from '../src/train/index.js';

function baseOptions(work: string) {
  return {
    dataDir: TRAIN_DIR,
    groupsCsv: GROUPS_CSV,
    baseModelDir: MOBILENET_DIR,
    outDir: join(work, 'unused'),
    cacheDir: join(work, 'cache'),
    maxPerGroup: 2,
  };
}

describe.skipIf(!HAS_SHARED)(`training on real images (${HAS_SHARED ? 'shared data found' : SHARED_MISSING})`, () => {
  let work: string;
  let result: TrainResult;

  beforeAll(async () => {
    await selectBackend();
    work = await mkdtemp(join(tmpdir(), 'bloodcell-train-'));
    // Two images per field group: ~500 images, every group still on one side of the split.
    result = await trainBundle({
      dataDir: TRAIN_DIR,
      groupsCsv: GROUPS_CSV,
      baseModelDir: MOBILENET_DIR,
      outDir: join(work, 'model'),
      cacheDir: join(work, 'cache'),
      maxPerGroup: 2,
      seed: 7,
    });
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('beats chance (0.25) by a clear margin on held-out field groups', () => {
    const { validation, training } = result.metadata;
    expect(training.trainImages + training.validationImages).toBeGreaterThan(400);
    expect(validation.images).toBeGreaterThan(50);
    expect(validation.balancedAccuracy).toBeGreaterThan(0.45);
  });

  it('records the split, calibration and fingerprint in the bundle', () => {
    const { training, calibration } = result.metadata;
    expect(training.validationGroups.length).toBeGreaterThan(10);
    expect(training.dataFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(calibration.temperature).toBeGreaterThan(0);
  });

  it('reuses cached features on a second run', async () => {
    const again = await trainBundle({
      dataDir: TRAIN_DIR,
      groupsCsv: GROUPS_CSV,
      baseModelDir: MOBILENET_DIR,
      outDir: join(work, 'model-again'),
      cacheDir: join(work, 'cache'),
      maxPerGroup: 2,
      seed: 7,
      epochs: 2,
    });
    expect(again.metadata.training.dataFingerprint).toBe(result.metadata.training.dataFingerprint);
    expect(again.timings.features!).toBeLessThan(result.timings.features!);
  });

  it('skips a re-run with nothing changed, and retrains when forced or when a setting changes', async () => {
    const options = {
      dataDir: TRAIN_DIR, groupsCsv: GROUPS_CSV, baseModelDir: MOBILENET_DIR,
      outDir: join(work, 'model'), cacheDir: join(work, 'cache'), maxPerGroup: 2, seed: 7,
    };
    const same = await trainBundle(options);
    expect(same.upToDate).toBe(true);
    expect(same.timings.features).toBeUndefined();
    expect(same.metadata.training.createdAt).toBe(result.metadata.training.createdAt);

    const forced = await trainBundle({ ...options, outDir: join(work, 'model-forced'), force: true, epochs: 1 });
    expect(forced.upToDate).toBe(false);
    const changed = await trainBundle({ ...options, outDir: join(work, 'model-forced'), epochs: 2 });
    expect(changed.upToDate).toBe(false);
    expect(changed.metadata.training.inputs).not.toBe(forced.metadata.training.inputs);
  });

  it('adds a training view of each crop, cached apart, and records it', async () => {
    const viewed = await trainBundle({
      dataDir: TRAIN_DIR,
      groupsCsv: GROUPS_CSV,
      baseModelDir: MOBILENET_DIR,
      outDir: join(work, 'model-views'),
      cacheDir: join(work, 'cache'),
      maxPerGroup: 2,
      seed: 7,
      views: ['mirror'],
    });
    expect(viewed.metadata.training.views).toEqual(['mirror']);
    expect(viewed.metadata.training.trainImages).toBe(result.metadata.training.trainImages);
    expect(viewed.metadata.validation.balancedAccuracy).toBeGreaterThan(0.45);
    await expect(trainBundle({ ...baseOptions(work), head: 'flatten', views: ['mirror'] })).rejects.toThrow(/pooled head/);
  });

  it('loads the written bundle and classifies a real image without leaking tensors', async () => {
    const classifier = await loadClassifier(join(work, 'model'));
    const image = await decodeImage(join(TRAIN_DIR, 'LYMPHOCYTE', '_0_1063.jpeg'));
    const first = await classifier.classify(image);
    const tensorsAfterFirst = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) await classifier.classify(image);
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);

    const sum = Object.values(first.probabilities).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 5);
    expect(first.box.width).toBeGreaterThan(0);
    classifier.dispose();
  });
});
