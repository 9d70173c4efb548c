import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { vgg16 } from '@bloodcell/core';
import { fileSystemModelSource, selectBackend } from '@bloodcell/node';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { HAS_SHARED, MOBILENET_DIR, SHARED_MISSING } from '../../../../test-support/shared.js';
import { tinyBundle } from '../../../../test-support/tiny-bundle.js';
import { loadExtractor } from '../base-extractor/index.js';
import { buildBase, readBaseDescription } from './index.js';

describe('buildBase', () => {
  let work: string;

  beforeAll(async () => {
    await selectBackend({ prefer: 'cpu' });
    work = await mkdtemp(join(tmpdir(), 'bloodcell-base-'));
  });

  it('cuts a TF.js model at the named layer and describes it', async () => {
    const { model } = tinyBundle();
    await model.save(fileSystemModelSource(join(work, 'tiny')));
    const description = await buildBase({
      name: 'mobilenet_v2',
      path: join(work, 'tiny'),
      outDir: join(work, 'base'),
    });
    expect(description).toMatchObject({
      name: 'mobilenet_v2',
      inputSize: 32,
      scaling: 'tf',
      outputLayer: 'out_relu',
      featureShape: [4, 4, 4],
    });
    expect(await readBaseDescription(join(work, 'base'))).toEqual(description);

    const cut = await tfl.loadLayersModel(fileSystemModelSource(join(work, 'base')));
    expect(cut.outputs[0]!.shape).toEqual([null, 4, 4, 4]);
    expect(cut.layers.at(-1)!.name).toBe('out_relu');
    cut.dispose();
    model.dispose();
  });

  it('names the layers when the cut layer is missing, and refuses a wrong input size', async () => {
    await expect(
      buildBase({
        name: 'mobilenet_v2',
        path: join(work, 'tiny'),
        layer: 'block_16',
        outDir: join(work, 'b2'),
      }),
    ).rejects.toThrow(/No layer named "block_16".*Top-level layers:/);
    await expect(
      buildBase({
        name: 'mobilenet_v2',
        path: join(work, 'tiny'),
        inputSize: 224,
        outDir: join(work, 'b2'),
      }),
    ).rejects.toThrow('base.inputSize is 224 but the model');
    await expect(
      buildBase({ name: 'mobilenet_v2', path: join(work, 'w.h5'), outDir: join(work, 'b2') }),
    ).rejects.toThrow('only vgg16 reads .h5 weights');
  });

  it('rebuilds a VGG16 TF.js export at another input size, cut at block5_pool', async () => {
    const template = vgg16({ inputSize: 32 });
    await template.save(fileSystemModelSource(join(work, 'vgg16')));
    template.dispose();
    const description = await buildBase({
      name: 'vgg16',
      path: join(work, 'vgg16'),
      inputSize: 64,
      outDir: join(work, 'vgg-base'),
    });
    expect(description).toMatchObject({
      name: 'vgg16',
      inputSize: 64,
      scaling: 'caffe',
      outputLayer: 'block5_pool',
      featureShape: [2, 2, 512],
    });
    expect(description.source.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  describe.skipIf(!HAS_SHARED)(`the shared MobileNetV2 (${HAS_SHARED ? 'found' : SHARED_MISSING})`, () => {
    it('writes a base the trainer loads like the original', async () => {
      const description = await buildBase({
        name: 'mobilenet_v2',
        path: MOBILENET_DIR,
        outDir: join(work, 'mobilenet'),
      });
      expect(description).toMatchObject({ inputSize: 224, featureShape: [7, 7, 1280], scaling: 'tf' });
      expect(description.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
      const written = await loadExtractor({ baseModelDir: join(work, 'mobilenet'), cacheDir: join(work, 'cache'), engine: 'tfjs' });
      const original = await loadExtractor({ baseModelDir: MOBILENET_DIR, cacheDir: join(work, 'cache'), engine: 'tfjs' });
      const { extractor } = written;
      expect(extractor.spec.featureShape).toEqual([7, 7, 1280]);
      expect(
        JSON.parse(await readFile(join(work, 'mobilenet', 'model.json'), 'utf8')).weightsManifest[0].paths,
      ).toEqual(['weights.bin']);
      // Same weights in new files: the features `pnpm train` cached serve the pipeline too.
      expect(written.cache.extractorId).toBe(original.cache.extractorId);
      original.model.dispose();
      extractor.backbone.dispose();
    });
  });
});
