import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { syntheticSmear, tinyBundle } from '../../../../test-support/tiny-bundle.js';
import { loadClassifier, readBundleMetadata, writeBundle } from './index.js';

let work: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = await mkdtemp(join(tmpdir(), 'bloodcell-bundle-'));
});

afterAll(() => rm(work, { recursive: true, force: true }));

describe('bundle on disk', () => {
  it('round-trips: the loaded classifier answers exactly as the one written', async () => {
    const { model, metadata } = tinyBundle({ seed: 3 });
    const dir = join(work, 'roundtrip');
    await writeBundle(dir, model, metadata);
    expect((await readdir(dir)).sort()).toEqual(['bloodcell.json', 'model.json', 'weights.bin']);

    const { Classifier } = await import('@bloodcell/core');
    const original = await Classifier.fromModel(model, metadata).classify(syntheticSmear(50, 40));
    const loaded = await (await loadClassifier(dir)).classify(syntheticSmear(50, 40));
    expect(loaded.probabilities).toEqual(original.probabilities);
    expect((await readBundleMetadata(dir)).training.seed).toBe(metadata.training.seed);
  });

  it('replaces an existing bundle whole and leaves no temporary folders', async () => {
    const dir = join(work, 'replace');
    const first = tinyBundle({ seed: 1 });
    const second = tinyBundle({ seed: 2 });
    await writeBundle(dir, first.model, first.metadata);
    await writeBundle(dir, second.model, { ...second.metadata, training: { ...second.metadata.training, seed: 2 } });
    expect((await readBundleMetadata(dir)).training.seed).toBe(2);
    expect((await readdir(work)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('keeps the previous bundle when the new metadata is invalid', async () => {
    const dir = join(work, 'keep');
    const good = tinyBundle();
    await writeBundle(dir, good.model, good.metadata);
    const bad = { ...good.metadata, calibration: { temperature: -1, reviewThreshold: 0.5 } };
    await expect(writeBundle(dir, good.model, bad)).rejects.toThrow(/temperature/);
    expect((await readBundleMetadata(dir)).calibration.temperature).toBe(1);
  });

  it('says how to get a model when the folder is missing', async () => {
    await expect(loadClassifier(join(work, 'nothing'))).rejects.toThrow(/pnpm train/);
  });

  it('refuses truncated weights and a missing weight file with clear errors', async () => {
    const { model, metadata } = tinyBundle();
    const dir = join(work, 'damaged');
    await writeBundle(dir, model, metadata);
    await truncate(join(dir, 'weights.bin'), 100);
    await expect(loadClassifier(dir)).rejects.toMatchObject({ code: 'WEIGHTS_TRUNCATED' });
    await rm(join(dir, 'weights.bin'));
    await expect(loadClassifier(dir)).rejects.toMatchObject({ code: 'MODEL_SHARD_MISSING' });
  });

  it('refuses damaged metadata and metadata that lies about the input size', async () => {
    const { model, metadata } = tinyBundle();
    const dir = join(work, 'lying');
    await writeBundle(dir, model, metadata);
    const text = await readFile(join(dir, 'bloodcell.json'), 'utf8');
    await writeFile(join(dir, 'bloodcell.json'), text.replace('"inputSize": 32', '"inputSize": 224'));
    await expect(loadClassifier(dir)).rejects.toMatchObject({ code: 'INPUT_SIZE_MISMATCH' });
    await writeFile(join(dir, 'bloodcell.json'), '{ not json');
    await expect(loadClassifier(dir)).rejects.toMatchObject({ code: 'BAD_JSON' });
  });
});
