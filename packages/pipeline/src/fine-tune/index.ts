import { CELL_TYPES, createHead } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { seededRandom, shuffleInPlace } from '../random/index.js';
import type { EpochLog, LabelledFeatures } from '../train-head/index.js';

/** MobileNetV2's last block: a 1x1 convolution, its batch norm, then ReLU6 (`out_relu`). */
export const LAST_CONV = { input: 'block_16_project_BN', conv: 'Conv_1', norm: 'Conv_1_bn' } as const;

/** The last convolution of the base, as a trainable matrix and its frozen batch-norm affine. */
export interface LastConv {
  /** [inChannels, outChannels]: a 1x1 convolution is a dense layer applied at every position. */
  kernel: tf.Tensor2D;
  scale: tf.Tensor1D;
  shift: tf.Tensor1D;
}

/**
 * Reads Conv_1 and Conv_1_bn out of a MobileNetV2 model (found in nested sub-models too).
 *
 * @example
 * const last = lastConvOf(baseModel);
 */
export function lastConvOf(model: tfl.LayersModel): LastConv {
  const conv = findLayer(model, LAST_CONV.conv);
  const norm = findLayer(model, LAST_CONV.norm);
  const [kernel4d] = conv.getWeights() as [tf.Tensor4D];
  const [gamma, beta, mean, variance] = norm.getWeights() as tf.Tensor1D[];
  const epsilon = (norm.getConfig().epsilon as number | undefined) ?? 1e-3;
  return tf.tidy(() => {
    const scale = tf.div(gamma!, tf.sqrt(tf.add(variance!, epsilon))) as tf.Tensor1D;
    return {
      kernel: tf.reshape(kernel4d, [kernel4d.shape[2], kernel4d.shape[3]]) as tf.Tensor2D,
      scale,
      shift: tf.sub(beta!, tf.mul(mean!, scale)) as tf.Tensor1D,
    };
  });
}

/**
 * Writes a fine-tuned kernel back into the base's Conv_1, so the bundle keeps its usual shape
 * (base to `out_relu`, then the head) and class activation maps still work.
 *
 * @example
 * setLastConvKernel(baseModel, tuned.kernel);
 */
export function setLastConvKernel(model: tfl.LayersModel, kernel: tf.Tensor2D): void {
  const conv = findLayer(model, LAST_CONV.conv);
  const [current] = conv.getWeights() as [tf.Tensor4D];
  tf.tidy(() => conv.setWeights([tf.reshape(kernel, current.shape)]));
}

/**
 * ReLU6(BN(x W)) for feature rows [n * positions, inChannels]: what `out_relu` computes from
 * `block_16_project_BN`, with W trainable and the batch norm frozen.
 *
 * @example
 * const outRelu = applyLastConv(rows, last.kernel, last);
 */
export function applyLastConv(rows: tf.Tensor2D, kernel: tf.Tensor2D, norm: Pick<LastConv, 'scale' | 'shift'>): tf.Tensor2D {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.mul(tf.matMul(rows, kernel), norm.scale), norm.shift), 0, 6) as tf.Tensor2D);
}

export interface FineTuneOptions {
  /** Positions of the cached feature map (7 * 7) and its channels (112 for alpha 0.35). */
  positions: number;
  channels: number;
  /** The feature map the head sits on in the bundle (`out_relu`'s, e.g. [7, 7, 1280]). */
  headShape: readonly [number, number, number];
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  l2?: number;
  patience?: number;
  seed?: number;
  onEpoch?: (epoch: EpochLog) => void;
}

export interface FineTuned {
  kernel: tf.Tensor2D;
  head: tfl.Sequential;
  history: EpochLog[];
  bestEpoch: number;
  validationProbabilities: number[][];
}

/**
 * Trains Conv_1 (starting from its ImageNet weights, batch norm frozen) together with a pooled
 * Dense head, on cached `block_16_project_BN` features: ReLU6(BN(x W)) averaged over positions,
 * then softmax. Early stopping on validation loss keeps the best epoch.
 *
 * @example
 * const tuned = await fineTuneLastConv(train, validation, lastConvOf(base), {
 *   positions: 49, channels: 112, headShape: [7, 7, 1280],
 * });
 */
