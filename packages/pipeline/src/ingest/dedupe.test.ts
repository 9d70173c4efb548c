import { describe, expect, it } from 'vitest';

import { dropDuplicates } from './dedupe.js';

const image = (path: string, sha256: string) => ({ path, class: path.split('/')[0] as 'MONOCYTE', sha256 });

describe('dropDuplicates', () => {
  const candidates = [
    image('MONOCYTE/b.jpeg', 'h1'),
    image('MONOCYTE/a.jpeg', 'h1'),
    image('MONOCYTE/c.jpeg', 'h2'),
    image('NEUTROPHIL/c.jpeg', 'h2'),
    image('NEUTROPHIL/d.jpeg', 'h3'),
  ];

  it('keeps the first of same-class copies and drops every copy of a cross-class one', () => {
    const { kept, duplicates, crossClass } = dropDuplicates(candidates, 'drop');
    expect(kept.map((k) => k.path)).toEqual(['MONOCYTE/a.jpeg', 'NEUTROPHIL/d.jpeg']);
    expect(duplicates).toEqual([{ path: 'MONOCYTE/b.jpeg', duplicateOf: 'MONOCYTE/a.jpeg', sha256: 'h1' }]);
    expect(crossClass).toEqual([
      { sha256: 'h2', paths: ['MONOCYTE/c.jpeg', 'NEUTROPHIL/c.jpeg'], kept: null },
    ]);
  });

  it('keeps the first cross-class copy with keep-first', () => {
    const { kept, crossClass } = dropDuplicates(candidates, 'keep-first');
    expect(kept.map((k) => k.path)).toEqual(['MONOCYTE/a.jpeg', 'MONOCYTE/c.jpeg', 'NEUTROPHIL/d.jpeg']);
    expect(crossClass[0]!.kept).toBe('MONOCYTE/c.jpeg');
  });
});
