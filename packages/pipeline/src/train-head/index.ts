import { CELL_TYPES, createHead, type HeadKind, OptionError, poolFeatures } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { seededRandom, shuffleInPlace } from '../random/index.js';

/** Rows of features with their labels: row i is features[i*length .. (i+1)*length). */
export interface LabelledFeatures {
  features: Float32Array;
  labels: readonly number[];
  /** Rows are already channel means ([n, c]); only a pooled head takes them. */
  pooled?: boolean;
}

/** Most epochs of head training; early stopping usually ends it sooner. */
export const DEFAULT_EPOCHS = 40;

export interface HeadTrainingOptions {
  featureShape: readonly [number, number, number];
  kind?: HeadKind;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** L2 penalty on the dense kernel. */
  l2?: number;
  /** Epochs without a better validation loss before training stops. */
  patience?: number;
  seed?: number;
  /** Weight each class by the inverse of its share, so a rare cell type counts as much. */
  classWeights?: boolean;
  onEpoch?: (epoch: EpochLog) => void;
}

export interface EpochLog {
  epoch: number;
  trainLoss: number;
  validationLoss: number;
  validationAccuracy: number;
}

export interface TrainedHead {
  head: tfl.Sequential;
  history: EpochLog[];
  bestEpoch: number;
  /** Validation probabilities of the kept (best) weights, row per validation image. */
  validationProbabilities: number[][];
}

/**
 * Trains the head (Flatten or pooled, then Dense softmax) on cached features with Adam and a
 * weighted cross-entropy, stops early on validation loss, and keeps the weights of the best epoch.
 *
 * @example
 * const { head, bestEpoch } = await trainHead(train, validation, { featureShape: [7, 7, 1280], seed: 7 });
 */
export async function trainHead(
  train: LabelledFeatures,
  validation: LabelledFeatures,
  options: HeadTrainingOptions,
): Promise<TrainedHead> {
  if (options.kind !== 'pooled' && options.kind !== 'mlp') {
    if (train.pooled || validation.pooled) {
      throw new OptionError('POOLED_ROWS_NEED_POOLED_HEAD', 'Pooled feature rows can only train the pooled head.');
    }
    return trainOnFeatures(train, validation, options);
  }

  // Averaging once up front is exact for a pooled head and makes every epoch 49x lighter.
  const [rows, columns, channels] = options.featureShape;
  const pool = (set: LabelledFeatures) =>
    set.pooled ? set : { ...set, features: poolFeatures(set.features, rows * columns, channels), pooled: true };
  const trained = await trainOnFeatures(pool(train), pool(validation), { ...options, featureShape: [1, 1, channels] });
  const head = createHead(options.featureShape, { seed: options.seed ?? 0, kind: options.kind });
  head.setWeights(trained.head.getWeights());
  trained.head.dispose();
  return { ...trained, head };
}

async function trainOnFeatures(
  train: LabelledFeatures,
  validation: LabelledFeatures,
  options: HeadTrainingOptions,
): Promise<TrainedHead> {
  const { featureShape } = options;
  const epochs = options.epochs ?? DEFAULT_EPOCHS;
  const batchSize = options.batchSize ?? 64;
  const patience = options.patience ?? 5;
  const l2 = options.l2 ?? 1e-3;
  const seed = options.seed ?? 0;
  const length = featureShape[0] * featureShape[1] * featureShape[2];
  const weights = classWeightsOf(train.labels, options.classWeights ?? true);

  const head = createHead(featureShape, { seed, kind: options.kind });
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  const random = seededRandom(seed);
  const order = train.labels.map((_, i) => i);
  const history: EpochLog[] = [];
  let best = { loss: Number.POSITIVE_INFINITY, epoch: -1, weights: [] as tf.Tensor[] };

  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, random);
    let lossSum = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      const loss = tf.tidy(() => {
        const x = gatherRows(train.features, rows, length, featureShape);
        const y = tf.oneHot(tf.tensor1d(rows.map((i) => train.labels[i]!), 'int32'), CELL_TYPES.length);
        const w = tf.tensor1d(rows.map((i) => weights[train.labels[i]!]!));
        return optimizer.minimize(() => {
          const p = head.apply(x, { training: true }) as tf.Tensor2D;
          const perImage = tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1));
          const dataLoss = tf.div(tf.sum(tf.mul(perImage, w)), tf.sum(w));
          const kernels = head.trainableWeights.filter((w) => w.name.includes('kernel')).map((w) => w.read());
          const penalty = tf.addN(kernels.map((kernel) => tf.sum(tf.square(kernel))));
          return tf.add(dataLoss, tf.mul(l2, penalty)) as tf.Scalar;
        }, true)!;
      });
      lossSum += (await loss.data())[0]! * rows.length;
      loss.dispose();
    }

    const probabilities = predictHead(head, validation.features, length, featureShape, batchSize);
    const log: EpochLog = {
      epoch,
      trainLoss: lossSum / order.length,
      validationLoss: crossEntropy(probabilities, validation.labels),
      validationAccuracy: accuracyOf(probabilities, validation.labels),
    };
    history.push(log);
    options.onEpoch?.(log);

    if (log.validationLoss < best.loss - 1e-4) {
      tf.dispose(best.weights);
      best = { loss: log.validationLoss, epoch, weights: head.getWeights().map((t) => t.clone()) };
    } else if (epoch - best.epoch >= patience) {
      break;
    }
  }

  head.setWeights(best.weights);
  tf.dispose(best.weights);
  optimizer.dispose();
  return {
    head,
    history,
    bestEpoch: best.epoch,
    validationProbabilities: predictHead(head, validation.features, length, featureShape, batchSize),
  };
}

/**
 * Runs a head over feature rows in batches and returns plain probability rows.
 *
 * @example
 * const rows = predictHead(head, table.features, 62720, [7, 7, 1280]);
 */
export function predictHead(
  head: tfl.LayersModel,
  features: Float32Array,
  length: number,
  featureShape: readonly [number, number, number],
  batchSize = 64,
): number[][] {
  const count = features.length / length;
  const rows: number[][] = [];
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, k) => start + k);
    const probabilities = tf.tidy(() => head.predict(gatherRows(features, indices, length, featureShape)) as tf.Tensor2D);
    rows.push(...(probabilities.arraySync() as number[][]));
    probabilities.dispose();
  }
  return rows;
}

function gatherRows(
  features: Float32Array,
  rows: readonly number[],
  length: number,
  featureShape: readonly [number, number, number],
): tf.Tensor4D {
  const batch = new Float32Array(rows.length * length);
  rows.forEach((row, k) => batch.set(features.subarray(row * length, (row + 1) * length), k * length));
  return tf.tensor4d(batch, [rows.length, ...featureShape]);
}

function classWeightsOf(labels: readonly number[], balance: boolean): number[] {
  const counts = new Array<number>(CELL_TYPES.length).fill(0);
  labels.forEach((label) => (counts[label]! += 1));
  return counts.map((count) => (!balance || count === 0 ? 1 : labels.length / (CELL_TYPES.length * count)));
}

function crossEntropy(probabilities: number[][], labels: readonly number[]): number {
  let total = 0;
  probabilities.forEach((row, i) => (total -= Math.log(Math.max(row[labels[i]!]!, 1e-7))));
  return total / Math.max(1, probabilities.length);
}

function accuracyOf(probabilities: number[][], labels: readonly number[]): number {
  let correct = 0;
  probabilities.forEach((row, i) => (correct += row.indexOf(Math.max(...row)) === labels[i] ? 1 : 0));
  return correct / Math.max(1, probabilities.length);
}
