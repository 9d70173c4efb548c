import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { applyTemperature, fitTemperature } from './index.js';

/** A probability row over 2-6 classes; zeros and near-ties included. */
const distribution = fc
  .array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(0)), { minLength: 2, maxLength: 6 })
  .filter((weights) => weights.some((w) => w > 0))
  .map((weights) => weights.map((w) => w / weights.reduce((a, b) => a + b, 0)));

const temperature = fc.double({ min: 0.05, max: 20, noNaN: true });

describe('calibration properties', () => {
  it('applyTemperature gives probabilities summing to 1, each in [0, 1]', () => {
    fc.assert(
      fc.property(distribution, temperature, (probabilities, t) => {
        const calibrated = applyTemperature(probabilities, t);
        expect(calibrated).toHaveLength(probabilities.length);
        expect(calibrated.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        for (const p of calibrated) {
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('applyTemperature keeps the order of the classes, so the answer never changes', () => {
    fc.assert(
      fc.property(distribution, temperature, (probabilities, t) => {
        const calibrated = applyTemperature(probabilities, t);
        for (let i = 0; i < probabilities.length; i++) {
          for (let j = 0; j < probabilities.length; j++) {
            // Math.log is not monotonic to the last bit, so near-ties may swap by an ulp or two.
            if (probabilities[i]! > probabilities[j]!)
              expect(calibrated[i]!).toBeGreaterThanOrEqual(calibrated[j]! - 1e-12);
          }
        }
        const top = Math.max(...probabilities);
        expect(probabilities[calibrated.indexOf(Math.max(...calibrated))]).toBeCloseTo(top, 9);
      }),
    );
  });

  it('fitTemperature stays within its search range', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            distribution.filter((row) => row.length === 4),
            fc.integer({ min: 0, max: 3 }),
          ),
          { minLength: 1, maxLength: 20 },
        ),
        (rows) => {
          const t = fitTemperature(
            rows.map(([row]) => row),
            rows.map(([, label]) => label),
          );
          expect(t).toBeGreaterThanOrEqual(0.05 - 1e-9);
          expect(t).toBeLessThanOrEqual(20 + 1e-9);
        },
      ),
      { numRuns: 30 },
    );
  });
});
