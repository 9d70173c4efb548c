import * as tfl from '@tensorflow/tfjs-layers';

import { CELL_TYPES } from '../cell-types.js';

/** Name of the head inside a bundle's model, so a loaded bundle can be split back into base and head. */
export const HEAD_LAYER = 'cell_head';

export interface HeadOptions {
  /** Seed for the kernel initialiser, so a training run repeats. */
  seed?: number;
}

/**
 * The classification head of the original design: Flatten, then Dense(4, softmax).
 *
 * @example
 * const head = createHead([7, 7, 1280], { seed: 7 });
 * head.outputs[0].shape; // [null, 4]
 */
export function createHead(
  featureShape: readonly [number, number, number],
  options: HeadOptions = {},
): tfl.Sequential {
  const head = tfl.sequential({ name: HEAD_LAYER });
  head.add(tfl.layers.flatten({ inputShape: [...featureShape], name: 'head_flatten' }));
  head.add(
    tfl.layers.dense({
      units: CELL_TYPES.length,
      activation: 'softmax',
      name: 'cell_type',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: options.seed ?? 0 }),
    }),
  );
  return head;
}

/**
 * Joins a convolutional base and a head into one model: image in, cell-type probabilities out.
 *
 * @example
 * const classifierModel = stackBackboneAndHead(base, head);
 */
export function stackBackboneAndHead(backbone: tfl.LayersModel, head: tfl.LayersModel): tfl.LayersModel {
  const features = backbone.outputs[0]!;
  const probabilities = head.apply(features) as tfl.SymbolicTensor;
  return tfl.model({ inputs: backbone.inputs, outputs: probabilities, name: 'bloodcell' });
}
