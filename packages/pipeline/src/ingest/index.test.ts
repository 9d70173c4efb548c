import { lstat, mkdtemp, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { labelledFiles, writeFiles } from '../../test/fixtures.js';
import { listLabelledImages, readGroups } from '../dataset/index.js';
import { type IngestManifest, ingest } from './index.js';

describe('ingest of a local folder', () => {
  let root: string;
  let manifest: IngestManifest;
  const lines: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'bloodcell-ingest-'));
    const { files, groupsCsv } = await labelledFiles();
    await writeFiles(join(root, 'data'), files);
    await writeFile(join(root, 'groups.csv'), groupsCsv);
    manifest = await ingest({
      source: 'data',
      groupsCsv: 'groups.csv',
      root,
      outDir: join(root, 'artifacts/ingest'),
      cacheDir: join(root, 'artifacts/cache/ingest'),
      attempts: 1,
      log: (line) => lines.push(line),
    });
  });

  it('keeps each decodable image once, with its size and group', () => {
    expect(manifest.images.map((image) => image.path)).toEqual([
      'EOSINOPHIL/e1.png',
      'LYMPHOCYTE/l0.jpeg',
      'LYMPHOCYTE/l1.png',
      'MONOCYTE/copy.jpeg',
      'MONOCYTE/m1.png',
      'NEUTROPHIL/n0.jpeg',
      'NEUTROPHIL/n1.png',
    ]);
    expect(manifest.images[1]).toMatchObject({
      class: 'LYMPHOCYTE',
      width: 48,
      height: 48,
      group: 'G-LYMPHOCYTE-0',
      sourcePhoto: 'photo-LYMPHOCYTE.jpg',
      origin: 'data/LYMPHOCYTE/l0.jpeg',
    });
    expect(manifest.images[1]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.counts).toEqual({ EOSINOPHIL: 1, LYMPHOCYTE: 2, MONOCYTE: 2, NEUTROPHIL: 2 });
    expect(manifest.ignored).toBe(1);
  });

  it('quarantines the undecodable image with the reason', async () => {
    expect(manifest.quarantined).toEqual([
      expect.objectContaining({
        path: 'LYMPHOCYTE/broken.jpeg',
        reason: expect.stringMatching(/truncated or corrupt|not a readable image/),
      }),
    ]);
    const copy = await readFile(join(root, 'artifacts/ingest/quarantine/LYMPHOCYTE/broken.jpeg'));
    expect(copy.byteLength).toBe(60);
    const reasons = JSON.parse(
      await readFile(join(root, 'artifacts/ingest/quarantine/reasons.json'), 'utf8'),
    );
    expect(reasons[0].path).toBe('LYMPHOCYTE/broken.jpeg');
  });

  it('drops duplicates and reports the cross-class one', () => {
    expect(manifest.duplicates).toEqual([
      expect.objectContaining({ path: 'MONOCYTE/m0.jpeg', duplicateOf: 'MONOCYTE/copy.jpeg' }),
    ]);
    expect(manifest.crossClassDuplicates).toEqual([
      expect.objectContaining({ paths: ['EOSINOPHIL/e0.jpeg', 'NEUTROPHIL/twin.jpeg'], kept: null }),
    ]);
    expect(lines.at(-1)).toMatch(
      /^ingest: 7 images \(EOSINOPHIL 1, LYMPHOCYTE 2, MONOCYTE 2, NEUTROPHIL 2\) from data; 1 quarantined, 1 duplicates dropped, 1 cross-class duplicates, 1 other files ignored; /,
    );
  });

  it('links local images in place and writes a groups.csv the trainer reads', async () => {
    const link = join(root, 'artifacts/ingest/images/MONOCYTE/m1.png');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('../../../../data/MONOCYTE/m1.png');
    const groups = await readGroups(join(root, 'artifacts/ingest/groups.csv'));
    const images = await listLabelledImages(join(root, 'artifacts/ingest/images'), groups);
    expect(images).toHaveLength(7);
    expect(images.find((image) => image.name === 'MONOCYTE/m1.png')?.group).toBe('G-MONOCYTE-1');
  });

  it('copies instead of linking with copyLocal, and leaves no staging folder behind', async () => {
    await ingest({
      source: 'data',
      root,
      outDir: join(root, 'artifacts/ingest'),
      cacheDir: join(root, 'artifacts/cache/ingest'),
      attempts: 1,
      copyLocal: true,
      conflicts: 'keep-first',
    });
    const link = join(root, 'artifacts/ingest/images/EOSINOPHIL/e0.jpeg');
    expect((await lstat(link)).isFile()).toBe(true);
    expect(await readdir(join(root, 'artifacts/ingest/images/MONOCYTE'))).toEqual(['copy.jpeg', 'm1.png']);
    expect(await readdir(join(root, 'artifacts'))).toEqual(['ingest']);
  });
});
