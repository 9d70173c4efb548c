import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tinyMetadata } from '../../../../test-support/tiny-bundle.js';
import type { LabelledImage } from '../dataset/index.js';
import { type TrainingSettings, trainingInputs, upToDateBundle } from './index.js';

const CODE = Promise.resolve({ version: '0.0.0', sha256: 'c'.repeat(64) });

describe('trainingInputs and upToDateBundle', () => {
  let work: string;
  let images: LabelledImage[];
  let settings: TrainingSettings;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'bloodcell-inputs-'));
    images = [];
    for (const [i, cellType] of (['EOSINOPHIL', 'MONOCYTE'] as const).entries()) {
      const path = join(work, `${i}.jpeg`);
      await writeFile(path, `image ${i}`);
      images.push({ path, name: `${i}.jpeg`, cellType, label: i, group: `G${i}` });
    }
    settings = {
      extractor: 'a1b2c3', fit: 'cell-crop', head: 'pooled', views: ['mirror'],
      validationShare: 0.2, seed: 7, maxPerGroup: null, epochs: 40, learningRate: 1e-3, l2: 1e-2,
    };
  });

  afterAll(() => rm(work, { recursive: true, force: true }));

  it('changes with any image byte, label, group, setting, base or code, and only then', async () => {
    const before = await trainingInputs(images, settings, { code: CODE });
    expect(await trainingInputs(images, { ...settings }, { code: CODE })).toBe(before);

    const changed = [
      await trainingInputs([{ ...images[0]!, cellType: 'LYMPHOCYTE' }, images[1]!], settings, { code: CODE }),
      await trainingInputs([{ ...images[0]!, group: 'G9' }, images[1]!], settings, { code: CODE }),
      await trainingInputs(images, { ...settings, views: [] }, { code: CODE }),
      await trainingInputs(images, { ...settings, seed: 8 }, { code: CODE }),
      await trainingInputs(images, settings, { code: Promise.resolve({ version: '0.0.1', sha256: 'c'.repeat(64) }) }),
    ];
    await writeFile(images[1]!.path, 'image 1, edited');
    changed.push(await trainingInputs(images, settings, { code: CODE }));
    changed.push(await trainingInputs(images, { ...settings, extractor: 'a1b2c4' }, { code: CODE }));
    expect(new Set([before, ...changed]).size).toBe(changed.length + 1);
  });

  it('accepts a bundle only when complete and trained from the same inputs', async () => {
    const dir = join(work, 'model');
    await mkdir(dir);
    const metadata = tinyMetadata();
    await writeFile(join(dir, 'bloodcell.json'), JSON.stringify({ ...metadata, training: { ...metadata.training, inputs: 'abc' } }));
    expect(await upToDateBundle(dir, 'abc')).toBeUndefined(); // no model files yet

    await writeFile(join(dir, 'model.json'), '{}');
    await writeFile(join(dir, 'weights.bin'), '');
    expect((await upToDateBundle(dir, 'abc'))?.training.inputs).toBe('abc');
    expect(await upToDateBundle(dir, 'abd')).toBeUndefined();
    expect(await upToDateBundle(join(work, 'nowhere'), 'abc')).toBeUndefined();
  });
});
