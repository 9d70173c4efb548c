import { BundleError } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { openKerasH5 } from './h5-file.js';
import type { KerasH5File, KerasH5Layer } from './h5-file.js';

/** Which weights went where: model layers filled, and weighted file layers the model lacks. */
export interface KerasLoadReport {
  loaded: string[];
  skipped: string[];
}

/** h5wasm's names for little-endian float32 and float64, the types Keras writes. */
const FLOAT_DTYPES = ['<f', '<d'];

/** One model layer paired with its file layer: file weight names in the model's weight order. */
interface LayerPlan {
  layer: tfl.layers.Layer;
  source: KerasH5Layer;
  weightNames: string[];
}

/**
 * Copies the weights of a Keras 2 HDF5 file into a TF.js model, layer by layer name, the way
 * Keras's `load_weights` does. All layers are checked (presence, weight count, shapes) before
 * any weight is written. Within a layer, weights pair by role (kernel, bias, gamma...; Keras 1
 * `_W`/`_b` names too) or, when roles are unclear, by order.
 *
 * @param h5 a file path, or the file's bytes
 * @param options.strict fail when the file has weighted layers the model lacks
 * @example
 * const base = vgg16();
 * const notop = 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5';
 * const { loaded } = await loadKerasH5Weights(base, notop);
 */
export async function loadKerasH5Weights(
  model: tfl.LayersModel,
  h5: string | Uint8Array,
  options: { strict?: boolean } = {},
): Promise<KerasLoadReport> {
  const file = await openKerasH5(h5);
  try {
    const { plans, skipped } = planLoad(model, file, options.strict ?? false);

    for (const plan of plans) assignLayer(plan);

    return { loaded: plans.map((plan) => plan.layer.name), skipped };
  } finally {
    await file.close();
  }
}

/** Pairs every weighted model layer with a file layer, or explains what does not fit. */
function planLoad(
  model: tfl.LayersModel,
  file: KerasH5File,
  strict: boolean,
): { plans: LayerPlan[]; skipped: string[] } {
  const fileLayers = new Map(file.layers.map((layer) => [layer.name, layer]));
  const weighted = model.layers.filter((layer) => layer.weights.length > 0);
  const fileWeighted = file.layers.filter((layer) => layer.weightNames.length > 0);

  const missing = weighted.filter((layer) => !fileLayers.get(layer.name)?.weightNames.length);
  if (missing.length > 0) {
    throw new BundleError(
      'H5_MISSING_LAYERS',
      `${file.label} lacks weights for model layer(s) ${missing.map((l) => l.name).join(', ')}. ` +
        `Its weighted layers are: ${fileWeighted.map((l) => l.name).join(', ') || '(none)'}.`,
    );
  }

  const modelNames = new Set(weighted.map((layer) => layer.name));
  const skipped = fileWeighted.map((l) => l.name).filter((name) => !modelNames.has(name));
  if (strict && skipped.length > 0) {
    throw new BundleError(
      'H5_EXTRA_LAYERS',
      `${file.label} has weighted layer(s) the model lacks: ${skipped.join(', ')}. ` +
        'Load without { strict: true } to skip them.',
    );
  }

  const plans = weighted.map((layer) => planLayer(layer, fileLayers.get(layer.name)!, file.label));
  return { plans, skipped };
}

/** Orders one file layer's weights like the model layer's, and checks every shape. */
function planLayer(layer: tfl.layers.Layer, source: KerasH5Layer, label: string): LayerPlan {
  if (source.weightNames.length !== layer.weights.length) {
    throw new BundleError(
      'H5_WEIGHT_COUNT',
      `Layer '${layer.name}' has ${layer.weights.length} weights in the model but ` +
        `${source.weightNames.length} in ${label} (${source.weightNames.join(', ')}).`,
    );
  }

  const weightNames = matchByRole(
    layer.weights.map((weight) => weight.originalName),
    source.weightNames,
  );

  layer.weights.forEach((weight, i) => {
    const weightName = weightNames[i]!;
    const dataset = source.dataset(weightName);
    if (!FLOAT_DTYPES.includes(String(dataset.dtype))) {
      throw new BundleError(
        'H5_BAD_DTYPE',
        `Weight '${weightName}' of layer '${layer.name}' in ${label} has HDF5 dtype ` +
          `${JSON.stringify(dataset.dtype)}; only little-endian float32 and float64 are read.`,
      );
    }
    const found = dataset.shape ?? [];
    if (found.length !== weight.shape.length || found.some((d, j) => d !== weight.shape[j])) {
      throw new BundleError(
        'H5_SHAPE_MISMATCH',
        `Layer '${layer.name}' weight '${weight.originalName}' has shape ` +
          `[${weight.shape.join(', ')}] in the model but '${weightName}' in ${label} has ` +
          `[${found.join(', ')}].`,
      );
    }
  });

  return { layer, source, weightNames };
}

/**
 * The file's weight names reordered to follow the model's, paired by role when each side's
 * roles are distinct and the same; otherwise in file order, as Keras itself does.
 */
function matchByRole(modelNames: string[], fileNames: string[]): string[] {
  const modelRoles = modelNames.map(weightRole);
  const byRole = new Map(fileNames.map((name) => [weightRole(name), name]));
  const distinct =
    byRole.size === fileNames.length && new Set(modelRoles).size === modelRoles.length;
  if (!distinct || !modelRoles.every((role) => byRole.has(role))) return fileNames;

  return modelRoles.map((role) => byRole.get(role)!);
}

/**
 * What a weight is for, from its name: `block1_conv1/kernel:0` and Keras 1's
 * `block1_conv1_W_1:0` both give `kernel`.
 */
function weightRole(name: string): string {
  const leaf = (name.split('/').pop() ?? name).replace(/:\d+$/, '').replace(/_\d+$/, '');
  if (leaf === 'W' || leaf.endsWith('_W')) return 'kernel';
  if (leaf === 'b' || leaf.endsWith('_b')) return 'bias';
  return leaf;
}

/** Reads one layer's datasets and writes them into the layer; setWeights copies them. */
function assignLayer(plan: LayerPlan): void {
  const values = tf.tidy(() =>
    plan.weightNames.map((weightName) => {
      const shape = plan.source.dataset(weightName).shape ?? [];
      return tf.tensor(readFloat32(plan.source, weightName), shape, 'float32');
    }),
  );
  try {
    plan.layer.setWeights(values);
  } finally {
    tf.dispose(values);
  }
}

/** A dataset's values as float32, the only weight type TF.js layers keep here. */
function readFloat32(source: KerasH5Layer, weightName: string): Float32Array {
  const value = source.dataset(weightName).value;
  return value instanceof Float32Array ? value : Float32Array.from(value as Float64Array);
}
