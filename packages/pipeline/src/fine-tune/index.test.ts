import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { applyLastConv, fineTuneLastConv, LAST_CONV, lastConvOf, setLastConvKernel } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The tail of MobileNetV2 in miniature: 2x2 positions, 3 channels in, 5 out. */
function tail(): tfl.LayersModel {
  const input = tfl.input({ shape: [2, 2, 3] });
  const bn = tfl.layers.batchNormalization({ name: LAST_CONV.input }).apply(input);
  const conv = tfl.layers.conv2d({ filters: 5, kernelSize: 1, useBias: false, name: LAST_CONV.conv, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(bn);
  const norm = tfl.layers.batchNormalization({ name: LAST_CONV.norm, epsilon: 1e-3 });
  const normed = norm.apply(conv);
  const relu = tfl.layers.reLU({ maxValue: 6, name: 'out_relu' }).apply(normed) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: relu });
  norm.setWeights([tf.tensor1d([1, 2, 0.5, 1, 3]), tf.tensor1d([0.1, -0.2, 0, 0.3, 0]), tf.tensor1d([0.5, 0, -0.5, 0, 1]), tf.tensor1d([1, 4, 0.25, 1, 2])]);
  return model;
}

describe('fine-tuning the last convolution', () => {
  it('computes out_relu exactly from block_16_project_BN features', () => {
    const model = tail();
    const x = tf.randomNormal([1, 2, 2, 3], 0, 2, 'float32', 3);
    const intermediate = tfl.model({ inputs: model.inputs, outputs: model.getLayer(LAST_CONV.input).output as tfl.SymbolicTensor });
    const rows = tf.reshape(intermediate.predict(x) as tf.Tensor, [4, 3]) as tf.Tensor2D;
    const last = lastConvOf(model);
    const ours = applyLastConv(rows, last.kernel, last).dataSync();
    const theirs = (model.predict(x) as tf.Tensor).dataSync();
    ours.forEach((value, i) => expect(value).toBeCloseTo(theirs[i]!, 4));
  });

  it('writes a tuned kernel back into the model', () => {
    const model = tail();
    setLastConvKernel(model, tf.ones([3, 5]) as tf.Tensor2D);
    expect(Array.from(model.getLayer(LAST_CONV.conv).getWeights()[0]!.dataSync())).toEqual(new Array(15).fill(1));
  });

  it('learns separable classes, keeps the best epoch and repeats for a seed', async () => {
    const make = (count: number, offset: number) => {
      const features = new Float32Array(count * 4 * 3);
      const labels = Array.from({ length: count }, (_, i) => (i + offset) % 4);
      labels.forEach((label, i) => {
        for (let p = 0; p < 4; p++) features[(i * 4 + p) * 3 + (label % 3)] = label === 3 ? 0 : 3;
      });
      return { features, labels };
    };
    const options = { positions: 4, channels: 3, headShape: [2, 2, 5] as const, epochs: 25, learningRate: 0.05, seed: 2 };
    const a = await fineTuneLastConv(make(64, 0), make(32, 1), lastConvOf(tail()), options);
    const b = await fineTuneLastConv(make(64, 0), make(32, 1), lastConvOf(tail()), options);
    expect(a.history[a.bestEpoch]!.validationAccuracy).toBeGreaterThan(0.9);
    expect(b.validationProbabilities).toEqual(a.validationProbabilities);
    expect(a.head.inputs[0]!.shape).toEqual([null, 2, 2, 5]);
    expect(a.kernel.shape).toEqual([3, 5]);
  });
});
