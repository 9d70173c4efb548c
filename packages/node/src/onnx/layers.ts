import { BloodcellError } from '@bloodcell/core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { type GraphBuilder, type KerasValue, layoutOf } from './graph.js';

/** A layer's config as `getConfig()` returns it (camelCase keys). */
export type LayerConfig = Record<string, unknown>;

/** What one layer's converter receives. */
export interface LayerCall {
  builder: GraphBuilder;
  layer: tfl.layers.Layer;
  className: string;
  config: LayerConfig;
  inputs: readonly KerasValue[];
  /** Unique path of the layer (nested models prefix their name), used for ONNX names. */
  name: string;
  /** How many layers or graph outputs read this layer's output. */
  consumers: number;
}

/** Layer classes the converter writes to ONNX; anything else is refused by name. */
export const SUPPORTED_LAYERS = [
  'Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'ReLU', 'Activation', 'Softmax', 'Add',
  'Multiply', 'Concatenate', 'ZeroPadding2D', 'MaxPooling2D', 'AveragePooling2D',
  'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten', 'Dense', 'Dropout', 'SpatialDropout2D',
] as const;

/** Keras activation names and the ONNX op written for each; `Clip6` is Clip(0, 6). */
const ACTIVATIONS: Record<string, string | undefined> = {
  linear: undefined,
  relu: 'Relu',
  relu6: 'Clip6',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
};

/**
 * Writes one Keras layer into the graph; returns the value standing for its output.
 *
 * @throws BloodcellError ONNX_UNSUPPORTED_LAYER for a class or setting with no ONNX mapping here.
 * @example
 * const out = convertLayer({ builder, layer, className: 'ReLU', config, inputs: [x], name: 'relu', consumers: 1 });
 */
export function convertLayer(call: LayerCall): KerasValue {
  const { builder: b, config, name } = call;
  const input = call.inputs[0]!;
  switch (call.className) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
      return convolution(call);
    case 'BatchNormalization':
      return batchNormalization(call);
    case 'ZeroPadding2D': {
      const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
      return { kind: 'pad', source: input, pads: [top, left, bottom, right], name };
    }
    case 'ReLU': {
      const max = config.maxValue as number | null | undefined;
      const x = b.materialise(input);
      return tensor(max == null ? b.node('Relu', [x], name) : b.clip(x, name, max), layoutOf(input));
    }
    case 'Activation':
      return tensor(b.activate(activation(call), b.materialise(input), name), layoutOf(input));
    case 'Softmax':
      return tensor(b.node('Softmax', [b.materialise(input)], name, { axis: channelAxis(call, config.axis) }), layoutOf(input));
    case 'Add':
    case 'Multiply':
      return elementwise(call, call.className === 'Add' ? 'Add' : 'Mul');
    case 'Concatenate': {
      const axis = channelAxis(call, config.axis);
      return tensor(b.node('Concat', call.inputs.map((v) => b.materialise(v)), name, { axis }), layoutOf(input));
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return pooling(call);
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      const op = call.className === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool';
      const pooled = b.node(op, [b.materialise(input)], `${name}/pool`);
      return tensor(b.node('Flatten', [pooled], name, { axis: 1 }), 'flat');
    }
    case 'Flatten': {
      if (layoutOf(input) === 'flat') return input;
      // Keras flattens channels-last, so go back to NHWC first to keep the feature order.
      const nhwc = b.node('Transpose', [b.materialise(input)], `${name}/nhwc`, { perm: [0, 2, 3, 1] });
      return tensor(b.node('Flatten', [nhwc], name, { axis: 1 }), 'flat');
    }
    case 'Dense':
      return dense(call);
    case 'Dropout':
    case 'SpatialDropout2D':
      return input;
    default:
      throw unsupported(call, `layer class ${call.className}`);
  }
}

function convolution(call: LayerCall): KerasValue {
  const { builder: b, config, name } = call;
  const depthwise = call.className === 'DepthwiseConv2D';
  const kernel = weight(call, depthwise ? 'depthwise_kernel' : 'kernel');
  const [kh, kw, channelsIn, last] = kernel.shape as [number, number, number, number];
  const channelsOut = depthwise ? channelsIn * last : last;
  if ((config.dataFormat ?? 'channelsLast') !== 'channelsLast') throw unsupported(call, 'channelsFirst data');
  if (config.padding !== 'valid' && config.padding !== 'same') throw unsupported(call, `padding '${String(config.padding)}'`);

  // Keras kernels are [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]); ONNX wants [out, in/group, kh, kw].
  const dims = [channelsOut, depthwise ? 1 : channelsIn, kh, kw];
  const data = new Float32Array(channelsOut * dims[1]! * kh * kw);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < channelsIn; i++) {
        for (let j = 0; j < last; j++) {
          const out = depthwise ? i * last + j : j;
          const inGroup = depthwise ? 0 : i;
          data[((out * dims[1]! + inGroup) * kh + y) * kw + x] = kernel.data[((y * kw + x) * channelsIn + i) * last + j]!;
        }
      }
    }
  }

  const attributes: Record<string, number[] | number | string> = {
    kernel_shape: [kh, kw],
    strides: config.strides as number[],
    dilations: config.dilationRate as number[],
    group: depthwise ? channelsIn : 1,
  };
  let input = call.inputs[0]!;
  if (config.padding === 'same') {
    // TF's "same" puts the odd pixel of padding after, as SAME_UPPER does.
    attributes.auto_pad = 'SAME_UPPER';
  } else if (input.kind === 'pad') {
    attributes.pads = [...input.pads];
    input = input.source;
  }

  const bias = config.useBias ? weight(call, 'bias').data : new Float32Array(channelsOut);
  const conv = { input: b.materialise(input), weight: data, weightDims: dims, bias, attributes, activation: activation(call) };
  return { kind: 'conv', conv, name, consumers: call.consumers };
}

