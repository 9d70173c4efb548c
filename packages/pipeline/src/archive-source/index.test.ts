import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';

import { checkArchiveUrl, extractArchive } from './index.js';

describe('extractArchive', () => {
  it('extracts only image files from a zip', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bloodcell-zip-'));
    const bytes = new Uint8Array([1, 2, 3]);
    await writeFile(join(dir, 'a.zip'), zipSync({ 'TRAIN/MONOCYTE/a.jpeg': bytes, 'README.md': bytes }));
    await extractArchive(join(dir, 'a.zip'), join(dir, 'out'));
    expect(await readdir(join(dir, 'out'), { recursive: true })).toEqual([
      'TRAIN',
      'TRAIN/MONOCYTE',
      'TRAIN/MONOCYTE/a.jpeg',
    ]);
  });

  it('streams many compressed entries out intact, and refuses a truncated archive', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bloodcell-zip-'));
    const entries = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`TRAIN/LYMPHOCYTE/${i}.png`, Uint8Array.from({ length: 70_000 }, (_, k) => (k * (i + 3)) % 251)]),
    );
    const zip = zipSync(entries, { level: 6 });
    await writeFile(join(dir, 'many.zip'), zip);
    await extractArchive(join(dir, 'many.zip'), join(dir, 'out'));
    for (const [name, bytes] of Object.entries(entries)) {
      expect(Buffer.from(bytes).equals(await readFile(join(dir, 'out', name))), name).toBe(true);
    }

    await writeFile(join(dir, 'cut.zip'), zip.subarray(0, Math.floor(zip.length / 2)));
    await expect(extractArchive(join(dir, 'cut.zip'), join(dir, 'out-cut'))).rejects.toThrow(/truncated|damaged/);
  });

  it('refuses entries that climb out of the folder, and unknown formats', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bloodcell-zip-'));
    await writeFile(join(dir, 'evil.zip'), zipSync({ '../../evil.jpeg': new Uint8Array([1]) }));
    await expect(extractArchive(join(dir, 'evil.zip'), join(dir, 'out'))).rejects.toThrow(
      'has an entry outside its folder: "../../evil.jpeg"',
    );
    await writeFile(join(dir, 'plain.bin'), 'hello');
    await expect(extractArchive(join(dir, 'plain.bin'), join(dir, 'out'))).rejects.toThrow(
      'is neither a .zip nor a .tar.gz archive',
    );
  });
});

describe('checkArchiveUrl', () => {
  it('takes https, and plain http only from loopback when allowed', () => {
    expect(() => checkArchiveUrl('https://example.org/a.zip', false)).not.toThrow();
    expect(() => checkArchiveUrl('http://localhost:8080/a.zip', true)).not.toThrow();
    expect(() => checkArchiveUrl('http://localhost:8080/a.zip', false)).toThrow('allowLoopbackHttp');
    expect(() => checkArchiveUrl('ftp://example.org/a.zip', true)).toThrow('https:// only.');
    expect(() => checkArchiveUrl('not a url', true)).toThrow('"not a url" is not a URL.');
  });
});
