import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';

import { BundleError } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';

import { replaceFolderAtomic } from '../atomic/index.js';

/** File names of a TF.js layers model folder, as `tensorflowjs_converter` and `writeBundle` write them. */
export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/**
 * A TF.js IOHandler over a folder on disk holding `model.json` and the weight shards its
 * `weightsManifest` lists. `save` replaces the folder atomically (see `replaceFolderAtomic`).
 *
 * @example
 * const model = await tfl.loadLayersModel(fileSystemModelSource('models/vgg16'));
 * await model.save(fileSystemModelSource('models/vgg16-copy'));
 */
export function fileSystemModelSource(dir: string): tf.io.IOHandler {
  const root = resolve(dir);
  return {
    load: () => loadModelFolder(root),
    save: async (artifacts) => {
      await replaceFolderAtomic(root, (staging) => writeModelFiles(staging, artifacts));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/**
 * Writes `model.json` and one `weights.bin` into an existing folder (no atomicity of its own:
 * call it inside `replaceFolderAtomic`).
 *
 * @example
 * await replaceFolderAtomic(dir, (staging) => writeModelFiles(staging, artifacts));
 */
export async function writeModelFiles(folder: string, artifacts: tf.io.ModelArtifacts): Promise<void> {
  if (!artifacts.modelTopology || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new BundleError(
      'MODEL_SAVE_UNSUPPORTED',
      `Cannot save to ${folder}: only models with a JSON topology (TF.js layers models) are saved.`,
    );
  }
  const modelJSON: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
  };
  const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
  await writeFile(join(folder, WEIGHTS_FILE), new Uint8Array(weights));
  await writeFile(join(folder, MODEL_FILE), JSON.stringify(modelJSON));
}

async function loadModelFolder(root: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = join(root, MODEL_FILE);
  const text = await readFile(jsonPath, 'utf8').catch((cause: unknown) => {
    throw new BundleError(
      'MODEL_JSON_MISSING',
      `No ${MODEL_FILE} in ${root}: expected a TF.js layers model (model.json and its .bin weight files).`,
      { cause },
    );
  });

  let modelJSON: tf.io.ModelJSON;
  try {
    modelJSON = JSON.parse(text) as tf.io.ModelJSON;
  } catch (cause) {
    throw new BundleError('MODEL_JSON_INVALID', `${jsonPath} is not valid JSON; the file is damaged.`, { cause });
  }
  if (typeof modelJSON !== 'object' || modelJSON === null || !modelJSON.modelTopology) {
    throw new BundleError('MODEL_JSON_INVALID', `${jsonPath} has no modelTopology.`);
  }

  return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
    const specs = manifest.flatMap((group) => group.weights);
    const shards = await Promise.all(manifest.flatMap((group) => group.paths).map((path) => readShard(root, path)));
    const found = shards.reduce((total, shard) => total + shard.byteLength, 0);
    const expected = specs.reduce((total, spec) => total + byteSize(spec), 0);
    if (found !== expected) {
      throw new BundleError(
        'WEIGHTS_TRUNCATED',
        `The weight files in ${root} hold ${found} bytes but ${MODEL_FILE} describes ${expected}. ` +
          'The folder is damaged or incomplete: copy or train the model again.',
      );
    }
    return [specs, shards];
  });
}

/** One weight shard as its own ArrayBuffer; paths may not leave the model's folder. */
async function readShard(root: string, path: string): Promise<ArrayBuffer> {
  const shardPath = resolve(root, decodeURIComponent(path));
  const inside = relative(root, shardPath);
  if (inside.startsWith('..') || isAbsolute(inside)) {
    throw new BundleError('MODEL_SHARD_OUTSIDE', `${join(root, MODEL_FILE)} lists weight shard '${path}' outside its folder.`);
  }

  const bytes = await readFile(shardPath).catch((cause: unknown) => {
    throw new BundleError(
      'MODEL_SHARD_MISSING',
      `Weight file '${path}' listed in ${join(root, MODEL_FILE)} is missing from ${root}.`,
      { cause },
    );
  });
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function byteSize(spec: tf.io.WeightsManifestEntry): number {
  const elements = spec.shape.reduce((product, n) => product * n, 1);
  return elements * (DTYPE_BYTES[spec.quantization?.dtype ?? spec.dtype] ?? 4);
}
