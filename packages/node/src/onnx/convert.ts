import { BloodcellError } from '@bloodcell/core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { GraphBuilder, type KerasValue, layoutOf } from './graph.js';
import { type LayerConfig, convertLayer } from './layers.js';
import { type OnnxValue, encodeModel } from './schema.js';

export interface OnnxExportOptions {
  /** Names for the model's own outputs, in order; default: the output layers' names. */
  outputNames?: readonly string[];
  /** Extra outputs: a top-level layer's output averaged over height and width, [n, channels]. */
  pooledOutputs?: readonly { name: string; layer: string }[];
}

/** A functional container's config, as `getConfig()` returns it. */
interface FunctionalConfig {
  name: string;
  layers: { name: string; className: string; config: LayerConfig; inboundNodes: [string, number, number][][] }[];
  inputLayers: [string, number, number][];
  outputLayers: [string, number, number][];
}

/** A Sequential's config: its layers in order, without wiring. */
interface SequentialConfig {
  name: string;
  layers: { className: string; config: LayerConfig }[];
}

/**
 * Converts a TF.js layers model (functional or Sequential, nested models included) into the
 * bytes of an ONNX model, opset 13. Inputs and outputs keep Keras's channels-last shapes and
 * the batch dimension stays free; inside, images run channels-first, BatchNormalization is
 * folded into the convolution before it and ZeroPadding2D into the padding of the next one.
 *
 * @throws BloodcellError ONNX_UNSUPPORTED_LAYER naming the layer, and the supported classes.
 * @example
 * const bytes = layersModelToOnnx(classifier.model, {
 *   outputNames: ['probabilities'], pooledOutputs: [{ name: 'pooled', layer: 'out_relu' }],
 * });
 * const session = await ort.InferenceSession.create(bytes);
 */
export function layersModelToOnnx(model: tfl.LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  const b = new GraphBuilder();
  const config = model.getConfig() as unknown as FunctionalConfig | SequentialConfig;

  const inputs: OnnxValue[] = model.inputs.map((input, i) => {
    const name = 'inputLayers' in config ? config.inputLayers[i]![0] : 'input';
    return { name: b.fresh(name), shape: input.shape };
  });
  const entry = inputs.map((input) => imageOrVector(b, input));

  const extra = options.pooledOutputs ?? [];
  const outputNames = model.outputs.map((_, i) => options.outputNames?.[i] ?? modelOutputName(config, i));
  b.reserve([...outputNames, ...extra.map((o) => o.name)]);
  const values = new Map<string, KerasValue>();
  const results =
    'inputLayers' in config
      ? walkFunctional(b, model, config, entry, '', values, extra.map((o) => o.layer))
      : walkSequential(b, model, config, entry[0]!, '');

  const outputs: OnnxValue[] = results.map((value, i) => {
    const name = outputNames[i]!;
    writeOutput(b, value, name);
    return { name, shape: model.outputs[i]!.shape };
  });
  for (const { name, layer } of extra) {
    const value = values.get(layer);
    if (!value) throw new BloodcellError('ONNX_UNKNOWN_LAYER', `No layer '${layer}' to output as '${name}'.`);
    const pooled = b.node('GlobalAveragePool', [b.materialise(value)], `${name}/pool`);
    b.node('Flatten', [pooled], name, { axis: 1 }, true);
    const shape = model.getLayer(layer).outputShape as number[];
    outputs.push({ name, shape: [null, shape[shape.length - 1]!] });
  }

  return encodeModel(b.graph(model.name, inputs, outputs));
}

