import { describe, expect, it } from 'vitest';

import { seededRandom, shuffleInPlace } from './index.js';

describe('seededRandom', () => {
  it('repeats for a seed, stays in [0, 1), and is roughly uniform', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const values = Array.from({ length: 10_000 }, () => a());
    expect(values.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });

  it('shuffles into a permutation', () => {
    const shuffled = shuffleInPlace([1, 2, 3, 4, 5, 6], seededRandom(1));
    expect([...shuffled].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
