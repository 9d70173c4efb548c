import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { BundleError } from '../errors.js';
import { cutAtLayer } from './cut.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Like a Teachable Machine export: Sequential(Sequential(Model(... out_relu ...)), head). */
function nestedExport(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3], name: 'input_1' });
  const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }).apply(input);
  const relu = tfl.layers.reLU({ maxValue: 6, name: 'out_relu' }).apply(conv) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(relu) as tfl.SymbolicTensor;
  const base = tfl.model({ inputs: input, outputs: pooled, name: 'model1' });
  const wrapper = tfl.sequential({ name: 'sequential_1', layers: [base] });
  const head = tfl.sequential({ name: 'sequential_3', layers: [tfl.layers.dense({ units: 2, inputShape: [4] })] });
  return tfl.sequential({ layers: [wrapper, head] });
}

describe('cutAtLayer', () => {
  it('finds the layer inside nested models and returns the base up to it', () => {
    const base = cutAtLayer(nestedExport(), 'out_relu');
    expect(base.outputs[0]!.shape).toEqual([null, 8, 8, 4]);
    const out = base.predict(tf.ones([1, 8, 8, 3])) as tf.Tensor;
    expect(Math.max(...out.dataSync())).toBeLessThanOrEqual(6);
  });

  it('names the top-level layers when the layer is missing', () => {
    expect(() => cutAtLayer(nestedExport(), 'block_16_project')).toThrow(BundleError);
    expect(() => cutAtLayer(nestedExport(), 'block_16_project')).toThrow(/sequential_1, sequential_3/);
  });
});