function walkFunctional(
  b: GraphBuilder,
  container: tfl.LayersModel,
  config: FunctionalConfig,
  inputs: readonly KerasValue[],
  prefix: string,
  values: Map<string, KerasValue>,
  alsoRead: readonly string[] = [],
): KerasValue[] {
  const consumers = new Map<string, number>();
  const read = (name: string, times = 1) => consumers.set(name, (consumers.get(name) ?? 0) + times);
  for (const layer of config.layers) for (const [name] of layer.inboundNodes[0] ?? []) read(name);
  // Outputs also leave the container, so a convolution there never folds a later layer.
  for (const [name] of config.outputLayers) read(name, 2);
  for (const name of alsoRead) read(name, 2);

  config.inputLayers.forEach(([name], i) => values.set(name, inputs[i]!));
  for (const entry of config.layers) {
    if (entry.className === 'InputLayer') continue;
    if (entry.inboundNodes.length !== 1) {
      throw new BloodcellError(
        'ONNX_UNSUPPORTED_LAYER',
        `Cannot export layer '${prefix}${entry.name}' to ONNX: it is called ${entry.inboundNodes.length} times; ` +
          'shared layers are not supported.',
      );
    }
    const layerInputs = entry.inboundNodes[0]!.map(([name]) => values.get(name)!);
    const layer = container.getLayer(entry.name);
    const name = `${prefix}${entry.name}`;
    values.set(entry.name, convertAny(b, layer, entry.className, entry.config, layerInputs, name, consumers.get(entry.name) ?? 0));
  }
  return config.outputLayers.map(([name]) => values.get(name)!);
}

function walkSequential(
  b: GraphBuilder,
  container: tfl.LayersModel,
  config: SequentialConfig | SequentialConfig['layers'],
  input: KerasValue,
  prefix: string,
): KerasValue[] {
  const layers = Array.isArray(config) ? config : config.layers;
  let value = input;
  layers.forEach((entry, i) => {
    if (entry.className === 'InputLayer') return;
    const layerName = entry.config.name as string;
    const layer = container.getLayer(layerName);
    const consumers = i === layers.length - 1 ? 2 : 1;
    value = convertAny(b, layer, entry.className, entry.config, [value], `${prefix}${layerName}`, consumers);
  });
  return [value];
}

/** Converts a layer, descending into nested Sequential and functional models. */
function convertAny(
  b: GraphBuilder,
  layer: tfl.layers.Layer,
  className: string,
  config: LayerConfig,
  inputs: readonly KerasValue[],
  name: string,
  consumers: number,
): KerasValue {
  if (className === 'Sequential') {
    return walkSequential(b, layer as tfl.LayersModel, config as unknown as SequentialConfig, inputs[0]!, `${name}/`)[0]!;
  }
  if (className === 'Model' || className === 'Functional') {
    const inner = config as unknown as FunctionalConfig;
    return walkFunctional(b, layer as tfl.LayersModel, inner, inputs, `${name}/`, new Map())[0]!;
  }
  return convertLayer({ builder: b, layer, className, config, inputs, name, consumers });
}

/** Keras images come in channels-last; ONNX's convolutions want channels-first. */
function imageOrVector(b: GraphBuilder, input: OnnxValue): KerasValue {
  if (input.shape.length === 2) return { kind: 'tensor', name: input.name, layout: 'flat' };
  if (input.shape.length !== 4) {
    throw new BloodcellError(
      'ONNX_UNSUPPORTED_INPUT',
      `Cannot export an input of shape [${input.shape.join(', ')}] to ONNX: only images [n, h, w, c] ` +
        'and vectors [n, features] are supported.',
    );
  }
  const nchw = b.node('Transpose', [input.name], `${input.name}/nchw`, { perm: [0, 3, 1, 2] });
  return { kind: 'tensor', name: nchw, layout: 'nchw' };
}

/** Writes a graph output under its final name, channels-last again for images. */
function writeOutput(b: GraphBuilder, value: KerasValue, name: string): void {
  const source = b.materialise(value);
  if (layoutOf(value) === 'nchw') b.node('Transpose', [source], name, { perm: [0, 2, 3, 1] }, true);
  else b.node('Identity', [source], name, {}, true);
}

function modelOutputName(config: FunctionalConfig | SequentialConfig, i: number): string {
  if ('outputLayers' in config) return config.outputLayers[i]![0];
  return `output_${i}`;
}
