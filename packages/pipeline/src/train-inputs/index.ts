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
 * the second can be skipped. Reads every image once (about a second for 10,000 smears).
 *
 * @example
 * const inputs = await trainingInputs(images, settings);
 */
export async function trainingInputs(
  images: readonly LabelledImage[],
  settings: TrainingSettings,
  code: Promise<CodeVersion> = codeVersion(),
): Promise<string> {
  const lines: string[] = [];
  for (let start = 0; start < images.length; start += 64) {
    const batch = images.slice(start, start + 64);
    const hashes = await Promise.all(batch.map(async (image) => sha256(await readFile(image.path))));
    batch.forEach((image, i) => lines.push(`${hashes[i]} ${image.cellType} ${image.group}`));
  }

  return hashValue({
    images: sha256(lines.join('\n')),
    settings,
    code: { ...(await code), core: VERSION, localiser: LOCALISER_VERSION, crop: CROP_REVISION },
  });
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
