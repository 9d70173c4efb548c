import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { syntheticSmear, tinyBundle, tinyMetadata } from '../../../../test-support/tiny-bundle.js';
import { CELL_TYPES } from '../cell-types.js';
import { BundleError } from '../errors.js';
import { Classifier } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Classifier', () => {
  it('returns plain results whose probabilities sum to 1', async () => {
    const { model, metadata } = tinyBundle();
    const classifier = Classifier.fromModel(model, metadata);
    const result = await classifier.classify(syntheticSmear(40, 30));

    expect(CELL_TYPES).toContain(result.cellType);
    expect(Object.keys(result.probabilities)).toEqual([...CELL_TYPES]);
    const total = Object.values(result.probabilities).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 5);
    expect(result.probability).toBe(Math.max(...Object.values(result.probabilities)));
    expect(result.box).toEqual({ x: 0, y: 0, width: 40, height: 30 });
    expect(result.cellFound).toBe(false);
  });

  it('gives the same answer in a batch as one by one', async () => {
    const { model, metadata } = tinyBundle();
    const classifier = Classifier.fromModel(model, metadata);
    const images = [syntheticSmear(40, 30), syntheticSmear(64, 48), syntheticSmear(33, 33)];
    const batch = await classifier.classifyBatch(images, { batchSize: 2 });
    for (const [i, image] of images.entries()) {
      const single = await classifier.classify(image);
      for (const cellType of CELL_TYPES) {
        expect(batch[i]!.probabilities[cellType]).toBeCloseTo(single.probabilities[cellType], 6);
      }
    }
  });

  it('accepts an image tensor and leaks no tensors over many calls', async () => {
    const { model, metadata } = tinyBundle({ fit: 'cell-crop' });
    const classifier = Classifier.fromModel(model, metadata);
    const pixels = syntheticSmear(64, 48);
    const image = tf.tensor3d(pixels.data, [48, 64, 3], 'int32');
    await classifier.classify(image);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await classifier.classifyBatch([image, pixels]);
    expect(tf.memory().numTensors).toBe(before);
    image.dispose();
  });

  it('applies the bundle temperature and flags low confidence for review', async () => {
    const { model } = tinyBundle();
    const hot = Classifier.fromModel(model, { ...tinyMetadata(), calibration: { temperature: 50, reviewThreshold: 0.9 } });
    const result = await hot.classify(syntheticSmear(40, 30));
    expect(result.probability).toBeLessThan(0.3);
    expect(result.referForReview).toBe(true);
  });

  it('refuses metadata that lies about the input size', () => {
    const { model, metadata } = tinyBundle();
    const lie = { ...metadata, backbone: { ...metadata.backbone, inputSize: 224 } };
    expect(() => Classifier.fromModel(model, lie)).toThrow(BundleError);
    expect(() => Classifier.fromModel(model, lie)).toThrow(/224x224x3/);
  });

  it('refuses a bundle from a newer format and mismatched cell types', () => {
    const { model, metadata } = tinyBundle();
    expect(() => Classifier.fromModel(model, { ...metadata, formatVersion: 99 })).toThrow(/format version 99/);
    expect(() => Classifier.fromModel(model, { ...metadata, cellTypes: ['BASOPHIL'] })).toThrow(/predicts \[BASOPHIL\]/);
    expect(() => Classifier.fromModel(model, { hello: 1 })).toThrow(/not bloodcell bundle metadata/);
  });

  it('rejects a bad batch size with the valid range', async () => {
    const { model, metadata } = tinyBundle();
    const classifier = Classifier.fromModel(model, metadata);
    await expect(classifier.classifyBatch([syntheticSmear(8, 8)], { batchSize: 0 })).rejects.toThrow(/positive integer/);
  });
});
