import * as tf from '@tensorflow/tfjs-core';

import { CELL_TYPES, type CellType } from '../cell-types.js';
import type { Classifier, ClassifyResult } from '../classifier/index.js';
import { OptionError } from '../errors.js';
import type { CellImage } from '../preprocess/index.js';

/** Where in the crop the head found evidence for one cell type. */
export interface ActivationMap {
  cellType: CellType;
  /** Rows x columns over the crop (7x7 for MobileNetV2 at 224), each in [0, 1]. */
  grid: number[][];
  /** The signed logit terms per cell before clipping and scaling; they sum to the logit minus the bias. */
  contributions: number[][];
  /** The crop the grid covers, in the original image's pixels. */
  box: ClassifyResult['box'];
}

/**
 * Class activation map of the Flatten + Dense head: the class's logit split into one term per
 * feature-map cell (the dense weights of that cell times its features), negative evidence clipped,
 * scaled so the strongest cell is 1. Exact for this head, no gradients needed.
 *
 * @example
 * const { result, activation } = await explainClassification(classifier, pixels);
 * activation.grid[3][4]; // 0.82: strong evidence for result.cellType in that part of the crop
 */
export async function explainClassification(
  classifier: Classifier,
  image: CellImage,
  cellType?: CellType,
): Promise<{ result: ClassifyResult; activation: ActivationMap }> {
  if (cellType !== undefined && !CELL_TYPES.includes(cellType)) {
    throw new OptionError('BAD_CELL_TYPE', `cellType must be one of ${CELL_TYPES.join(', ')}; got "${String(cellType)}".`);
  }

  const result = await classifier.classify(image);
  const target = cellType ?? result.cellType;
  const [rows, columns, channels] = classifier.metadata.backbone.featureShape;
  const { features } = await classifier.extractor.extract([image]);
  const kernel = classifier.head.getLayer('cell_type').getWeights()[0]!;
  if (kernel.shape[0] !== channels && kernel.shape[0] !== rows * columns * channels) {
    features.dispose();
    throw new OptionError(
      'EXPLAIN_NEEDS_LINEAR_HEAD',
      'Class activation maps need a flatten or pooled head; this bundle has a hidden layer (mlp).',
    );
  }

  const [perCell, scaled] = tf.tidy(() => {
    const column = tf.slice(kernel, [0, CELL_TYPES.indexOf(target)], [-1, 1]);
    // A pooled head shares one weight per channel across positions, each seen 1/(rows*columns).
    const weights =
      column.shape[0] === channels
        ? tf.div(tf.reshape(column, [1, 1, channels]), rows * columns)
        : tf.reshape(column, [rows, columns, channels]);
    const terms = tf.sum(tf.mul(tf.squeeze(features, [0]), weights), -1);
    const positive = tf.relu(terms);
    return [terms, tf.div(positive, tf.maximum(tf.max(positive), 1e-12))];
  });
  features.dispose();
  const contributions = (await perCell.array()) as number[][];
  const grid = (await scaled.array()) as number[][];
  tf.dispose([perCell, scaled]);

  return { result, activation: { cellType: target, grid, contributions, box: result.box } };
}
