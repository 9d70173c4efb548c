/**
 * Test fixtures (not exported by the package): Keras-layout HDF5 files and VGG16 weights filled
 * with values that tell which layer, weight and element each number belongs to.
 */
import { BundleError } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Group } from 'h5wasm/node';
import { expect } from 'vitest';

/** One weight as a Keras file stores it: its name in `weight_names`, shape and values. */
export interface FixtureWeight {
  name: string;
  shape: number[];
  values: Float32Array | Float64Array | Int32Array;
  /** h5wasm dtype; float32 (`<f`) by default. */
  dtype?: string;
}

/** One layer of a fixture file; layers without weights (pools, inputs) have none. */
export interface FixtureLayer {
  name: string;
  weights: FixtureWeight[];
}

/**
 * The value element `element` of weight `weight` of layer `layer` gets: exact in float32, and
 * different for a neighbouring layer, weight or element, so any misplacement shows.
 *
 * @example
 * knownValue(1, 1, 0); // 14: bias of the first layer, first element
 */
export function knownValue(layer: number, weight: number, element: number): number {
  return layer * 10 + weight * 4 + (element % 1021) / 1024;
}

/**
 * A Float32Array of `size` known values for one weight.
 *
 * @example
 * knownValues(1, 0, 1728); // block1_conv1's kernel
 */
export function knownValues(layer: number, weight: number, size: number): Float32Array {
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = knownValue(layer, weight, i);
  return values;
}

/**
 * The model's weighted layers as fixture layers of known values, layer numbers counting the
 * weighted layers from 1. `name` gives each weight's name in the file.
 *
 * @example
 * const layers = knownLayers(vgg16({ inputSize: 32 }), (layer, role) => `${layer}/${role}:0`);
 */
export function knownLayers(
  model: tfl.LayersModel,
  name: (layer: string, role: string) => string,
): FixtureLayer[] {
  const weighted = model.layers.filter((layer) => layer.weights.length > 0);
  return model.layers.map((layer) => ({
    name: layer.name,
    weights: layer.weights.map((weight, w) => {
      const shape = weight.shape as number[];
      const index = weighted.indexOf(layer) + 1;
      const role = weight.originalName.split('/').pop() ?? weight.originalName;
      return { name: name(layer.name, role), shape, values: knownValues(index, w, size(shape)) };
    }),
  }));
}

/**
 * Sets every weighted layer of the model to its known values (see `knownLayers`).
 *
 * @example
 * fillKnownWeights(vgg16({ inputSize: 32 }));
 */
export function fillKnownWeights(model: tfl.LayersModel): void {
  for (const fixture of knownLayers(model, (layer, role) => `${layer}/${role}`)) {
    if (fixture.weights.length === 0) continue;
    const values = fixture.weights.map((w) => tf.tensor(w.values, w.shape, 'float32'));
    model.getLayer(fixture.name).setWeights(values);
    tf.dispose(values);
  }
}

/**
 * Writes an HDF5 file with Keras 2's weights layout: `layer_names` on the root (or on
 * `/model_weights` for a full-model file), a group per layer with `weight_names`, and each
 * weight's dataset at `<layer>/<weight name>`.
 *
 * @example
 * await writeKerasH5('/tmp/w.h5', [{ name: 'dense', weights: [] }]);
 */
export async function writeKerasH5(
  path: string,
  layers: FixtureLayer[],
  options: { fullModel?: boolean } = {},
): Promise<void> {
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;

  const file = new h5wasm.File(path, 'w');
  try {
    const root = options.fullModel ? file.create_group('model_weights') : file;
    writeStrings(root, 'layer_names', layers.map((layer) => layer.name));

    for (const layer of layers) {
      const group = root.create_group(layer.name);
      writeStrings(group, 'weight_names', layer.weights.map((weight) => weight.name));
      for (const weight of layer.weights) {
        const parts = weight.name.split('/');
        const leaf = parts.pop()!;
        const parent = parts.reduce((at, part) => childGroup(at, part), group);
        const { values: data, shape, dtype = '<f' } = weight;
        parent.create_dataset({ name: leaf, data, shape, dtype });
      }
    }
  } finally {
    file.close();
  }
}

/** A string list as h5py writes it: fixed-length bytes, or an empty float array when empty. */
function writeStrings(group: Group, name: string, values: string[]): void {
  if (values.length === 0) {
    group.create_attribute(name, new Float64Array(0), [0], '<d');
    return;
  }
  const width = Math.max(...values.map((value) => value.length));
  group.create_attribute(name, values, [values.length], `S${width}`);
}

/** The subgroup `name` of `group`, created when absent. */
function childGroup(group: Group, name: string): Group {
  return group.keys().includes(name) ? (group.get(name) as Group) : group.create_group(name);
}

function size(shape: number[]): number {
  return shape.reduce((product, d) => product * d, 1);
}

/**
 * The error a promise rejects with, for checks on its class, code and message.
 *
 * @example
 * expect((await rejection(loadVgg16({ h5: 'missing.h5' }))).code).toBe('H5_NOT_FOUND');
 */
export async function rejection(promise: Promise<unknown>): Promise<BundleError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BundleError);
  return error as BundleError;
}
