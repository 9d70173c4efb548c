import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  BundleError,
  type BundleMetadata,
  Classifier,
  METADATA_FILE,
  modelArtifacts,
  parseBundleMetadata,
} from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { replaceFolderAtomic } from '../atomic/index.js';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

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
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));

  await replaceFolderAtomic(dir, async (staging) => {
    const modelJson = {
      format: 'layers-model',
      generatedBy: `bloodcell ${metadata.packageVersion}`,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
    };
    await writeFile(join(staging, WEIGHTS_FILE), weights);
    await writeFile(join(staging, MODEL_FILE), JSON.stringify(modelJson));
    await writeFile(join(staging, METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`);
  });
}

/**
 * Reads a TF.js layers model folder (model.json plus the weight shards it lists) as an IOHandler.
 *
 * @example
 * const model = await tfl.loadLayersModel(modelFolderHandler('shared/models/mobilenet-v2-0.35-imagenet'));
 */
export function modelFolderHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const modelJson = await readJson(join(dir, MODEL_FILE), 'model');
      const manifest = modelJson.weightsManifest as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
      if (!modelJson.modelTopology || !Array.isArray(manifest)) {
        throw new BundleError('BAD_MODEL_JSON', `${join(dir, MODEL_FILE)} is not a TF.js layers model.`);
      }

      const shards = await Promise.all(
        manifest.flatMap((group) => group.paths).map((path) => readShard(join(dir, path))),
      );
      const weightData = concatenate(shards);
      const weightSpecs = manifest.flatMap((group) => group.weights);
      const expected = weightSpecs.reduce((total, spec) => total + byteSize(spec), 0);
      if (weightData.byteLength !== expected) {
        throw new BundleError(
          'WEIGHTS_TRUNCATED',
          `The weight files in ${dir} hold ${weightData.byteLength} bytes but model.json describes ` +
            `${expected}. The folder is damaged or incomplete; copy or train the model again.`,
        );
      }
      return { modelTopology: modelJson.modelTopology as object, weightSpecs, weightData: weightData.buffer as ArrayBuffer };
    },
  };
}

/**
 * Loads a bundle folder written by `writeBundle` (or by the trainer) into a ready classifier.
 *
 * @example
 * const classifier = await loadClassifier('artifacts/model');
 * const result = await classifier.classify(await decodeImage('smear.jpeg'));
 */
export async function loadClassifier(dir: string): Promise<Classifier> {
  const metadata = await readJson(join(dir, METADATA_FILE), 'bundle');
  const model = await tfl.loadLayersModel(modelFolderHandler(dir));
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
  return parseBundleMetadata(await readJson(join(dir, METADATA_FILE), 'bundle'));
}

async function readJson(path: string, what: 'bundle' | 'model'): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const hint =
      what === 'bundle'
        ? 'Train one with `pnpm train`, or pass --model DIR / set BLOODCELL_MODEL to a bundle folder.'
        : 'The folder must hold a TF.js layers model (model.json and its weight files).';
    throw new BundleError('BUNDLE_NOT_FOUND', `Cannot read ${path}. ${hint}`, { cause: error });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new BundleError('BAD_JSON', `${path} is not valid JSON; the file is damaged.`, { cause: error });
  }
}

async function readShard(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new BundleError('WEIGHTS_MISSING', `Weight file ${path} is missing or unreadable.`, { cause: error });
  }
}

function concatenate(parts: Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.byteLength;
  }
  return whole;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function byteSize(spec: tf.io.WeightsManifestEntry): number {
  const elements = spec.shape.reduce((product, n) => product * n, 1);
  if (spec.quantization) return elements * (DTYPE_BYTES[spec.quantization.dtype] ?? 4);
  return elements * (DTYPE_BYTES[spec.dtype] ?? 4);
}
