import '@tensorflow/tfjs-backend-cpu';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { selectBackend } from '../backend/index.js';
import { onnxRuntimeAvailable } from '../onnx-runtime/index.js';
import { openBackboneRunner } from './index.js';

/** A small convolutional backbone, deterministic weights: [n, 16, 16, 3] -> [n, 4, 4, 8]. */
function smallBackbone(): tfl.LayersModel {
  const input = tfl.input({ shape: [16, 16, 3] });
  const conv = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'conv' });
  const pool = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' });
  const model = tfl.model({ inputs: input, outputs: pool.apply(conv.apply(input)) as tfl.SymbolicTensor });
  const [kernel, bias] = conv.getWeights();
  conv.setWeights([
    tf.tensor(Float32Array.from({ length: kernel!.size }, (_, i) => Math.sin(i) / 4), kernel!.shape),
    tf.tensor(Float32Array.from({ length: bias!.size }, (_, i) => i / 100), bias!.shape),
  ]);
  return model;
}

const HAS_ONNX_RUNTIME = await onnxRuntimeAvailable();

const inputs = (count: number) => Float32Array.from({ length: count * 16 * 16 * 3 }, (_, i) => Math.cos(i / 7));

describe('openBackboneRunner', () => {
  beforeAll(() => selectBackend({ prefer: 'cpu' }));

  it('runs a backbone on TF.js and returns [n, h, w, c] features', async () => {
    const backbone = smallBackbone();
    const runner = await openBackboneRunner(backbone, { engine: 'tfjs' });
    const features = await runner.run(inputs(2), 2);

    expect(runner.featureShape).toEqual([4, 4, 8]);
    expect(features.length).toBe(2 * 4 * 4 * 8);
    const expected = tf.tidy(() => (backbone.predict(tf.tensor4d(inputs(2), [2, 16, 16, 3])) as tf.Tensor).dataSync());
    expect(Array.from(features)).toEqual(Array.from(expected));
  });

  it.runIf(HAS_ONNX_RUNTIME)('gives the same features on ONNX Runtime to 1e-5', async () => {
    const backbone = smallBackbone();
    const onnx = await openBackboneRunner(backbone, { engine: 'onnx', threads: 1 });
    const tfjs = await openBackboneRunner(backbone, { engine: 'tfjs' });
    try {
      const [a, b] = [await onnx.run(inputs(3), 3), await tfjs.run(inputs(3), 3)];
      expect(a.length).toBe(b.length);
      expect(Math.max(...Array.from(a, (value, i) => Math.abs(value - b[i]!)))).toBeLessThan(1e-5);
      expect(Math.max(...b)).toBeGreaterThan(0.1);
    } finally {
      await onnx.close();
    }
  });

  it('names the valid engines and refuses a backbone without image outputs', async () => {
    await expect(openBackboneRunner(smallBackbone(), { engine: 'gpu' as 'onnx' })).rejects.toThrow(/valid choices: onnx, tfjs/);
    const dense = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [4] })] });
    await expect(openBackboneRunner(dense, { engine: 'tfjs' })).rejects.toThrow(/fixed \[n, h, w, 3\] inputs/);
  });
});
