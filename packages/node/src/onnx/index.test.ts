import '@tensorflow/tfjs-backend-cpu';
import { vgg16 } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';

import { tinyBundle } from '../../../../test-support/tiny-bundle.js';
import { layersModelToOnnx } from './index.js';
import { ProtoMessage, varint } from './protobuf.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs `model` in TF.js and, converted, in ONNX Runtime on the same input; returns both outputs. */
async function bothWays(model: tfl.LayersModel, input: tf.Tensor): Promise<[Float32Array, Float32Array]> {
  const session = await ort.InferenceSession.create(layersModelToOnnx(model));
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input.dataSync() as Float32Array, input.shape) };
  const onnx = (await session.run(feeds))[session.outputNames[0]!]!.data as Float32Array;
  const expected = tf.tidy(() => (model.predict(input) as tf.Tensor).dataSync() as Float32Array);
  await session.release();
  return [onnx, expected];
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((most, value, i) => Math.max(most, Math.abs(value - b[i]!)), 0);
}

describe('protobuf writer', () => {
  it('writes varints, negative ones as ten bytes', () => {
    expect([...varint(1)]).toEqual([1]);
    expect([...varint(300)]).toEqual([0xac, 0x02]);
    expect(varint(-1).length).toBe(10);
  });

  it('writes the fields of a message with their wire types', () => {
    const inner = new ProtoMessage().int(1, 150);
    const bytes = new ProtoMessage().string(2, 'hi').message(3, inner).float(4, 1).encode();
    expect([...bytes]).toEqual([0x12, 2, 0x68, 0x69, 0x1a, 3, 0x08, 0x96, 0x01, 0x25, 0, 0, 0x80, 0x3f]);
  });
});

describe('layersModelToOnnx', () => {
  it('matches TF.js on a model with every supported layer class', async () => {
    const input = tfl.input({ shape: [12, 12, 3] });
    const init = { kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) };
    let x = tfl.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, useBias: false, ...init }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ epsilon: 1e-3 }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reLU({ maxValue: 6 }).apply(x) as tfl.SymbolicTensor;
    const side = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2 }).apply(x) as tfl.SymbolicTensor;
    const sideBn = tfl.layers.batchNormalization().apply(side) as tfl.SymbolicTensor;
    const wide = tfl.layers.conv2d({ filters: 16, kernelSize: 1, activation: 'relu', ...init }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.add().apply([sideBn, wide]) as tfl.SymbolicTensor;
    x = tfl.layers.multiply().apply([x, wide]) as tfl.SymbolicTensor;
    x = tfl.layers.activation({ activation: 'tanh' }).apply(x) as tfl.SymbolicTensor;
    const pooled = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
    const averaged = tfl.layers.averagePooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.concatenate().apply([pooled, averaged]) as tfl.SymbolicTensor;
    const global = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten().apply(tfl.layers.dropout({ rate: 0.5 }).apply(x)) as tfl.SymbolicTensor;
    const joined = tfl.layers.concatenate().apply([global, flat]) as tfl.SymbolicTensor;
    const normalised = tfl.layers.batchNormalization().apply(joined) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 4, activation: 'softmax', ...init }).apply(normalised) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    // Non-trivial statistics, so that folding BatchNormalization is really tested.
    for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      layer.setWeights(layer.getWeights().map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, 1.5, 'float32', i)));
    }

    const [onnx, expected] = await bothWays(model, tf.randomUniform([3, 12, 12, 3], -1, 1, 'float32', 2));
    expect(maxDifference(onnx, expected)).toBeLessThan(1e-5);
  });

  it('keeps channels-last image outputs, a free batch size and nested Sequential heads', async () => {
    const { model } = tinyBundle({ seed: 4 });
    const bytes = layersModelToOnnx(model, { pooledOutputs: [{ name: 'pooled', layer: 'out_relu' }] });
    const session = await ort.InferenceSession.create(bytes);
    expect(session.outputNames).toEqual([model.outputNames[0], 'pooled']);

    const input = tf.randomUniform([5, 32, 32, 3], -1, 1, 'float32', 5);
    const outputs = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input.dataSync() as Float32Array, input.shape) });
    const features = model.getLayer('out_relu').output as tfl.SymbolicTensor;
    const backbone = tfl.model({ inputs: model.inputs, outputs: features });
    const pooled = tf.mean(backbone.predict(input) as tf.Tensor, [1, 2]).dataSync() as Float32Array;
    expect(maxDifference(outputs.pooled!.data as Float32Array, pooled)).toBeLessThan(1e-5);
    expect(outputs.pooled!.dims).toEqual([5, 4]);

    const [onnx, expected] = await bothWays(backbone, input);
    expect(maxDifference(onnx, expected)).toBeLessThan(1e-5);
  });

  it('converts VGG16 (64x64) to the same features', async () => {
    const model = vgg16({ inputSize: 64 });
    const [onnx, expected] = await bothWays(model, tf.randomUniform([1, 64, 64, 3], -100, 100, 'float32', 6));
    expect(onnx.length).toBe(2 * 2 * 512);
    expect(maxDifference(onnx, expected)).toBeLessThan(1e-4);
  });

  it('refuses a layer class it cannot write, naming the supported ones', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const output = tfl.layers.upSampling2d({ size: [2, 2] }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    expect(() => layersModelToOnnx(model)).toThrow(/UpSampling2D is not supported\. Supported layer classes: Conv2D/);
  });
});
