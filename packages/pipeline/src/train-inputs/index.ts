import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { type BundleMetadata, CROP_REVISION, LOCALISER_VERSION, VERSION } from '@bloodcell/core';
import { MODEL_FILE, WEIGHTS_FILE, readBundleMetadata } from '@bloodcell/node';

import type { LabelledImage } from '../dataset/index.js';
import { sha256 } from '../feature-cache/index.js';
import { type CodeVersion, codeVersion, hashValue } from '../fingerprint/index.js';

/** Everything besides the images that decides what a training run writes. */
export interface TrainingSettings {
  /** The feature cache's id: the base's weight values, spec and preprocessing. */
  extractor: string;
  fit: string;
  head: string;
  views: readonly string[];
  validationShare: number;
  seed: number;
  maxPerGroup: number | null;
  epochs: number;
  learningRate: number;
  l2: number;
}

/**
 * A fingerprint of one training run's inputs: the bytes, cell type and field group of every
 * image, the settings, the base (its weight values, through the extractor id, not its files, so
 * `pnpm train` and the pipeline's train stage agree), and the code (pipeline build, core version,
 * localiser and crop revisions). Two runs with the same fingerprint write the same bundle, so
 * the second can be skipped. Reads every image once (about a second for 10,000 smears) unless
 * `hashes` already holds their sha256.
 *
 * @example
 * const inputs = await trainingInputs(images, settings, { hashes: await hashImageFiles(paths) });
 */
export async function trainingInputs(
  images: readonly LabelledImage[],
  settings: TrainingSettings,
  known: { code?: Promise<CodeVersion>; hashes?: ReadonlyMap<string, string> } = {},
): Promise<string> {
  const hashes = known.hashes ?? (await hashImageFiles(images.map((image) => image.path)));
  const lines = images.map((image) => `${hashes.get(image.path)} ${image.cellType} ${image.group}`);
  const code = await (known.code ?? codeVersion());

  return hashValue({
    images: sha256(lines.join('\n')),
    settings,
    code: { ...code, core: VERSION, localiser: LOCALISER_VERSION, crop: CROP_REVISION },
  });
}

/**
 * The sha256 of each file's bytes, by path, read 64 at a time.
 *
 * @example
 * const hashes = await hashImageFiles(images.map((image) => image.path));
 */
export async function hashImageFiles(paths: readonly string[]): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (let start = 0; start < paths.length; start += 64) {
    const batch = paths.slice(start, start + 64);
    const digests = await Promise.all(batch.map(async (path) => sha256(await readFile(path))));
    batch.forEach((path, i) => hashes.set(path, digests[i]!));
  }
  return hashes;
}

/**
 * The bundle in `dir` when it is complete and was trained from exactly these inputs; undefined
 * when it is missing, damaged, or stale.
 *
 * @example
 * const current = await upToDateBundle('artifacts/model', inputs);
 * if (current) log('up to date');
 */
export async function upToDateBundle(dir: string, inputs: string): Promise<BundleMetadata | undefined> {
  try {
    const metadata = await readBundleMetadata(dir);
    if (metadata.training.inputs !== inputs) return undefined;
    await Promise.all([stat(join(dir, MODEL_FILE)), stat(join(dir, WEIGHTS_FILE))]);
    return metadata;
  } catch {
    return undefined;
  }
}
