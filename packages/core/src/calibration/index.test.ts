import { describe, expect, it } from 'vitest';

import { applyTemperature, chooseReviewThreshold, fitTemperature, negativeLogLikelihood } from './index.js';

describe('temperature scaling', () => {
  it('softens probabilities above 1 and leaves them alone at 1', () => {
    const [a, b] = applyTemperature([0.9, 0.1], 2);
    expect(a).toBeCloseTo(0.75);
    expect(b).toBeCloseTo(0.25);
    expect(applyTemperature([0.9, 0.1], 1)).toEqual([0.9, 0.1]);
  });

  it('finds a temperature above 1 for an overconfident model', () => {
    // Always 99% sure, right only 70% of the time.
    const probabilities = Array.from({ length: 100 }, () => [0.99, 0.01]);
    const labels = Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : 1));
    const temperature = fitTemperature(probabilities, labels);
    expect(temperature).toBeGreaterThan(1);
    const calibrated = probabilities.map((row) => applyTemperature(row, temperature));
    expect(calibrated[0]![0]).toBeCloseTo(0.7, 2);
    expect(negativeLogLikelihood(calibrated, labels)).toBeLessThan(negativeLogLikelihood(probabilities, labels));
  });
});

describe('chooseReviewThreshold', () => {
  it('picks the lowest threshold whose kept images reach the target accuracy', () => {
    const probabilities = [[0.95, 0.05], [0.9, 0.1], [0.6, 0.4], [0.55, 0.45]];
    const labels = [0, 0, 1, 1];
    const choice = chooseReviewThreshold(probabilities, labels, 0.95);
    expect(choice.keptAccuracy).toBe(1);
    expect(choice.referredShare).toBe(0.5);
    expect(choice.reviewThreshold).toBeGreaterThan(0.6);
    expect(choice.reviewThreshold).toBeLessThanOrEqual(0.9);
  });

  it('refers no more than the cap when the target cannot be reached within it', () => {
    const probabilities = [[0.95, 0.05], [0.9, 0.1], [0.85, 0.15], [0.6, 0.4], [0.55, 0.45], [0.52, 0.48]];
    const labels = [0, 1, 1, 1, 1, 0];
    const choice = chooseReviewThreshold(probabilities, labels, 0.99, 0.5);
    expect(choice.referredShare).toBeLessThanOrEqual(0.5);
    expect(choice.referredShare).toBeGreaterThan(0.3);
  });
});