export async function fineTuneLastConv(
  train: LabelledFeatures,
  validation: LabelledFeatures,
  start: LastConv,
  options: FineTuneOptions,
): Promise<FineTuned> {
  const { positions, channels } = options;
  const rowLength = positions * channels;
  const outChannels = start.kernel.shape[1];
  const batchSize = options.batchSize ?? 64;
  const l2 = options.l2 ?? 1e-2;
  const patience = options.patience ?? 4;
  const random = seededRandom(options.seed ?? 0);

  const kernel = tf.variable(start.kernel.clone());
  const initial = start.kernel.clone();
  const headKernel = tf.variable(tf.randomNormal([outChannels, CELL_TYPES.length], 0, 0.01, 'float32', options.seed ?? 0));
  const headBias = tf.variable(tf.zeros([CELL_TYPES.length]));
  const optimizer = tf.train.adam(options.learningRate ?? 3e-4);

  const forward = (rows: tf.Tensor2D, count: number) => {
    const mapped = applyLastConv(rows, kernel, start);
    const pooled = tf.mean(tf.reshape(mapped, [count, positions, outChannels]), 1);
    return tf.softmax(tf.add(tf.matMul(pooled, headKernel), headBias)) as tf.Tensor2D;
  };
  const predict = (set: LabelledFeatures) => {
    const rows: number[][] = [];
    for (let startRow = 0; startRow < set.labels.length; startRow += batchSize) {
      const count = Math.min(batchSize, set.labels.length - startRow);
      const slice = set.features.subarray(startRow * rowLength, (startRow + count) * rowLength);
      const p = tf.tidy(() => forward(tf.tensor2d(slice, [count * positions, channels]), count));
      rows.push(...(p.arraySync() as number[][]));
      p.dispose();
    }
    return rows;
  };

  const order = train.labels.map((_, i) => i);
  const history: EpochLog[] = [];
  let best = { loss: Number.POSITIVE_INFINITY, epoch: -1, weights: [] as tf.Tensor[] };
  for (let epoch = 0; epoch < (options.epochs ?? 30); epoch++) {
    shuffleInPlace(order, random);
    let lossSum = 0;
    for (let s = 0; s < order.length; s += batchSize) {
      const batch = order.slice(s, s + batchSize);
      const rows = new Float32Array(batch.length * rowLength);
      batch.forEach((row, k) => rows.set(train.features.subarray(row * rowLength, (row + 1) * rowLength), k * rowLength));
      const loss = tf.tidy(() => {
        const x = tf.tensor2d(rows, [batch.length * positions, channels]);
        const y = tf.oneHot(tf.tensor1d(batch.map((i) => train.labels[i]!), 'int32'), CELL_TYPES.length);
        return optimizer.minimize(() => {
          const p = forward(x, batch.length);
          const data = tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1)));
          // Pull the convolution towards its ImageNet weights, not towards zero: few cells, many weights.
          const drift = tf.sum(tf.square(tf.sub(kernel, initial)));
          return tf.add(data, tf.mul(l2, tf.add(drift, tf.sum(tf.square(headKernel))))) as tf.Scalar;
        }, true)!;
      });
      lossSum += (await loss.data())[0]! * batch.length;
      loss.dispose();
    }

    const probabilities = predict(validation);
    const log: EpochLog = {
      epoch,
      trainLoss: lossSum / order.length,
      validationLoss: meanLoss(probabilities, validation.labels),
      validationAccuracy: probabilities.filter((row, i) => row.indexOf(Math.max(...row)) === validation.labels[i]).length / probabilities.length,
    };
    history.push(log);
    options.onEpoch?.(log);
    if (log.validationLoss < best.loss - 1e-4) {
      tf.dispose(best.weights);
      best = { loss: log.validationLoss, epoch, weights: [kernel.clone(), headKernel.clone(), headBias.clone()] };
    } else if (epoch - best.epoch >= patience) {
      break;
    }
  }

  kernel.assign(best.weights[0] as tf.Tensor2D);
  headKernel.assign(best.weights[1] as tf.Tensor2D);
  headBias.assign(best.weights[2] as tf.Tensor1D);
  const validationProbabilities = predict(validation);
  const head = createHead(options.headShape, { kind: 'pooled', seed: options.seed ?? 0 });
  head.setWeights([headKernel, headBias]);
  const tunedKernel = kernel.clone() as tf.Tensor2D;
  tf.dispose([...best.weights, kernel, initial, headKernel, headBias]);
  optimizer.dispose();
  return { kernel: tunedKernel, head, history, bestEpoch: best.epoch, validationProbabilities };
}

function meanLoss(probabilities: number[][], labels: readonly number[]): number {
  return probabilities.reduce((total, row, i) => total - Math.log(Math.max(row[labels[i]!]!, 1e-7)), 0) / probabilities.length;
}

function findLayer(model: tfl.LayersModel, name: string): ReturnType<tfl.LayersModel['getLayer']> {
  for (const layer of model.layers) {
    if (layer.name === name) return layer;
    if ('layers' in layer) {
      try {
        return findLayer(layer as tfl.LayersModel, name);
      } catch {
        // Not in this sub-model; keep looking.
      }
    }
  }
  throw new Error(`no layer "${name}" in model "${model.name}"`);
}
