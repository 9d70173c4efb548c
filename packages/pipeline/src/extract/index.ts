import { readFile } from 'node:fs/promises';

import { BloodcellError, type CropView, type FeatureExtractor, ImageInputError, poolFeatures } from '@bloodcell/core';
import { type BackboneRunner, type DecodedImage, decodeImage, progressBar, writeBackboneInput } from '@bloodcell/node';

import { type FeatureCache, sha256 } from '../feature-cache/index.js';

/** Features of a list of images, row i for image i, laid out [n, h * w * c] (or [n, c] pooled). */
export interface FeatureTable {
  features: Float32Array;
  /** Values per row: h * w * c, or c when pooled. */
  length: number;
  pooled: boolean;
  /** sha256 of each image's file bytes, in order. */
  hashes: string[];
  /** Images whose features came from the cache rather than the backbone. */
  cached: number;
  /** Seconds the whole extraction took (every set of one call together). */
  seconds: number;
}

/** One table to fill: the features of `paths` through one view of the crop. */
export interface FeatureSet {
  /** What the rows are for, in logs: `features`, `view mirror`. */
  label: string;
  paths: readonly string[];
  /** The plain crop's cache, or a view's (`cache.forView(view)`). */
  cache: FeatureCache;
  /** A training view of each crop. */
  view?: CropView;
  /** Keep only the channel means of each row: 49x less memory and disk, all a pooled head needs. */
  pool?: boolean;
}

/** The frozen base: the extractor's preprocessing (localiser, crop size, scaling) and an engine. */
export interface FeatureBase {
  extractor: FeatureExtractor;
  runner: BackboneRunner;
}

export interface ExtractOptions {
  /** Images decoded per step; each brings one backbone row per set that misses it. Default 8. */
  batchSize?: number;
  /** Show a progress bar (default: when stderr is a terminal). */
  progress?: boolean;
  /** The progress bar's name. */
  label?: string;
  /**
   * sha256 of files already hashed, by path: a file whose rows are all cached is then not read
   * again. A file read for a missing row must still match, or the extraction stops.
   */
  hashes?: ReadonlyMap<string, string>;
}

/** Where one backbone row goes once computed. */
interface RowTarget {
  set: number;
  row: number;
  hash: string;
}

/** Backbone inputs of one step, and where their features go. */
interface PreparedStep {
  input: Float32Array;
  targets: RowTarget[];
}

/**
 * Fills several feature tables in one pass over the images: each file is read, hashed, decoded
 * and searched for its cell once, however many views need it; only the rows missing from the
 * caches go through the backbone, and new rows are cached. The next step is prepared on this
 * thread while the engine runs the current one (ONNX Runtime runs in a worker thread).
 *
 * @example
 * const [plain, mirrored] = await extractFeatureSets(
 *   [{ label: 'features', paths, cache }, { label: 'view mirror', paths, cache: cache.forView(mirror), view: mirror }],
 *   { extractor, runner },
 * );
 */
