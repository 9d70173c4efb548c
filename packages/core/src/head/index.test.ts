import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { createHead, HEAD_LAYER, stackBackboneAndHead } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('createHead', () => {
  it('builds Flatten + Dense(4, softmax) by default, as in the original design', () => {
    const head = createHead([7, 7, 8]);
    expect(head.name).toBe(HEAD_LAYER);
    expect(head.layers.map((layer) => layer.getClassName())).toEqual(['Flatten', 'Dense']);
    expect(head.countParams()).toBe(7 * 7 * 8 * 4 + 4);
    expect(head.outputs[0]!.shape).toEqual([null, 4]);
  });

  it('builds the pooled and mlp heads', () => {
    expect(createHead([7, 7, 8], { kind: 'pooled' }).countParams()).toBe(8 * 4 + 4);
    const mlp = createHead([7, 7, 8], { kind: 'mlp' });
    expect(mlp.layers.map((layer) => layer.getClassName())).toEqual(['GlobalAveragePooling2D', 'Dense', 'Dropout', 'Dense']);
  });

  it('outputs probabilities and repeats its initial weights for a seed', () => {
    const a = createHead([2, 2, 3], { seed: 9 });
    const b = createHead([2, 2, 3], { seed: 9 });
    expect(Array.from(a.getWeights()[0]!.dataSync())).toEqual(Array.from(b.getWeights()[0]!.dataSync()));
    const p = a.predict(tf.ones([1, 2, 2, 3])) as tf.Tensor;
    expect(tf.sum(p).dataSync()[0]).toBeCloseTo(1, 5);
  });

  it('names the valid kinds for an unknown one', () => {
    expect(() => createHead([1, 1, 1], { kind: 'svm' as never })).toThrow(/flatten, pooled, mlp/);
  });

  it('stacks onto a base: image in, four probabilities out', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const conv = tfl.layers.conv2d({ filters: 2, kernelSize: 4, strides: 4, name: 'out_relu' }).apply(input) as tfl.SymbolicTensor;
    const model = stackBackboneAndHead(tfl.model({ inputs: input, outputs: conv }), createHead([2, 2, 2]));
    expect(model.outputs[0]!.shape).toEqual([null, 4]);
    expect(model.getLayer(HEAD_LAYER)).toBeDefined();
  });
});
