import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  DEFAULT_LOCALISE_OPTIONS,
  FeatureExtractor,
  MOBILENET_V2_SPEC,
  cropView,
  poolFeatures,
} from '@bloodcell/core';
import { type BackboneRunner, decodeImage, openBackboneRunner, selectBackend, writeBackboneInput } from '@bloodcell/node';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HAS_SHARED, MOBILENET_DIR, SHARED_MISSING, TRAIN_DIR } from '../../../../test-support/shared.js';
import { syntheticSmear } from '../../../../test-support/tiny-bundle.js';
import { loadExtractor } from '../base-extractor/index.js';
import { FeatureCache } from '../feature-cache/index.js';
import { extractFeatureSets } from './index.js';

const SIZE = 32;
const SPEC = { ...MOBILENET_V2_SPEC, inputSize: SIZE, featureShape: [4, 4, 6] as [number, number, number] };
const PREPROCESSING = { resize: 'bilinear' as const, fit: 'cell-crop' as const, scaling: 'tf' as const, localise: { ...DEFAULT_LOCALISE_OPTIONS } };

/** A one-conv backbone [n, 32, 32, 3] -> [n, 4, 4, 6], seeded. */
function smallBackbone(): tfl.LayersModel {
  const input = tfl.input({ shape: [SIZE, SIZE, 3] });
  const conv = tfl.layers.conv2d({
    filters: 6, kernelSize: 8, strides: 8, activation: 'relu', name: 'out_relu',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }), biasInitializer: 'ones',
  });
  return tfl.model({ inputs: input, outputs: conv.apply(input) as tfl.SymbolicTensor });
}

/** Counts the rows that reach the backbone. */
function counting(runner: BackboneRunner): BackboneRunner & { rows: number } {
  const counted = {
    ...runner,
    rows: 0,
    run: (input: Float32Array, count: number) => {
      counted.rows += count;
      return runner.run(input, count);
    },
  };
  return counted;
}

