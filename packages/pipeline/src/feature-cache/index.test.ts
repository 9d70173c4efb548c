import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FeatureCache, extractorId, sha256 } from './index.js';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'bloodcell-cache-'));
});

afterAll(() => rm(work, { recursive: true, force: true }));

describe('FeatureCache', () => {
  it('stores and returns features by image hash', async () => {
    const cache = new FeatureCache(work, 'abc', 3);
    const hash = sha256('image bytes');
    expect(await cache.get(hash)).toBeUndefined();
    await cache.put(hash, Float32Array.from([1, 2.5, -3]));
    expect(Array.from((await cache.get(hash))!)).toEqual([1, 2.5, -3]);
  });

  it('ignores a damaged entry of the wrong length', async () => {
    const cache = new FeatureCache(work, 'def', 4);
    const hash = sha256('other');
    await mkdir(join(work, 'def', hash.slice(0, 2)), { recursive: true });
    await writeFile(join(work, 'def', hash.slice(0, 2), `${hash}.f32`), Buffer.alloc(7));
    expect(await cache.get(hash)).toBeUndefined();
    await expect(cache.put(hash, new Float32Array(3))).rejects.toThrow(/expected 4/);
  });

  it('keys extractors by everything that changes the features', () => {
    expect(extractorId({ a: 1 })).toBe(extractorId({ a: 1 }));
    expect(extractorId({ a: 1 })).not.toBe(extractorId({ a: 2 }));
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