function batchNormalization(call: LayerCall): KerasValue {
  const { builder: b, config, name } = call;
  const input = call.inputs[0]!;
  const axis = config.axis as number;
  if (axis !== -1 && axis !== (layoutOf(input) === 'flat' ? 1 : 3)) throw unsupported(call, `axis ${axis}`);

  const mean = weight(call, 'moving_mean').data;
  const variance = weight(call, 'moving_variance').data;
  const gamma = config.scale === false ? new Float32Array(mean.length).fill(1) : weight(call, 'gamma').data;
  const beta = config.center === false ? new Float32Array(mean.length) : weight(call, 'beta').data;
  const epsilon = config.epsilon as number;

  if (input.kind === 'conv' && input.consumers === 1 && input.conv.activation === undefined) {
    // Folding y = (conv(x) - mean) * gamma / sqrt(var + eps) + beta into the conv's weights and bias.
    const { conv } = input;
    const perChannel = conv.weight.length / conv.bias.length;
    const weightOut = new Float32Array(conv.weight.length);
    const biasOut = new Float32Array(conv.bias.length);
    for (let c = 0; c < conv.bias.length; c++) {
      const scale = gamma[c]! / Math.sqrt(variance[c]! + epsilon);
      for (let k = 0; k < perChannel; k++) weightOut[c * perChannel + k] = conv.weight[c * perChannel + k]! * scale;
      biasOut[c] = (conv.bias[c]! - mean[c]!) * scale + beta[c]!;
    }
    return { kind: 'conv', conv: { ...conv, weight: weightOut, bias: biasOut }, name, consumers: call.consumers };
  }

  const constants = [gamma, beta, mean, variance].map((data, i) => b.constant(`${name}/${'sbmv'[i]}`, [data.length], data));
  return tensor(b.node('BatchNormalization', [b.materialise(input), ...constants], name, { epsilon: { float: epsilon } }), layoutOf(input));
}

function pooling(call: LayerCall): KerasValue {
  const { builder: b, config, name } = call;
  const size = config.poolSize as [number, number];
  const attributes: Record<string, number[] | string> = {
    kernel_shape: size,
    strides: (config.strides as [number, number] | null) ?? size,
  };
  if (config.padding === 'same') attributes.auto_pad = 'SAME_UPPER';
  const op = call.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
  return tensor(b.node(op, [b.materialise(call.inputs[0]!)], name, attributes), 'nchw');
}

function dense(call: LayerCall): KerasValue {
  const { builder: b, config, name } = call;
  const input = call.inputs[0]!;
  if (layoutOf(input) !== 'flat') throw unsupported(call, 'a Dense layer on an image tensor (flatten or pool first)');
  const kernel = weight(call, 'kernel');
  const units = kernel.shape[1]!;
  const bias = config.useBias ? weight(call, 'bias').data : new Float32Array(units);
  const inputs = [b.materialise(input), b.constant(`${name}/W`, kernel.shape, kernel.data), b.constant(`${name}/B`, [units], bias)];
  const act = activation(call);
  const product = b.node('Gemm', inputs, act ? `${name}/gemm` : name);
  return tensor(b.activate(act, product, name), 'flat');
}

function elementwise(call: LayerCall, op: 'Add' | 'Mul'): KerasValue {
  const { builder: b, name } = call;
  const [first, ...rest] = call.inputs.map((v) => b.materialise(v));
  let result = first!;
  rest.forEach((next, i) => (result = b.node(op, [result, next], i === rest.length - 1 ? name : `${name}/${i}`)));
  return tensor(result, layoutOf(call.inputs[0]!));
}

function activation(call: LayerCall): string | undefined {
  const keras = (call.config.activation as string | undefined) ?? 'linear';
  if (!(keras in ACTIVATIONS)) throw unsupported(call, `activation '${keras}'`);
  return ACTIVATIONS[keras];
}

/** A channels-last axis (-1 or the last index) moved to ONNX's channel axis 1. */
function channelAxis(call: LayerCall, axis: unknown): number {
  const last = layoutOf(call.inputs[0]!) === 'flat' ? 1 : 3;
  if (axis !== -1 && axis !== last && axis !== undefined) throw unsupported(call, `axis ${String(axis)}`);
  return 1;
}

function weight(call: LayerCall, suffix: string): { data: Float32Array; shape: number[] } {
  const variable = call.layer.weights.find((w) => w.originalName.split('/').pop() === suffix);
  if (!variable) throw unsupported(call, `a missing '${suffix}' weight`);
  return { data: Float32Array.from(variable.read().dataSync() as Float32Array), shape: variable.shape as number[] };
}

function tensor(name: string, layout: 'nchw' | 'flat'): KerasValue {
  return { kind: 'tensor', name, layout };
}

function unsupported(call: LayerCall, what: string): BloodcellError {
  return new BloodcellError(
    'ONNX_UNSUPPORTED_LAYER',
    `Cannot export layer '${call.name}' to ONNX: ${what} is not supported. ` +
      `Supported layer classes: ${SUPPORTED_LAYERS.join(', ')}; use the TF.js backend for this model.`,
  );
}
