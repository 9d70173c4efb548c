import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { replaceFolderAtomic, writeFileAtomic } from './index.js';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'bloodcell-atomic-'));
});

afterAll(() => rm(work, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('creates parent folders, replaces content, and leaves no temporary file', async () => {
    const target = join(work, 'a', 'b', 'file.txt');
    await writeFileAtomic(target, 'one');
    await writeFileAtomic(target, 'two');
    expect(await readFile(target, 'utf8')).toBe('two');
    expect(await readdir(join(work, 'a', 'b'))).toEqual(['file.txt']);
  });
});

describe('replaceFolderAtomic', () => {
  it('swaps in the new folder whole', async () => {
    const target = join(work, 'bundle');
    await mkdir(target);
    await writeFile(join(target, 'old.txt'), 'old');
    await replaceFolderAtomic(target, async (staging) => writeFile(join(staging, 'new.txt'), 'new'));
    expect(await readdir(target)).toEqual(['new.txt']);
    expect((await readdir(work)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('leaves the previous folder untouched when filling fails half way', async () => {
    const target = join(work, 'kept');
    await mkdir(target);
    await writeFile(join(target, 'good.txt'), 'good');
    const failing = replaceFolderAtomic(target, async (staging) => {
      await writeFile(join(staging, 'half.txt'), 'half');
      throw new Error('disk full');
    });
    await expect(failing).rejects.toThrow('disk full');
    expect(await readdir(target)).toEqual(['good.txt']);
    expect((await readdir(work)).filter((name) => name.startsWith('.'))).toEqual([]);
  });
});