export async function extractFeatureSets(
  sets: readonly FeatureSet[],
  base: FeatureBase,
  options: ExtractOptions = {},
): Promise<FeatureTable[]> {
  const started = Date.now();
  const [rows, columns, channels] = base.runner.featureShape;
  const full = rows * columns * channels;
  const caches = sets.map((set) => (set.pool ? set.cache.pooled(channels) : set.cache));
  const tables = sets.map((set) => ({
    features: new Float32Array(set.paths.length * (set.pool ? channels : full)),
    length: set.pool ? channels : full,
    pooled: Boolean(set.pool),
    hashes: new Array<string>(set.paths.length),
    cached: 0,
  }));

  // Each distinct file once, with every (set, row) that wants it.
  const wanted = new Map<string, { set: number; row: number }[]>();
  sets.forEach((set, s) => set.paths.forEach((path, row) => wanted.set(path, [...(wanted.get(path) ?? []), { set: s, row }])));
  const files = [...wanted.keys()];

  const size = base.extractor.spec.inputSize;
  const inputLength = size * size * 3;
  const store = (target: RowTarget, features: Float32Array) => {
    const table = tables[target.set]!;
    table.features.set(features, target.row * table.length);
  };

  const prepare = async (batch: readonly string[]): Promise<PreparedStep> => {
    const read = new Map<number, Promise<Buffer>>();
    const bytesOf = (i: number) => read.get(i) ?? read.set(i, readFile(batch[i]!)).get(i)!;
    const hashes = await Promise.all(
      batch.map(async (path, i) => options.hashes?.get(path) ?? sha256(await bytesOf(i))),
    );
    const misses: { image: number; target: RowTarget }[] = [];
    for (const [i, path] of batch.entries()) {
      const hash = hashes[i]!;
      for (const { set, row } of wanted.get(path)!) {
        tables[set]!.hashes[row] = hash;
        const hit = await caches[set]!.get(hash);
        if (hit) {
          store({ set, row, hash }, hit);
          tables[set]!.cached += 1;
        } else {
          misses.push({ image: i, target: { set, row, hash } });
        }
      }
    }

    const input = new Float32Array(misses.length * inputLength);
    const needed = [...new Set(misses.map((miss) => miss.image))];
    const decodeAt = async (i: number) => {
      const bytes = await bytesOf(i);
      // Hashed earlier by the caller: the bytes must still be those its cache rows are filed under.
      if (options.hashes?.has(batch[i]!) && sha256(bytes) !== hashes[i]) {
        throw new BloodcellError('IMAGE_CHANGED', `${batch[i]} changed while training read it; run again.`);
      }
      return decodeFile(bytes, batch[i]!);
    };
    const decoded = new Map(await Promise.all(needed.map(async (i) => [i, await decodeAt(i)] as const)));
    const regions = new Map(
      await Promise.all(needed.map(async (i) => [i, await base.extractor.locate(decoded.get(i)!)] as const)),
    );
    for (const [m, { image, target }] of misses.entries()) {
      const pixels = { ...decoded.get(image)!, channels: 3 as const };
      const view = sets[target.set]!.view;
      writeBackboneInput(pixels, regions.get(image)!.box, size, base.extractor.spec.scaling, input, m * inputLength, view);
    }
    return { input, targets: misses.map((miss) => miss.target) };
  };

  const runAndCache = async ({ input, targets }: PreparedStep) => {
    if (targets.length === 0) return;
    const features = await base.runner.run(input, targets.length);
    await Promise.all(
      targets.map(async (target, k) => {
        const row = features.subarray(k * full, (k + 1) * full);
        const value = sets[target.set]!.pool ? poolFeatures(row, rows * columns, channels) : row.slice();
        store(target, value);
        await caches[target.set]!.put(target.hash, value);
      }),
    );
  };

  const batchSize = options.batchSize ?? 8;
  const progress = progressBar(options.label ?? 'features', files.length, { enabled: options.progress });
  let running: Promise<void> | undefined;
  for (let start = 0; start < files.length; start += batchSize) {
    const batch = files.slice(start, start + batchSize);
    const prepared = await prepare(batch);
    await running;
    running = runAndCache(prepared).then(() => progress.tick(batch.length));
    // Awaited above on the next turn; this only keeps a failure meanwhile from going unhandled.
    running.catch(() => undefined);
  }
  await running;
  progress.done();

  const seconds = (Date.now() - started) / 1000;
  return tables.map((table) => ({ ...table, seconds }));
}

async function decodeFile(bytes: Uint8Array, path: string): Promise<DecodedImage> {
  try {
    return await decodeImage(bytes);
  } catch (error) {
    if (!(error instanceof ImageInputError)) throw error;
    // The decoder speaks of "the image buffer"; the user knows the file by its path.
    throw new ImageInputError(error.code, `${path}: ${error.message} Remove or replace the file, then run again.`, { cause: error });
  }
}

/**
 * The features of one list of images (one set); see `extractFeatureSets`.
 *
 * @example
 * const table = await extractFeatures(images.map((i) => i.path), { extractor, runner }, cache, { pool: true });
 */
export async function extractFeatures(
  paths: readonly string[],
  base: FeatureBase,
  cache: FeatureCache,
  options: ExtractOptions & { view?: CropView; pool?: boolean } = {},
): Promise<FeatureTable> {
  const label = options.label ?? 'features';
  const [table] = await extractFeatureSets([{ label, paths, cache, view: options.view, pool: options.pool }], base, options);
  return table!;
}
