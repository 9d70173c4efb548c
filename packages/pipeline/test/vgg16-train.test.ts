import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CELL_TYPES, vgg16 } from '@bloodcell/core';
import { decodeImage, fileSystemModelSource, loadClassifier, openClassifier, selectBackend } from '@bloodcell/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildBase } from '../src/base/index.js';
import { trainBundle } from '../src/train/index.js';
import { smearImage } from './fixtures.js';

describe('training on a VGG16 base written by the base stage', () => {
  let work: string;

  beforeAll(async () => {
    await selectBackend();
    work = await mkdtemp(join(tmpdir(), 'bloodcell-vgg-train-'));
    // Random weights at 32x32: VGG16's layers and caffe scaling, small enough for a unit test.
    const template = vgg16({ inputSize: 32 });
    await template.save(fileSystemModelSource(join(work, 'vgg16')));
    template.dispose();
    for (const [c, cellType] of CELL_TYPES.entries()) {
      await mkdir(join(work, 'data', cellType), { recursive: true });
      for (let i = 0; i < 4; i++) await writeFile(join(work, 'data', cellType, `${i}.png`), await smearImage(c * 10 + i, 'png', 64));
    }
  });

  afterAll(() => rm(work, { recursive: true, force: true }));

  it('writes a bundle that carries vgg16 and caffe scaling, and classifies alike on both engines', async () => {
    await buildBase({ name: 'vgg16', path: join(work, 'vgg16'), outDir: join(work, 'base') });
    const { metadata } = await trainBundle({
      dataDir: join(work, 'data'),
      baseModelDir: join(work, 'base'),
      outDir: join(work, 'model'),
      cacheDir: join(work, 'cache'),
      fit: 'whole-image',
      validationShare: 0.25,
      epochs: 2,
    });
    expect(metadata.backbone).toMatchObject({ name: 'vgg16', inputSize: 32, scaling: 'caffe', outputLayer: 'block5_pool', featureShape: [1, 1, 512] });
    expect(metadata.preprocessing.scaling).toBe('caffe');

    const image = await decodeImage(join(work, 'data', 'MONOCYTE', '1.png'));
    const classifier = await loadClassifier(join(work, 'model'));
    const [tfjs] = await classifier.classifyBatch([image]);
    classifier.dispose();
    const onnx = await openClassifier(join(work, 'model'), { engine: 'onnx' }).catch(() => undefined);
    if (onnx) {
      const [fast] = await onnx.classifyBatch([image]);
      await onnx.close();
      for (const type of CELL_TYPES) expect(Math.abs(fast!.probabilities[type] - tfjs!.probabilities[type])).toBeLessThan(1e-4);
    }
    expect(CELL_TYPES).toContain(tfjs!.cellType);
  }, 60_000);
});
