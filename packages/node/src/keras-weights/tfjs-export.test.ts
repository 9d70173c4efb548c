import '@tensorflow/tfjs-backend-cpu';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BundleError, VGG16_LAYER_NAMES, vgg16 } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fillKnownWeights, knownValues, rejection } from './keras-fixtures.js';
import { fileSystemModelSource } from '../model-files/index.js';
import { loadVgg16 } from './index.js';

let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'bloodcell-tfjs-files-'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

/** Fails unless every VGG16 weight of `model` holds its known value. */
function expectKnownWeights(model: tfl.LayersModel): void {
  VGG16_LAYER_NAMES.forEach((name, i) => {
    model
      .getLayer(name)
      .getWeights()
      .forEach((weight, w) => {
        const expected = knownValues(i + 1, w, weight.size);
        // Whole-array toEqual on millions of floats is slow; compare here, report one index.
        const values = weight.dataSync();
        const wrong = values.findIndex((value, e) => value !== expected[e]);
        expect(wrong, `${name} weight ${w}: first wrong element`).toBe(-1);
      });
  });
}

describe('fileSystemModelSource and loadVgg16 from a TF.js export', () => {
  const exportDir = (): string => join(dir, 'vgg16');

  beforeAll(async () => {
    const base = vgg16({ inputSize: 32 });
    fillKnownWeights(base);
    await base.save(fileSystemModelSource(exportDir()));
    base.dispose();
  });

  it('round-trips VGG16 weights through model.json + weights.bin', async () => {
    expect((await readdir(exportDir())).sort()).toEqual(['model.json', 'weights.bin']);

    const base = await loadVgg16({ tfjsModelDir: exportDir() });

    expect(base.outputs[0]?.shape).toEqual([null, 1, 1, 512]);
    expectKnownWeights(base);
    base.dispose();
  });

  it('rebuilds the export at another input size with the same weights', async () => {
    const base = await loadVgg16({ tfjsModelDir: exportDir() }, { inputSize: 64 });

    expect(base.inputs[0]?.shape).toEqual([null, 64, 64, 3]);
    expect(base.outputs[0]?.shape).toEqual([null, 2, 2, 512]);
    expectKnownWeights(base);
    base.dispose();
  });

  it('replaces an existing export whole, leaving nothing beside it', async () => {
    const target = join(dir, 'replaced', 'model');
    await mkdir(target, { recursive: true });
    await writeFile(join(target, 'stale.bin'), 'old');
    const small = tfl.sequential({
      layers: [tfl.layers.dense({ units: 2, inputShape: [3], name: 'dense' })],
    });

    await small.save(fileSystemModelSource(target));
    const reloaded = await tfl.loadLayersModel(fileSystemModelSource(target));

    expect((await readdir(target)).sort()).toEqual(['model.json', 'weights.bin']);
    expect(await readdir(join(dir, 'replaced'))).toEqual(['model']);
    expect(reloaded.getWeights()[0]!.dataSync()).toEqual(small.getWeights()[0]!.dataSync());
    small.dispose();
    reloaded.dispose();
  });

  it('says what is missing: model.json, a shard, or VGG16 layers', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const noShard = join(dir, 'no-shard');
    await mkdir(noShard);
    const small = tfl.sequential({
      layers: [tfl.layers.dense({ units: 2, inputShape: [3], name: 'dense' })],
    });
    const notVgg = join(dir, 'not-vgg');
    await small.save(fileSystemModelSource(notVgg));
    await small.save(fileSystemModelSource(noShard));
    await rm(join(noShard, 'weights.bin'));
    small.dispose();

    const missingJson = await rejection(loadVgg16({ tfjsModelDir: empty }));
    expect(missingJson.code).toBe('MODEL_JSON_MISSING');
    expect((await rejection(loadVgg16({ tfjsModelDir: noShard }))).code).toBe(
      'MODEL_SHARD_MISSING',
    );
    const notVgg16 = await rejection(loadVgg16({ tfjsModelDir: notVgg }));
    expect(notVgg16.code).toBe('NOT_VGG16');
    expect(notVgg16.message).toContain('block1_conv1');
  });
});
