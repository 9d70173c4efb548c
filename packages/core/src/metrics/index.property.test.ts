import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  accuracy,
  balancedAccuracy,
  classificationReport,
  confusionMatrix,
  expectedCalibrationError,
  macroF1,
} from './index.js';

const CLASSES = 4;

/** Paired true and predicted labels (at least one image). */
const predictions = fc
  .array(fc.tuple(fc.integer({ min: 0, max: CLASSES - 1 }), fc.integer({ min: 0, max: CLASSES - 1 })), {
    minLength: 1,
    maxLength: 200,
  })
  .map((pairs) => ({ actual: pairs.map(([a]) => a), predicted: pairs.map(([, p]) => p) }));

/** Probability rows over the classes (each sums to 1) with a true label each. */
const scored = fc
  .array(
    fc.tuple(
      fc.array(fc.double({ min: 0.001, max: 1, noNaN: true }), { minLength: CLASSES, maxLength: CLASSES }),
      fc.integer({ min: 0, max: CLASSES - 1 }),
    ),
    { minLength: 1, maxLength: 150 },
  )
  .map((rows) => ({
    probabilities: rows.map(([weights]) => weights.map((w) => w / weights.reduce((a, b) => a + b, 0))),
    labels: rows.map(([, label]) => label),
  }));

const permutation = fc.shuffledSubarray([0, 1, 2, 3], { minLength: CLASSES, maxLength: CLASSES });

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe('metrics properties', () => {
  it('confusion matrix: cells sum to the images, rows to the true counts, columns to the predicted', () => {
    fc.assert(
      fc.property(predictions, ({ actual, predicted }) => {
        const matrix = confusionMatrix(actual, predicted, CLASSES);
        expect(sum(matrix.map(sum))).toBe(actual.length);
        for (let k = 0; k < CLASSES; k++) {
          expect(sum(matrix[k]!)).toBe(actual.filter((a) => a === k).length);
          expect(sum(matrix.map((row) => row[k]!))).toBe(predicted.filter((p) => p === k).length);
        }
      }),
    );
  });

  it('accuracy, balanced accuracy and macro-F1 lie in [0, 1], and are 1 for perfect predictions', () => {
    fc.assert(
      fc.property(predictions, ({ actual, predicted }) => {
        const matrix = confusionMatrix(actual, predicted, CLASSES);
        for (const value of [accuracy(matrix), balancedAccuracy(matrix), macroF1(matrix)]) {
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(1);
        }
        const perfect = confusionMatrix(actual, actual, CLASSES);
        expect([accuracy(perfect), balancedAccuracy(perfect), macroF1(perfect)]).toEqual([1, 1, 1]);
      }),
    );
  });

  it('renaming the classes changes no summary figure', () => {
    fc.assert(
      fc.property(predictions, permutation, ({ actual, predicted }, order) => {
        const rename = (label: number) => order[label]!;
        const original = confusionMatrix(actual, predicted, CLASSES);
        const renamed = confusionMatrix(actual.map(rename), predicted.map(rename), CLASSES);
        expect(balancedAccuracy(renamed)).toBeCloseTo(balancedAccuracy(original), 12);
        expect(macroF1(renamed)).toBeCloseTo(macroF1(original), 12);
        expect(accuracy(renamed)).toBe(accuracy(original));
      }),
    );
  });

  it('expected calibration error lies in [0, 1]; the report agrees with its parts', () => {
    fc.assert(
      fc.property(scored, ({ probabilities, labels }) => {
        const ece = expectedCalibrationError(probabilities, labels);
        expect(ece).toBeGreaterThanOrEqual(0);
        expect(ece).toBeLessThanOrEqual(1);
        const report = classificationReport(probabilities, labels);
        expect(report.images).toBe(labels.length);
        expect(sum(report.confusionMatrix.map(sum))).toBe(labels.length);
        expect(report.expectedCalibrationError).toBe(ece);
        expect(report.accuracy).toBeGreaterThanOrEqual(0);
        expect(report.accuracy).toBeLessThanOrEqual(1);
      }),
    );
  });
});
