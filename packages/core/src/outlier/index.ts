/**
 * A check that an image is like the training images, on the backbone's features averaged over the
 * feature map: the distance to the nearest cell type's mean, in units of the training spread
 * (a diagonal Mahalanobis distance). Far from every class means "unlike the training images".
 */
export interface OutlierModel {
  /** Mean pooled feature vector of each cell type, in CELL_TYPES order. */
  means: number[][];
  /** Per-channel standard deviation of pooled features around their class mean. */
  spread: number[];
  /** Scores above this are flagged; set at a high quantile of held-out in-distribution images. */
  threshold: number;
  /** The quantile of validation scores the threshold was set at. */
  quantile: number;
}

/**
 * Averages [n, h * w * c] feature rows over the h x w positions: [n, c] pooled rows.
 *
 * @example
 * poolFeatures(Float32Array.from([1, 2, 3, 4]), 2, 2); // [2, 3]: one image, 2 positions, 2 channels
 */
export function poolFeatures(rows: Float32Array, positions: number, channels: number): Float32Array {
  const count = rows.length / (positions * channels);
  const pooled = new Float32Array(count * channels);
  for (let n = 0; n < count; n++) {
    const base = n * positions * channels;
    for (let p = 0; p < positions; p++) {
      for (let c = 0; c < channels; c++) pooled[n * channels + c]! += rows[base + p * channels + c]! / positions;
    }
  }
  return pooled;
}

/**
 * Mean squared standardised distance from a pooled feature vector to the nearest class mean.
 *
 * @example
 * outlierScore(model, pooledRow); // 1.3 for a typical cell, 20 for a photo of something else
 */
export function outlierScore(model: Pick<OutlierModel, 'means' | 'spread'>, pooled: ArrayLike<number>): number {
  let best = Number.POSITIVE_INFINITY;
  for (const mean of model.means) {
    let total = 0;
    for (let c = 0; c < mean.length; c++) {
      const z = (pooled[c]! - mean[c]!) / model.spread[c]!;
      total += z * z;
    }
    best = Math.min(best, total / mean.length);
  }
  return best;
}

/**
 * Fits class means and spread on training rows, then sets the threshold at `quantile` of the
 * scores of held-out rows, so about 1 - quantile of normal images are flagged.
 *
 * @example
 * const model = fitOutlierModel(trainPooled, trainLabels, validationPooled, 1280, 4);
 */
export function fitOutlierModel(
  trainPooled: Float32Array,
  trainLabels: readonly number[],
  heldOutPooled: Float32Array,
  channels: number,
  classes: number,
  quantile = 0.99,
): OutlierModel {
  const means = Array.from({ length: classes }, () => new Array<number>(channels).fill(0));
  const counts = new Array<number>(classes).fill(0);
  trainLabels.forEach((label, n) => {
    counts[label]! += 1;
    for (let c = 0; c < channels; c++) means[label]![c]! += trainPooled[n * channels + c]!;
  });
  means.forEach((mean, k) => mean.forEach((_, c) => (mean[c]! /= Math.max(1, counts[k]!))));

  const variance = new Array<number>(channels).fill(0);
  trainLabels.forEach((label, n) => {
    for (let c = 0; c < channels; c++) variance[c]! += (trainPooled[n * channels + c]! - means[label]![c]!) ** 2;
  });
  // A floor keeps dead channels (always 0 after ReLU) from dividing by zero.
  const spread = variance.map((v) => Math.sqrt(v / Math.max(1, trainLabels.length - classes)) + 1e-3);

  const scores: number[] = [];
  for (let n = 0; n < heldOutPooled.length / channels; n++) {
    scores.push(outlierScore({ means, spread }, heldOutPooled.subarray(n * channels, (n + 1) * channels)));
  }
  scores.sort((a, b) => a - b);
  const threshold = scores[Math.min(scores.length - 1, Math.floor(quantile * scores.length))] ?? Number.POSITIVE_INFINITY;
  return { means, spread, threshold, quantile };
}
