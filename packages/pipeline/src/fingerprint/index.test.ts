import { mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  codeVersion,
  hashFile,
  hashFolder,
  hashListing,
  hashValue,
  listFiles,
  stableJson,
} from './index.js';

describe('fingerprints', () => {
  it('hashes values independently of key order', () => {
    expect(stableJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
    expect(hashValue({ b: 1, a: 2 })).toBe(hashValue({ a: 2, b: 1 }));
    expect(hashValue({ a: 1 })).not.toBe(hashValue({ a: 2 }));
  });

  it('hashes folders by content, and big folders by their listing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bloodcell-hash-'));
    await mkdir(join(dir, 'MONOCYTE'));
    await writeFile(join(dir, 'MONOCYTE/a.jpeg'), 'one');
    await writeFile(join(dir, 'b.txt'), 'two');
    expect(await listFiles(dir)).toEqual(['MONOCYTE/a.jpeg', 'b.txt']);
    expect(await hashFile(join(dir, 'b.txt'))).toBe(
      '3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3',
    );

    const [content, listing] = [await hashFolder(dir), await hashListing(dir)];
    await writeFile(join(dir, 'b.txt'), 'TWO');
    expect(await hashFolder(dir)).not.toBe(content);
    const past = new Date('2020-01-01');
    await utimes(join(dir, 'b.txt'), past, past);
    expect(await hashListing(dir)).not.toBe(listing);
  });

  it('versions the code by package version and a hash of the sources it runs from', async () => {
    const code = await codeVersion();
    expect(code.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(code.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await codeVersion()).sha256).toBe(code.sha256);
  });
});
