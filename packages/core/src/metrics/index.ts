import { CELL_TYPES, type CellType } from '../cell-types.js';

/** Counts of [actual][predicted] over the cell types, in CELL_TYPES order. */
export type ConfusionMatrix = number[][];

/** The validation figures a bundle carries and reports print. */
export interface ClassificationReport {
  images: number;
  accuracy: number;
  balancedAccuracy: number;
  macroF1: number;
  recall: Record<CellType, number>;
  precision: Record<CellType, number>;
  /** Rows are the true cell type, columns the predicted one, both in CELL_TYPES order. */
  confusionMatrix: ConfusionMatrix;
  /** Expected calibration error (15 equal-width confidence bins). */
  expectedCalibrationError?: number;
}

/**
 * Counts predictions per (true, predicted) class.
 *
 * @example
 * confusionMatrix([0, 1, 1], [0, 1, 0], 2); // [[1, 0], [1, 1]]
 */
export function confusionMatrix(actual: readonly number[], predicted: readonly number[], classes: number) {
  if (actual.length !== predicted.length) {
    throw new RangeError(`actual has ${actual.length} labels but predicted has ${predicted.length}`);
  }
  const matrix: ConfusionMatrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  actual.forEach((truth, i) => {
    const guess = predicted[i]!;
    if (!(truth >= 0 && truth < classes && guess >= 0 && guess < classes)) {
      throw new RangeError(`label out of range 0..${classes - 1}: actual ${truth}, predicted ${guess}`);
    }
    matrix[truth]![guess]! += 1;
  });
  return matrix;
}

/**
 * Share of images whose predicted class is the true one; NaN when there are none.
 *
 * @example
 * accuracy([[1, 0], [1, 1]]); // 0.666…
 */
export function accuracy(matrix: ConfusionMatrix): number {
  const total = sum(matrix.map(sum));
  return sum(matrix.map((row, i) => row[i]!)) / total;
}

/**
 * Recall of each class: the diagonal over the row total (NaN for a class with no images).
 *
 * @example
 * recallPerClass([[1, 0], [1, 1]]); // [1, 0.5]
 */
export function recallPerClass(matrix: ConfusionMatrix): number[] {
  return matrix.map((row, i) => row[i]! / sum(row));
}

/**
 * Precision of each class: the diagonal over the column total (NaN for a class never predicted).
 *
 * @example
 * precisionPerClass([[1, 0], [1, 1]]); // [0.5, 1]
 */
export function precisionPerClass(matrix: ConfusionMatrix): number[] {
  return matrix.map((_, j) => matrix[j]![j]! / sum(matrix.map((row) => row[j]!)));
}

/**
 * Mean recall over the classes that have images: accuracy that a class imbalance cannot flatter.
 *
 * @example
 * balancedAccuracy([[1, 0], [1, 1]]); // 0.75
 */
export function balancedAccuracy(matrix: ConfusionMatrix): number {
  return mean(recallPerClass(matrix).filter((recall) => !Number.isNaN(recall)));
}

/**
 * Unweighted mean of per-class F1 (a class with no images and no predictions is left out;
 * a class never predicted correctly counts as 0).
 *
 * @example
 * macroF1([[1, 0], [1, 1]]); // (0.667 + 0.667) / 2
 */
export function macroF1(matrix: ConfusionMatrix): number {
  const recall = recallPerClass(matrix);
  const precision = precisionPerClass(matrix);
  const scores = matrix.flatMap((row, i) => {
    if (sum(row) === 0 && sum(matrix.map((r) => r[i]!)) === 0) return [];
    const p = Number.isNaN(precision[i]!) ? 0 : precision[i]!;
    const r = Number.isNaN(recall[i]!) ? 0 : recall[i]!;
    return [p + r === 0 ? 0 : (2 * p * r) / (p + r)];
  });
  return mean(scores);
}

/**
 * Expected calibration error: how far the top probability is from the observed accuracy,
 * averaged over equal-width confidence bins weighted by their share of images.
 *
 * @example
 * expectedCalibrationError([[0.9, 0.1], [0.6, 0.4]], [0, 1]); // (|0.9-1| + |0.6-0|) / 2 = 0.35
 */
export function expectedCalibrationError(
  probabilities: readonly (readonly number[])[],
  labels: readonly number[],
  bins = 15,
): number {
  const count = new Array<number>(bins).fill(0);
  const confidence = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  probabilities.forEach((row, i) => {
    const top = argmax(row);
    const p = row[top]!;
    const bin = Math.min(bins - 1, Math.floor(p * bins));
    count[bin]! += 1;
    confidence[bin]! += p;
    correct[bin]! += top === labels[i] ? 1 : 0;
  });
  const total = probabilities.length;
  return sum(count.map((n, b) => (n === 0 ? 0 : (n / total) * Math.abs(confidence[b]! / n - correct[b]! / n))));
}

/**
 * Everything a validation run reports, from true labels and predicted probabilities.
 *
 * @example
 * const report = classificationReport([[0.7, 0.1, 0.1, 0.1]], [0]);
 * report.accuracy; // 1
 */
export function classificationReport(
  probabilities: readonly (readonly number[])[],
  labels: readonly number[],
): ClassificationReport {
  const predicted = probabilities.map(argmax);
  const matrix = confusionMatrix(labels, predicted, CELL_TYPES.length);
  const recall = recallPerClass(matrix);
  const precision = precisionPerClass(matrix);
  return {
    images: labels.length,
    accuracy: accuracy(matrix),
    balancedAccuracy: balancedAccuracy(matrix),
    macroF1: macroF1(matrix),
    recall: byCellType(recall),
    precision: byCellType(precision),
    confusionMatrix: matrix,
    expectedCalibrationError: expectedCalibrationError(probabilities, labels),
  };
}

/**
 * Index of the largest value (the first one on ties).
 *
 * @example
 * argmax([0.1, 0.7, 0.2]); // 1
 */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function byCellType(values: number[]): Record<CellType, number> {
  return Object.fromEntries(CELL_TYPES.map((cellType, i) => [cellType, values[i]!])) as Record<
    CellType,
    number
  >;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : sum(values) / values.length;
}