describe('extractFeatureSets', () => {
  let work: string;
  let paths: string[];
  let backbone: tfl.LayersModel;
  let extractor: FeatureExtractor;

  beforeAll(async () => {
    await selectBackend({ prefer: 'cpu' });
    backbone = smallBackbone();
    extractor = new FeatureExtractor(backbone, SPEC, PREPROCESSING);
    work = await mkdtemp(join(tmpdir(), 'bloodcell-extract-'));
    paths = [];
    for (const [i, [width, height]] of [[80, 60], [64, 64], [96, 72]].entries()) {
      const { data } = syntheticSmear(width!, height!);
      paths.push(join(work, `smear-${i}.png`));
      await writeFile(paths[i]!, await sharp(Buffer.from(data), { raw: { width: width!, height: height!, channels: 3 } }).png().toBuffer());
    }
  });

  afterAll(() => rm(work, { recursive: true, force: true }));

  it('runs each missing row once, shares files between sets, and reads them back from the cache', async () => {
    const cache = new FeatureCache(join(work, 'cache'), 'test', 4 * 4 * 6);
    const mirror = cropView('mirror');
    const sets = [
      { label: 'features', paths, cache },
      { label: 'pooled', paths, cache, pool: true },
      { label: 'view mirror', paths: paths.slice(0, 2), cache: cache.forView(mirror), view: mirror, pool: true },
    ];
    const runner = counting(await openBackboneRunner(backbone, { engine: 'tfjs' }));
    const [full, pooled, mirrored] = await extractFeatureSets(sets, { extractor, runner });
    expect(runner.rows).toBe(3 + 3 + 2);
    expect(full!.cached + pooled!.cached + mirrored!.cached).toBe(0);

    // The pooled rows are the channel means of the full rows.
    expect(Array.from(pooled!.features)).toEqual(Array.from(poolFeatures(full!.features, 16, 6)));
    expect(pooled!.hashes).toEqual(full!.hashes);
    expect(mirrored!.hashes).toEqual(full!.hashes.slice(0, 2));

    // A view row is the backbone on the view of the located crop.
    const image = await decodeImage(paths[1]!);
    const region = await extractor.locate(image);
    const input = new Float32Array(SIZE * SIZE * 3);
    writeBackboneInput({ ...image, channels: 3 }, region.box, SIZE, 'tf', input, 0, mirror);
    const expected = poolFeatures(await runner.run(input, 1), 16, 6);
    const row = mirrored!.features.subarray(6, 12);
    expect(Math.max(...Array.from(row, (value, i) => Math.abs(value - expected[i]!)))).toBeLessThan(1e-6);
    expect(Array.from(row)).not.toEqual(Array.from(pooled!.features.subarray(6, 12)));

    const again = counting(await openBackboneRunner(backbone, { engine: 'tfjs' }));
    const cached = await extractFeatureSets(sets, { extractor, runner: again });
    expect(again.rows).toBe(0);
    expect(cached.map((table) => table.cached)).toEqual([3, 3, 2]);
    expect(Array.from(cached[2]!.features)).toEqual(Array.from(mirrored!.features));
  });

  it("fails with the engine's error, not an unhandled one, when a pass fails during the next step", async () => {
    const working = await openBackboneRunner(backbone, { engine: 'tfjs' });
    const failing: BackboneRunner = {
      ...working,
      run: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        throw new Error('the engine stopped');
      },
    };
    const cache = new FeatureCache(join(work, 'cache-failing'), 'test', 4 * 4 * 6);
    await expect(extractFeatureSets([{ label: 'features', paths, cache }], { extractor, runner: failing }, { batchSize: 1 })).rejects.toThrow(
      'the engine stopped',
    );
  });

  it('takes known hashes instead of reading cached files again, and refuses a file changed since', async () => {
    const cache = new FeatureCache(join(work, 'cache-known'), 'test', 4 * 4 * 6);
    const runner = await openBackboneRunner(backbone, { engine: 'tfjs' });
    const first = await extractFeatureSets([{ label: 'features', paths, cache }], { extractor, runner });
    const hashes = new Map(paths.map((path, i) => [path, first[0]!.hashes[i]!]));

    // Every row cached: the files are not read, so even a vanished one does not matter.
    const moved = join(work, 'moved.png');
    await writeFile(moved, await readFile(paths[0]!));
    await rm(moved);
    const known = new Map([...hashes, [moved, hashes.get(paths[0]!)!]]);
    const again = await extractFeatureSets([{ label: 'features', paths: [moved, ...paths.slice(1)], cache }], { extractor, runner }, { hashes: known });
    expect(again[0]!.cached).toBe(3);

    // A row to compute: the file is read, and must still hash as the caller said.
    const fresh = new FeatureCache(join(work, 'cache-known-2'), 'test', 4 * 4 * 6);
    const wrong = new Map([[paths[0]!, 'f'.repeat(64)]]);
    await expect(extractFeatureSets([{ label: 'features', paths: [paths[0]!], cache: fresh }], { extractor, runner }, { hashes: wrong })).rejects.toThrow(
      /smear-0\.png changed while training read it/,
    );
  });

  it('names the file it cannot decode', async () => {
    const broken = join(work, 'broken.jpeg');
    await writeFile(broken, 'not an image');
    const runner = await openBackboneRunner(backbone, { engine: 'tfjs' });
    const cache = new FeatureCache(join(work, 'cache-broken'), 'test', 4 * 4 * 6);
    await expect(extractFeatureSets([{ label: 'features', paths: [paths[0]!, broken], cache }], { extractor, runner })).rejects.toThrow(
      /broken\.jpeg/,
    );
  });
});

const TITLE = 'feature extraction agrees across engines on real images';

describe.skipIf(!HAS_SHARED)(HAS_SHARED ? TITLE : `${TITLE} (skipped: ${SHARED_MISSING})`, () => {
  it('gives the same pooled features, views included, on onnx and tfjs to 1e-4', async () => {
    await selectBackend();
    const work = await mkdtemp(join(tmpdir(), 'bloodcell-engines-'));
    try {
      const paths = ['EOSINOPHIL/_0_1169.jpeg', 'MONOCYTE/_0_1276.jpeg', 'NEUTROPHIL/_0_1095.jpeg'].map((file) => join(TRAIN_DIR, file));
      const tables = [];
      for (const engine of ['onnx', 'tfjs'] as const) {
        const { extractor, runner, cache } = await loadExtractor({ baseModelDir: MOBILENET_DIR, cacheDir: join(work, engine), engine });
        const stain = cropView('stain-dark-blue');
        const sets = [
          { label: 'features', paths, cache, pool: true },
          { label: 'view', paths, cache: cache.forView(stain), view: stain, pool: true },
        ];
        tables.push(await extractFeatureSets(sets, { extractor, runner }).finally(() => runner.close()));
        extractor.backbone.dispose();
      }
      const [onnx, tfjs] = tables;
      for (const [s, table] of onnx!.entries()) {
        const other = tfjs![s]!.features;
        expect(Math.max(...Array.from(table.features, (value, i) => Math.abs(value - other[i]!)))).toBeLessThan(1e-4);
        expect(Math.max(...table.features)).toBeGreaterThan(0.5);
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 60_000);
});
