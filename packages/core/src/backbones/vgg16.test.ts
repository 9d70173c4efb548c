import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OptionError } from '../errors.js';
import { VGG16_ALL_LAYER_NAMES, VGG16_LAYER_NAMES, vgg16 } from './vgg16.js';

/** Layer names and parameter counts printed by Keras `VGG16(include_top=False).summary()`. */
const KERAS_SUMMARY: [string, number][] = [
  ['block1_conv1', 1792],
  ['block1_conv2', 36928],
  ['block1_pool', 0],
  ['block2_conv1', 73856],
  ['block2_conv2', 147584],
  ['block2_pool', 0],
  ['block3_conv1', 295168],
  ['block3_conv2', 590080],
  ['block3_conv3', 590080],
  ['block3_pool', 0],
  ['block4_conv1', 1180160],
  ['block4_conv2', 2359808],
  ['block4_conv3', 2359808],
  ['block4_pool', 0],
  ['block5_conv1', 2359808],
  ['block5_conv2', 2359808],
  ['block5_conv3', 2359808],
  ['block5_pool', 0],
];

describe('vgg16', () => {
  let base: tfl.LayersModel;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    base = vgg16();
  });

  afterAll(() => base.dispose());

  it('has Keras layer names, order and per-layer parameter counts', () => {
    expect(base.name).toBe('vgg16');
    expect(base.layers[0]?.name).toBe('input_1');
    const summary = base.layers.slice(1).map((layer) => [layer.name, layer.countParams()]);
    expect(summary).toEqual(KERAS_SUMMARY);
    expect(VGG16_ALL_LAYER_NAMES).toEqual(KERAS_SUMMARY.map(([name]) => name));
  });

  it('has 14,714,688 parameters and a 7x7x512 output at 224', () => {
    expect(base.countParams()).toBe(14_714_688);
    expect(base.inputs[0]?.shape).toEqual([null, 224, 224, 3]);
    expect(base.outputs[0]?.shape).toEqual([null, 7, 7, 512]);
  });

  it('names the 13 weighted convolutions, each 3x3 same-padded relu', () => {
    expect(VGG16_LAYER_NAMES).toEqual(
      KERAS_SUMMARY.filter(([, params]) => params > 0).map(([name]) => name),
    );
    for (const name of VGG16_LAYER_NAMES) {
      const config = base.getLayer(name).getConfig();
      expect(config).toMatchObject({
        kernelSize: [3, 3],
        strides: [1, 1],
        padding: 'same',
        activation: 'relu',
        useBias: true,
      });
      expect(base.getLayer(name).weights.map((w) => w.originalName)).toEqual([
        `${name}/kernel`,
        `${name}/bias`,
      ]);
    }
  });

  it('pools 2x2 with stride 2', () => {
    expect(base.getLayer('block3_pool').getConfig()).toMatchObject({
      poolSize: [2, 2],
      strides: [2, 2],
      padding: 'valid',
    });
  });

  it('runs a forward pass at 32x32 to a 1x1x512 feature map', () => {
    const small = vgg16({ inputSize: 32 });
    const features = tf.tidy(() => small.predict(tf.ones([2, 32, 32, 3])) as tf.Tensor);
    expect(features.shape).toEqual([2, 1, 1, 512]);
    features.dispose();
    small.dispose();
  });

  it('rejects input sizes Keras rejects', () => {
    expect(() => vgg16({ inputSize: 16 })).toThrow(OptionError);
    expect(() => vgg16({ inputSize: 100.5 })).toThrow(/at least 32/);
  });
});
