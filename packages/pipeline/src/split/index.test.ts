import { describe, expect, it } from 'vitest';

import { groupFolds, splitByGroup } from './index.js';

/** 4 classes x 10 groups x 5 images; group names encode their class. */
const items = Array.from({ length: 4 }, (_, label) =>
  Array.from({ length: 10 }, (_, g) => Array.from({ length: 5 }, (_, i) => ({ group: `c${label}g${g}`, label, id: `${label}-${g}-${i}` }))),
).flat(2);

describe('splitByGroup', () => {
  it('never puts one field group on both sides', () => {
    const { train, validation } = splitByGroup(items, { validationShare: 0.2, seed: 1 });
    const trainGroups = new Set(train.map((item) => item.group));
    expect(validation.some((item) => trainGroups.has(item.group))).toBe(false);
    expect(train.length + validation.length).toBe(items.length);
  });

  it('holds out about the share asked, with every class represented', () => {
    const { validation, validationGroups } = splitByGroup(items, { validationShare: 0.2, seed: 1 });
    expect(validationGroups).toHaveLength(8);
    expect(new Set(validation.map((item) => item.label)).size).toBe(4);
  });

  it('repeats exactly for a seed and differs for another', () => {
    const a = splitByGroup(items, { validationShare: 0.2, seed: 1 }).validationGroups;
    expect(splitByGroup(items, { validationShare: 0.2, seed: 1 }).validationGroups).toEqual(a);
    expect(splitByGroup(items, { validationShare: 0.2, seed: 2 }).validationGroups).not.toEqual(a);
  });
});

describe('groupFolds', () => {
  it('covers every image exactly once in validation across the folds', () => {
    const folds = groupFolds(items, 5, 3);
    const seen = folds.flatMap((fold) => fold.validation.map((item) => item.id)).sort();
    expect(seen).toEqual(items.map((item) => item.id).sort());
    for (const fold of folds) {
      const held = new Set(fold.validation.map((item) => item.group));
      expect(fold.train.some((item) => held.has(item.group))).toBe(false);
    }
  });

  it('refuses fewer than two folds', () => {
    expect(() => groupFolds(items, 1, 0)).toThrow(/at least 2 folds/);
  });
});
