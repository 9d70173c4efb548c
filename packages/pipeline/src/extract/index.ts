import { readFile } from 'node:fs/promises';

import { type CropView, type FeatureExtractor, poolFeatures } from '@bloodcell/core';
import { decodeImage, progressBar } from '@bloodcell/node';

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
  /** Seconds spent extracting (cache misses only). */
  seconds: number;
}

export interface ExtractOptions {
  batchSize?: number;
  /** Show a progress bar (default: when stderr is a terminal). */
  progress?: boolean;
  label?: string;
  /** A training view of each crop; its features are cached apart from the plain crop's. */
  view?: CropView;
  /** Keep only the channel means of each row: 49x less memory, all a pooled head needs. */
  pool?: boolean;
}

/**
 * Runs the frozen backbone over image files, reusing cached features and caching new ones.
 *
 * @example
 * const table = await extractFeatures(images.map((i) => i.path), extractor, cache);
 */
export async function extractFeatures(
  paths: readonly string[],
  extractor: FeatureExtractor,
  cache: FeatureCache,
  options: ExtractOptions = {},
): Promise<FeatureTable> {
  const batchSize = options.batchSize ?? 16;
  const [rows, columns, channels] = extractor.spec.featureShape;
  const full = cache.featureLength;
  const length = options.pool ? channels : full;
  const store = (row: Float32Array, i: number) =>
    features.set(options.pool ? poolFeatures(row, rows * columns, channels) : row, i * length);
  const features = new Float32Array(paths.length * length);
  const hashes: string[] = new Array<string>(paths.length);
  const progress = progressBar(options.label ?? 'features', paths.length, { enabled: options.progress });
  const started = Date.now();
  let cached = 0;

  for (let start = 0; start < paths.length; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, paths.length - start) }, (_, k) => start + k);
    const bytes = await Promise.all(indices.map((i) => readFile(paths[i]!)));
    const misses: number[] = [];

    for (const [k, i] of indices.entries()) {
      hashes[i] = sha256(bytes[k]!);
      const hit = await cache.get(hashes[i]!);
      if (hit) {
        store(hit, i);
        cached += 1;
      } else {
        misses.push(k);
      }
    }

    if (misses.length > 0) {
      const images = await Promise.all(misses.map((k) => decodeImage(bytes[k]!)));
      const { features: batch } = await extractor.extract(images, options.view);
      const values = (await batch.data()) as Float32Array;
      batch.dispose();
      for (const [m, k] of misses.entries()) {
        const row = values.slice(m * full, (m + 1) * full);
        store(row, indices[k]!);
        await cache.put(hashes[indices[k]!]!, row);
      }
    }
    progress.tick(indices.length);
  }

  const seconds = (Date.now() - started) / 1000;
  // The caller logs the summary: it knows what the features are for.
  progress.done();
  return { features, length, pooled: Boolean(options.pool), hashes, cached, seconds };
}
