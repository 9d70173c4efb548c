import * as tfl from '@tensorflow/tfjs-layers';

import { BundleError } from '../errors.js';

/**
 * Cuts a convolutional base out of a (possibly nested) TF.js layers model: the returned model runs
 * from the input of the sub-model that holds `layerName` to that layer's output.
 * Exports such as Teachable Machine's wrap Keras MobileNetV2 inside Sequential models, hence the search.
 *
 * @example
 * const full = await tfl.loadLayersModel(handler);
 * const base = cutAtLayer(full, 'out_relu'); // MobileNetV2 [null, 7, 7, 1280] at alpha 0.35
 */
export function cutAtLayer(model: tfl.LayersModel, layerName: string): tfl.LayersModel {
  const owner = findOwner(model, layerName);
  if (!owner) {
    throw new BundleError(
      'LAYER_NOT_FOUND',
      `No layer named "${layerName}" in model "${model.name}". ` +
        `Top-level layers: ${model.layers.map((layer) => layer.name).join(', ')}.`,
    );
  }

  const output = owner.getLayer(layerName).output;
  if (Array.isArray(output)) {
    throw new BundleError('LAYER_NOT_FOUND', `Layer "${layerName}" has several outputs; cut elsewhere.`);
  }
  return tfl.model({ inputs: owner.inputs, outputs: output, name: `${owner.name}_to_${layerName}` });
}

function findOwner(model: tfl.LayersModel, layerName: string): tfl.LayersModel | undefined {
  for (const layer of model.layers) {
    if (layer.name === layerName) return model;
  }
  for (const layer of model.layers) {
    if (layer instanceof tfl.LayersModel) {
      const owner = findOwner(layer, layerName);
      if (owner) return owner;
    }
  }
  return undefined;
}
