import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BundleError, VGG16_LAYER_NAMES, vgg16 } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { knownLayers, knownValue, knownValues, rejection, writeKerasH5 } from './keras-fixtures.js';
import type { FixtureLayer } from './keras-fixtures.js';
import { loadKerasH5Weights, loadVgg16 } from './index.js';

let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'bloodcell-keras-weights-'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('loadVgg16 from a Keras notop .h5', () => {
  let path: string;

  beforeAll(async () => {
    // The real notop file names weights Keras-1 style, e.g. block1_conv1/block1_conv1_W_1:0.
    const keras1 = (layer: string, role: string): string =>
      `${layer}_${role === 'kernel' ? 'W' : 'b'}_1:0`;
    const template = vgg16({ inputSize: 32 });
    const layers = knownLayers(template, keras1);
    template.dispose();
    // Bias before kernel in every other layer: pairing must go by name, not position.
    layers.forEach((layer, i) => i % 2 && layer.weights.reverse());
    path = join(dir, 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5');
    await writeKerasH5(path, layers);
  });

  it('puts every kernel and bias of the 13 convolutions in place', async () => {
    const base = await loadVgg16({ h5: path }, { inputSize: 32 });

    VGG16_LAYER_NAMES.forEach((name, i) => {
      const [kernel, bias] = base.getLayer(name).getWeights();
      const kernelValues = kernel!.dataSync();
      const n = kernelValues.length;
      for (const e of [0, 1, 2, 1020, 1021, 1022, n >> 1, n - 2, n - 1, (n * 0.37) | 0]) {
        expect(kernelValues[e], `${name} kernel[${e}]`).toBe(knownValue(i + 1, 0, e));
      }
      expect(bias!.dataSync(), `${name} bias`).toEqual(knownValues(i + 1, 1, bias!.size));
    });

    const features = tf.tidy(() => base.predict(tf.ones([1, 32, 32, 3])) as tf.Tensor);
    expect(features.shape).toEqual([1, 1, 1, 512]);
    features.dispose();
    base.dispose();
  });

  it('reports the loaded layers and leaves no tensor behind', async () => {
    const base = vgg16({ inputSize: 32 });
    const before = tf.memory().numTensors;

    const report = await loadKerasH5Weights(base, path, { strict: true });

    expect(report).toEqual({ loaded: [...VGG16_LAYER_NAMES], skipped: [] });
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });
});

describe('loadKerasH5Weights', () => {
  /** A small model whose batch-norm weights all share one shape, so only names can pair them. */
  function smallModel(): tfl.LayersModel {
    const input = tfl.input({ shape: [4, 4, 2], name: 'image' });
    const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 3, name: 'conv' }).apply(input);
    const norm = tfl.layers.batchNormalization({ name: 'norm' }).apply(conv);
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(norm);
    const dense = tfl.layers.dense({ units: 2, name: 'dense' }).apply(flat);
    return tfl.model({ inputs: input, outputs: dense as tfl.SymbolicTensor });
  }

  /** Keras 2 names (`conv/kernel:0`); the file also holds a layer the model lacks. */
  function smallLayers(model: tfl.LayersModel): FixtureLayer[] {
    const layers = knownLayers(model, (layer, role) => `${layer}/${role}:0`);
    const norm = layers.find((layer) => layer.name === 'norm')!;
    norm.weights = [norm.weights[1]!, norm.weights[3]!, norm.weights[0]!, norm.weights[2]!];
    const oldBias = { name: 'old_head/bias:0', shape: [2], values: new Float32Array([7, 8]) };
    return [...layers, { name: 'old_head', weights: [oldBias] }];
  }

  it('reads full-model files under /model_weights and pairs weights by name', async () => {
    const model = smallModel();
    const path = join(dir, 'small-full-model.h5');
    await writeKerasH5(path, smallLayers(model), { fullModel: true });

    const report = await loadKerasH5Weights(model, path);

    expect(report).toEqual({ loaded: ['conv', 'norm', 'dense'], skipped: ['old_head'] });
    model.layers
      .filter((layer) => layer.weights.length > 0)
      .forEach((layer, l) => {
        layer.getWeights().forEach((weight, w) => {
          expect(weight.dataSync(), `${layer.name} weight ${w}`).toEqual(
            knownValues(l + 1, w, weight.size),
          );
        });
      });
    model.dispose();
  });

  it('takes the file as bytes', async () => {
    const model = smallModel();
    const path = join(dir, 'small-bytes.h5');
    await writeKerasH5(path, smallLayers(model));

    const report = await loadKerasH5Weights(model, new Uint8Array(await readFile(path)));

    expect(report.loaded).toEqual(['conv', 'norm', 'dense']);
    expect(model.getLayer('dense').getWeights()[1]!.dataSync()[1]).toBe(knownValue(3, 1, 1));
    model.dispose();
  });

  it('refuses layers the model lacks when strict', async () => {
    const model = smallModel();
    const path = join(dir, 'small-strict.h5');
    await writeKerasH5(path, smallLayers(model));

    const error = await rejection(loadKerasH5Weights(model, path, { strict: true }));

    expect(error.code).toBe('H5_EXTRA_LAYERS');
    expect(error.message).toContain('old_head');
    model.dispose();
  });

  it('names missing layers and lists what the file has', async () => {
    const model = smallModel();
    const path = join(dir, 'small-missing.h5');
    await writeKerasH5(path, smallLayers(model).filter((layer) => layer.name !== 'norm'));

    const error = await rejection(loadKerasH5Weights(model, path));

    expect(error.code).toBe('H5_MISSING_LAYERS');
    expect(error.message).toMatch(/model layer\(s\) norm\b/);
    expect(error.message).toContain('Its weighted layers are: conv, dense, old_head');
    model.dispose();
  });

  it('names the layer and both shapes on a mismatch, before writing any weight', async () => {
    const model = smallModel();
    const layers = smallLayers(model);
    const dense = layers.find((layer) => layer.name === 'dense')!;
    dense.weights[0] = { ...dense.weights[0]!, shape: [6, 1], values: new Float32Array(6) };
    const path = join(dir, 'small-shape.h5');
    await writeKerasH5(path, layers);
    const convBefore = model.getLayer('conv').getWeights()[0]!.dataSync().slice();

    const error = await rejection(loadKerasH5Weights(model, path));

    expect(error.code).toBe('H5_SHAPE_MISMATCH');
    expect(error.message).toContain("Layer 'dense'");
    expect(error.message).toContain('[12, 2] in the model');
    expect(error.message).toContain('has [6, 1]');
    expect(model.getLayer('conv').getWeights()[0]!.dataSync()).toEqual(convBefore);
    model.dispose();
  });

  it('reads float64 weights and refuses integer ones', async () => {
    const model = smallModel();
    const layers = smallLayers(model);
    const dense = layers.find((layer) => layer.name === 'dense')!;
    const bias = { ...dense.weights[1]!, values: new Float64Array([0.25, -1.5]), dtype: '<d' };
    dense.weights[1] = bias;
    const float64 = join(dir, 'small-float64.h5');
    await writeKerasH5(float64, layers);
    dense.weights[1] = { ...bias, values: new Int32Array([1, 2]), dtype: '<i' };
    const int32 = join(dir, 'small-int32.h5');
    await writeKerasH5(int32, layers);

    await loadKerasH5Weights(model, float64);
    const error = await rejection(loadKerasH5Weights(model, int32));

    expect(model.getLayer('dense').getWeights()[1]!.dataSync()).toEqual(
      new Float32Array([0.25, -1.5]),
    );
    expect(error.code).toBe('H5_BAD_DTYPE');
    expect(error.message).toContain("'dense/bias:0' of layer 'dense'");
    model.dispose();
  });

  it('says plainly when the file is not HDF5, not there, or not Keras', async () => {
    const model = smallModel();
    const text = join(dir, 'not-weights.h5');
    await writeFile(text, 'these are not the weights you are looking for');
    const bare = join(dir, 'bare.h5');
    const h5wasm = (await import('h5wasm/node')).default;
    await h5wasm.ready;
    new h5wasm.File(bare, 'w').close();

    expect((await rejection(loadKerasH5Weights(model, text))).code).toBe('H5_NOT_HDF5');
    expect((await rejection(loadKerasH5Weights(model, text))).message).toMatch(/not an HDF5/);
    expect((await rejection(loadKerasH5Weights(model, join(dir, 'nope.h5')))).code).toBe(
      'H5_NOT_FOUND',
    );
    expect((await rejection(loadKerasH5Weights(model, bare))).code).toBe('H5_NOT_KERAS');
    model.dispose();
  });
});
