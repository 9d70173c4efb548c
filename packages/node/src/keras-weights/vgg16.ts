import { BundleError, VGG16_LAYER_NAMES, VGG16_SPEC, vgg16 } from '@bloodcell/core';
import * as tfl from '@tensorflow/tfjs-layers';

import { loadKerasH5Weights } from './h5-weights.js';
import { fileSystemModelSource } from '../model-files/index.js';

/** Where VGG16's ImageNet weights come from: Keras's notop `.h5`, or a TF.js layers export. */
export type Vgg16Source = { h5: string } | { tfjsModelDir: string };

/**
 * Builds Keras's VGG16 convolutional base with pretrained weights from disk: Keras's
 * `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`, or a TF.js layers export of the base
 * (`model.json` + shards). Either way the result has VGG16's layer names and a 512-channel
 * output; `inputSize` rebuilds an export at another size, since the weights do not depend on it.
 *
 * @example
 * const notop = 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5';
 * const base = await loadVgg16({ h5: join(homedir(), '.keras', 'models', notop) });
 * const exported = await loadVgg16({ tfjsModelDir: 'models/vgg16' }, { inputSize: 224 });
 */
export async function loadVgg16(
  source: Vgg16Source,
  options: { inputSize?: number } = {},
): Promise<tfl.LayersModel> {
  if ('h5' in source) {
    const base = vgg16(options);
    try {
      await loadKerasH5Weights(base, source.h5);
      return base;
    } catch (error) {
      base.dispose();
      throw error;
    }
  }

  const loaded = await tfl.loadLayersModel(fileSystemModelSource(source.tfjsModelDir)).catch(
    (cause: unknown) => {
      if (cause instanceof BundleError) throw cause;
      throw new BundleError(
        'VGG16_EXPORT_UNREADABLE',
        `TF.js could not load the model in ${source.tfjsModelDir}: ${String(cause)}`,
        { cause },
      );
    },
  );
  try {
    assertVgg16(loaded, source.tfjsModelDir);
    const size = loaded.inputs[0]?.shape[1];
    if (options.inputSize === undefined || options.inputSize === size) return loaded;
    return transplant(loaded, options.inputSize, source.tfjsModelDir);
  } catch (error) {
    loaded.dispose();
    throw error;
  }
}

/** Fails unless the model has every weighted VGG16 layer and a 512-channel feature map. */
function assertVgg16(model: tfl.LayersModel, where: string): void {
  const names = new Set(model.layers.map((layer) => layer.name));
  const missing = VGG16_LAYER_NAMES.filter((name) => !names.has(name));
  if (missing.length > 0) {
    throw new BundleError(
      'NOT_VGG16',
      `The model in ${where} is not a Keras VGG16 base: it lacks ${missing.join(', ')}. ` +
        `Its layers are: ${[...names].join(', ')}.`,
    );
  }

  const inShape = model.inputs[0]?.shape ?? [];
  const outShape = model.outputs.length === 1 ? (model.outputs[0]?.shape ?? []) : [];
  const side = typeof inShape[1] === 'number' ? Math.floor(inShape[1] / 32) : null;
  const expected = [null, side, side, VGG16_SPEC.featureShape[2]];
  if (outShape.length !== 4 || expected.some((d, i) => d !== null && d !== outShape[i])) {
    throw new BundleError(
      'NOT_VGG16',
      `The model in ${where} is not a Keras VGG16 base: its output shape is ` +
        `${JSON.stringify(outShape)}, expected ${JSON.stringify(expected)} ` +
        '(include_top=False, no pooling).',
    );
  }
}

/** Copies a loaded base's weights into a fresh VGG16 at another input size. */
function transplant(
  loaded: tfl.LayersModel,
  inputSize: number,
  where: string,
): tfl.LayersModel {
  const base = vgg16({ inputSize });
  try {
    for (const name of VGG16_LAYER_NAMES) {
      const target = base.getLayer(name);
      const weights = loaded.getLayer(name).getWeights();
      const shapes = (ws: { shape: readonly (number | null)[] }[]): string =>
        JSON.stringify(ws.map((w) => w.shape));
      if (shapes(weights) !== shapes(target.weights)) {
        throw new BundleError(
          'NOT_VGG16',
          `Layer '${name}' of the model in ${where} has weight shapes ${shapes(weights)}, ` +
            `VGG16 has ${shapes(target.weights)}.`,
        );
      }
      target.setWeights(weights);
    }
  } catch (error) {
    base.dispose();
    throw error;
  }

  loaded.dispose();
  return base;
}
