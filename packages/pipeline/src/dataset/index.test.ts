import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GROUPS_CSV, HAS_SHARED, TRAIN_DIR } from '../../../../test-support/shared.js';
import { listLabelledImages, readGroups } from './index.js';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'bloodcell-dataset-'));
  await mkdir(join(work, 'data', 'MONOCYTE'), { recursive: true });
  await mkdir(join(work, 'data', 'NEUTROPHIL'), { recursive: true });
  await mkdir(join(work, 'data', 'notes'), { recursive: true });
  await writeFile(join(work, 'data', 'MONOCYTE', 'm1.jpeg'), 'x');
  await writeFile(join(work, 'data', 'MONOCYTE', 'readme.txt'), 'x');
  await writeFile(join(work, 'data', 'NEUTROPHIL', 'n1.png'), 'x');
  await writeFile(
    join(work, 'groups.csv'),
    'split,class,file,source_frame,field_group\nTRAIN,MONOCYTE,m1.jpeg,Blood_1.jpg,G7\n',
  );
});

afterAll(() => rm(work, { recursive: true, force: true }));

describe('dataset', () => {
  it('says what to do when the image folder does not exist', async () => {
    await expect(listLabelledImages(join(work, 'nowhere'))).rejects.toThrow(/No image folder at .*nowhere.*--data.*repro ingest/);
  });

  it('lists images under cell-type folders with labels and groups', async () => {
    const images = await listLabelledImages(join(work, 'data'), await readGroups(join(work, 'groups.csv')));
    expect(images.map((image) => [image.name, image.cellType, image.label, image.group])).toEqual([
      ['MONOCYTE/m1.jpeg', 'MONOCYTE', 2, 'G7'],
      ['NEUTROPHIL/n1.png', 'NEUTROPHIL', 3, 'file:NEUTROPHIL/n1.png'],
    ]);
  });

  it('names the expected layout when there is no cell-type folder', async () => {
    await expect(listLabelledImages(join(work, 'data', 'notes'))).rejects.toThrow(/EOSINOPHIL, LYMPHOCYTE/);
  });

  it('names a missing column of the groups file', async () => {
    await writeFile(join(work, 'bad.csv'), 'class,file\nMONOCYTE,m1.jpeg\n');
    await expect(readGroups(join(work, 'bad.csv'))).rejects.toThrow(/no "source_frame" column/);
  });

  it.skipIf(!HAS_SHARED)('reads the 9,957 shared images in 259 field groups', async () => {
    const images = await listLabelledImages(TRAIN_DIR, await readGroups(GROUPS_CSV));
    expect(images).toHaveLength(9957);
    expect(new Set(images.map((image) => image.group)).size).toBe(259);
  });
});
