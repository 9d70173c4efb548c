import { describe, expect, it } from 'vitest';

import {
  accuracy,
  argmax,
  balancedAccuracy,
  classificationReport,
  confusionMatrix,
  expectedCalibrationError,
  macroF1,
  precisionPerClass,
  recallPerClass,
} from './index.js';

describe('metrics', () => {
  const matrix = confusionMatrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 2], 3);

  it('counts true against predicted classes', () => {
    expect(matrix).toEqual([[2, 1, 0], [1, 1, 0], [0, 0, 1]]);
  });

  it('computes accuracy, recall, precision, balanced accuracy and macro-F1 by hand', () => {
    expect(accuracy(matrix)).toBeCloseTo(4 / 6);
    expect(recallPerClass(matrix)).toEqual([2 / 3, 1 / 2, 1]);
    expect(precisionPerClass(matrix)).toEqual([2 / 3, 1 / 2, 1]);
    expect(balancedAccuracy(matrix)).toBeCloseTo((2 / 3 + 1 / 2 + 1) / 3);
    expect(macroF1(matrix)).toBeCloseTo((2 / 3 + 1 / 2 + 1) / 3);
  });

  it('leaves a class without images out of balanced accuracy', () => {
    expect(balancedAccuracy(confusionMatrix([0, 1], [0, 0], 3))).toBeCloseTo(0.5);
  });

  it('rejects mismatched or out-of-range labels', () => {
    expect(() => confusionMatrix([0], [0, 1], 2)).toThrow(RangeError);
    expect(() => confusionMatrix([0], [5], 2)).toThrow(/out of range/);
  });

  it('measures calibration error per confidence bin', () => {
    expect(expectedCalibrationError([[0.9, 0.1], [0.6, 0.4]], [0, 1])).toBeCloseTo(0.35);
    expect(expectedCalibrationError([[1, 0], [0, 1]], [0, 1])).toBeCloseTo(0);
  });

  it('reports per cell type', () => {
    const report = classificationReport(
      [[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7]],
      [0, 1, 2, 3],
    );
    expect(report.accuracy).toBe(0.75);
    expect(report.recall.MONOCYTE).toBe(0);
    expect(report.precision.LYMPHOCYTE).toBe(0.5);
    expect(report.confusionMatrix[2]).toEqual([0, 1, 0, 0]);
  });

  it('takes the first maximum', () => {
    expect(argmax([0.2, 0.4, 0.4])).toBe(1);
  });
});
