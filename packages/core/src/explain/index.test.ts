import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { syntheticSmear, tinyBundle } from '../../../../test-support/tiny-bundle.js';
import { Classifier } from '../classifier/index.js';
import { explainClassification } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('explainClassification', () => {
  it('gives a feature-map grid in [0, 1] with its maximum at 1, for the predicted type by default', async () => {
    const { model, metadata } = tinyBundle({ seed: 4 });
    const classifier = Classifier.fromModel(model, metadata);
    const { result, activation } = await explainClassification(classifier, syntheticSmear(48, 40));
    expect(activation.cellType).toBe(result.cellType);
    expect(activation.grid).toHaveLength(4);
    expect(activation.grid[0]).toHaveLength(4);
    const values = activation.grid.flat();
    expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(Math.max(...values)).toBeCloseTo(1, 6);
    expect(activation.box).toEqual(result.box);
  });

  it('splits each logit exactly: the terms of two classes differ as their log-probabilities do', async () => {
    const { model, metadata } = tinyBundle({ seed: 5 });
    const classifier = Classifier.fromModel(model, metadata);
    const image = syntheticSmear(48, 40);
    const bias = classifier.head.getLayer('cell_type').getWeights()[1]!.dataSync();
    const monocyte = await explainClassification(classifier, image, 'MONOCYTE');
    const neutrophil = await explainClassification(classifier, image, 'NEUTROPHIL');
    const logit = (terms: number[][], k: number) => terms.flat().reduce((a, b) => a + b, 0) + bias[k]!;
    const { probabilities } = monocyte.result;
    expect(logit(monocyte.activation.contributions, 2) - logit(neutrophil.activation.contributions, 3)).toBeCloseTo(
      Math.log(probabilities.MONOCYTE) - Math.log(probabilities.NEUTROPHIL),
      4,
    );
  });

  it('leaks no tensors and names valid cell types on a bad one', async () => {
    const { model, metadata } = tinyBundle();
    const classifier = Classifier.fromModel(model, metadata);
    await explainClassification(classifier, syntheticSmear(40, 40), 'MONOCYTE');
    const before = tf.memory().numTensors;
    await explainClassification(classifier, syntheticSmear(40, 40), 'MONOCYTE');
    expect(tf.memory().numTensors).toBe(before);
    await expect(explainClassification(classifier, syntheticSmear(8, 8), 'BASOPHIL' as never)).rejects.toThrow(/EOSINOPHIL, LYMPHOCYTE/);
  });
});
