import { CELL_TYPES } from '@bloodcell/core';

import { seededRandom, shuffleInPlace } from '../random/index.js';

/** Anything that belongs to a field group and has a class label. */
export interface Grouped {
  group: string;
  label: number;
}

/**
 * Splits by field group: every image of a group lands on the same side, so the validation score is
 * measured on cells the model never saw. Groups are taken per class (by the group's majority
 * label) so that each cell type is represented in validation even when it has few groups.
 *
 * @example
 * const { train, validation } = splitByGroup(images, { validationShare: 0.2, seed: 7 });
 */
export function splitByGroup<T extends Grouped>(
  items: readonly T[],
  options: { validationShare: number; seed: number },
): { train: T[]; validation: T[]; validationGroups: string[] } {
  const folds = assignGroupFolds(items, Math.round(1 / options.validationShare), options.seed);
  const validationGroups = [...folds.entries()].filter(([, fold]) => fold === 0).map(([group]) => group);
  const held = new Set(validationGroups);
  return {
    train: items.filter((item) => !held.has(item.group)),
    validation: items.filter((item) => held.has(item.group)),
    validationGroups: validationGroups.sort(),
  };
}

/**
 * K group folds for cross-validation: yields (train, validation) pairs in which no group is on
 * both sides, with each class's groups dealt round-robin over the folds.
 *
 * @example
 * for (const { train, validation } of groupFolds(images, 5, 7)) { … }
 */
export function groupFolds<T extends Grouped>(
  items: readonly T[],
  folds: number,
  seed: number,
): { train: T[]; validation: T[] }[] {
  const assignment = assignGroupFolds(items, folds, seed);
  return Array.from({ length: folds }, (_, fold) => ({
    train: items.filter((item) => assignment.get(item.group) !== fold),
    validation: items.filter((item) => assignment.get(item.group) === fold),
  }));
}

function assignGroupFolds(items: readonly Grouped[], folds: number, seed: number): Map<string, number> {
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError(`need at least 2 folds; got ${folds}`);

  const votes = new Map<string, number[]>();
  for (const item of items) {
    const counts = votes.get(item.group) ?? new Array<number>(CELL_TYPES.length).fill(0);
    counts[item.label]! += 1;
    votes.set(item.group, counts);
  }

  const random = seededRandom(seed);
  const assignment = new Map<string, number>();
  for (let label = 0; label < CELL_TYPES.length; label++) {
    const groups = [...votes.entries()]
      .filter(([, counts]) => counts.indexOf(Math.max(...counts)) === label)
      .map(([group]) => group)
      .sort();
    shuffleInPlace(groups, random);
    // Each class starts at a different fold so small classes do not all pile into fold 0.
    groups.forEach((group, i) => assignment.set(group, (i + label) % folds));
  }
  return assignment;
}
