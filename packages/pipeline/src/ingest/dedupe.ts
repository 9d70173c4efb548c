import type { CellType } from '@bloodcell/core';

/** An image that decoded, before duplicates are dropped. */
export interface Candidate {
  /** `<CELL_TYPE>/<file>`. */
  path: string;
  class: CellType;
  sha256: string;
}

/** A byte-identical copy of a kept image of the same class, dropped. */
export interface DroppedDuplicate {
  path: string;
  duplicateOf: string;
  sha256: string;
}

/** One image content filed under more than one cell type. */
export interface CrossClassDuplicate {
  sha256: string;
  paths: string[];
  /** The copy kept (`keep-first`), or null when all were dropped (`drop`). */
  kept: string | null;
}

/**
 * Drops byte-identical duplicates: within a class the first path (in sorted order) is kept; an
 * image filed under several classes has a label nobody can trust, so with `drop` every copy goes,
 * with `keep-first` the first path stays. Returns the paths kept and what was dropped.
 *
 * @example
 * const { kept, duplicates, crossClass } = dropDuplicates(candidates, 'drop');
 */
export function dropDuplicates<T extends Candidate>(
  candidates: readonly T[],
  conflicts: 'drop' | 'keep-first',
): { kept: T[]; duplicates: DroppedDuplicate[]; crossClass: CrossClassDuplicate[] } {
  const bySha = new Map<string, T[]>();
  for (const candidate of [...candidates].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  )) {
    bySha.set(candidate.sha256, [...(bySha.get(candidate.sha256) ?? []), candidate]);
  }

  const kept: T[] = [];
  const duplicates: DroppedDuplicate[] = [];
  const crossClass: CrossClassDuplicate[] = [];
  for (const [sha256, copies] of bySha) {
    const first = copies[0]!;
    const classes = new Set(copies.map((copy) => copy.class));
    if (classes.size > 1) {
      const keep = conflicts === 'keep-first';
      crossClass.push({ sha256, paths: copies.map((copy) => copy.path), kept: keep ? first.path : null });
      if (keep) kept.push(first);
      continue;
    }
    kept.push(first);
    for (const copy of copies.slice(1))
      duplicates.push({ path: copy.path, duplicateOf: first.path, sha256 });
  }
  kept.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { kept, duplicates, crossClass };
}
