import * as tfl from '@tensorflow/tfjs-layers';

import { CELL_TYPES } from '../cell-types.js';
import { OptionError } from '../errors.js';

/** Name of the head inside a bundle's model, so a loaded bundle can be split back into base and head. */
export const HEAD_LAYER = 'cell_head';

/**
 * `flatten`: Flatten then Dense, the original design, which keeps where in the crop each feature is;
 * `pooled`: global average pooling then Dense, 49 times fewer weights, so it overfits less when the
 * training images are augmented copies of few cells; `mlp`: global average pooling, a hidden layer of
 * 128 ReLU units with dropout, then Dense. Class activation maps need a linear head (not `mlp`).
 */
export type HeadKind = 'flatten' | 'pooled' | 'mlp';

export const HEAD_KINDS: readonly HeadKind[] = ['flatten', 'pooled', 'mlp'];

export interface HeadOptions {
  kind?: HeadKind;
  /** Seed for the kernel initialiser, so a training run repeats. */
  seed?: number;
}

/**
 * The classification head: Flatten (or global average pooling), then Dense(4, softmax).
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
  const kind = options.kind ?? 'flatten';
  if (!HEAD_KINDS.includes(kind)) {
    throw new OptionError('BAD_HEAD_KIND', `Head kind must be one of ${HEAD_KINDS.join(', ')}; got "${String(kind)}".`);
  }
  const seed = options.seed ?? 0;
  head.add(
    kind === 'flatten'
      ? tfl.layers.flatten({ inputShape: [...featureShape], name: 'head_flatten' })
      : tfl.layers.globalAveragePooling2d({ inputShape: [...featureShape], name: 'head_pool' }),
  );
  if (kind === 'mlp') {
    head.add(
      tfl.layers.dense({
        units: 128,
        activation: 'relu',
        name: 'head_hidden',
        kernelInitializer: tfl.initializers.heNormal({ seed: seed + 1 }),
      }),
    );
    head.add(tfl.layers.dropout({ rate: 0.3, name: 'head_dropout', seed }));
  }
  head.add(
    tfl.layers.dense({
      units: CELL_TYPES.length,
      activation: 'softmax',
      name: 'cell_type',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
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
