import { describe, expect, it } from 'vitest';

import { fitOutlierModel, outlierScore, poolFeatures } from './index.js';

function cluster(count: number, centre: number[], seed: number): Float32Array {
  let state = seed;
  // A tiny LCG: deterministic noise without a dependency.
  const random = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 4294967296);
  const rows = new Float32Array(count * centre.length);
  for (let n = 0; n < count; n++) centre.forEach((c, j) => (rows[n * centre.length + j] = c + (random() - 0.5)));
  return rows;
}

describe('outlier model', () => {
  it('averages features over positions', () => {
    expect(Array.from(poolFeatures(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 2, 2))).toEqual([2, 3, 6, 7]);
  });

  it('scores images near a class mean low and far from all high, flagging about 1 - quantile', () => {
    const a = cluster(200, [0, 0, 0], 1);
    const b = cluster(200, [5, 5, 5], 2);
    const train = new Float32Array([...a, ...b]);
    const labels = [...new Array(200).fill(0), ...new Array(200).fill(1)];
    const heldOut = new Float32Array([...cluster(100, [0, 0, 0], 3), ...cluster(100, [5, 5, 5], 4)]);
    const model = fitOutlierModel(train, labels, heldOut, 3, 2, 0.95);

    expect(model.means[1]![0]).toBeCloseTo(5, 0);
    expect(outlierScore(model, [0.1, -0.1, 0])).toBeLessThan(model.threshold);
    expect(outlierScore(model, [20, -20, 20])).toBeGreaterThan(model.threshold * 10);
    let flagged = 0;
    for (let n = 0; n < 200; n++) if (outlierScore(model, heldOut.subarray(n * 3, n * 3 + 3)) > model.threshold) flagged++;
    expect(flagged).toBeLessThanOrEqual(10);
  });
});
