import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  BloodcellError,
  BundleError,
  type BundleMetadata,
  Classifier,
  METADATA_FILE,
  modelArtifacts,
  parseBundleMetadata,
} from '@bloodcell/core';
import * as tfl from '@tensorflow/tfjs-layers';

import { replaceFolderAtomic } from '../atomic/index.js';
import { fileSystemModelSource, writeModelFiles } from '../model-files/index.js';

/**
 * Writes a bundle folder (model.json, weights.bin, bloodcell.json) atomically: a reader sees the
 * previous bundle or the new one, never a mix, even if the process dies half way.
 *
 * @example
 * await writeBundle('artifacts/model', model, metadata);
 */
export async function writeBundle(dir: string, model: tfl.LayersModel, metadata: BundleMetadata): Promise<void> {
  parseBundleMetadata(metadata);
  const artifacts = await modelArtifacts(model);
  artifacts.generatedBy = `bloodcell ${metadata.packageVersion}`;

  await replaceFolderAtomic(dir, async (staging) => {
    await writeModelFiles(staging, artifacts);
    await writeFile(join(staging, METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`);
  }).catch((cause: unknown) => {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOSPC') throw cause;
    throw new BundleError(
      'DISK_FULL',
      `No space left on the device to write the bundle to ${dir}; any bundle already there is ` +
        'unchanged. Free some space and write it again.',
      { cause },
    );
  });
}

/**
 * Loads a bundle folder written by `writeBundle` (or by the trainer) into a ready classifier.
 *
 * @example
 * const classifier = await loadClassifier('artifacts/model');
 * const result = await classifier.classify(await decodeImage('smear.jpeg'));
 */
export async function loadClassifier(dir: string): Promise<Classifier> {
  const metadata = await readMetadataJson(dir);
  const model = await tfl.loadLayersModel(fileSystemModelSource(dir)).catch((cause: unknown) => {
    if (cause instanceof BloodcellError) throw cause;
    // TF.js's own message ("Improper config format…") names no file and no remedy.
    throw new BundleError(
      'MODEL_JSON_INVALID',
      `${join(dir, 'model.json')} does not describe a model TF.js can build ` +
        `(${cause instanceof Error ? cause.message : String(cause)}). The file is damaged or not ` +
        "bloodcell's: copy or train the bundle again.",
      { cause },
    );
  });
  try {
    return Classifier.fromModel(model, metadata);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Reads and checks a bundle's metadata without loading the model.
 *
 * @example
 * const { validation } = await readBundleMetadata('artifacts/model');
 */
export async function readBundleMetadata(dir: string): Promise<BundleMetadata> {
  return parseBundleMetadata(await readMetadataJson(dir));
}

async function readMetadataJson(dir: string): Promise<unknown> {
  const path = join(dir, METADATA_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BundleError(
      'BUNDLE_NOT_FOUND',
      `Cannot read ${path}. Train a model with \`pnpm train\`, or pass --model DIR / set ` +
        'BLOODCELL_MODEL to a bundle folder.',
      { cause: error },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BundleError('BAD_JSON', `${path} is not valid JSON; the file is damaged.`, { cause: error });
  }
}
