import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

import { BundleError } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';

/** File names a TF.js layers export uses, as `tensorflowjs_converter` writes them. */
const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/**
 * A TF.js IOHandler over a folder on disk holding `model.json` and the weight shards its
 * `weightsManifest` lists (a `tensorflowjs_converter` or `model.save` export). `save` writes
 * `model.json` + `weights.bin` atomically: into a temporary folder beside `dir`, then renamed
 * over it, so a crash never leaves a half-written model behind.
 *
 * @example
 * const model = await tfl.loadLayersModel(fileSystemModelSource('models/vgg16'));
 * await model.save(fileSystemModelSource('models/vgg16-copy'));
 */
export function fileSystemModelSource(dir: string): tf.io.IOHandler {
  const root = resolve(dir);
  return {
    load: () => loadModelFolder(root),
    save: (artifacts) => saveModelFolder(root, artifacts),
  };
}

/** Reads `model.json` and every shard it lists, without joining shards into one buffer. */
async function loadModelFolder(root: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = join(root, MODEL_JSON);
  const text = await readFile(jsonPath, 'utf8').catch((cause: unknown) => {
    throw new BundleError(
      'MODEL_JSON_MISSING',
      `No ${MODEL_JSON} in ${root}: expected a TF.js layers export (model.json + .bin shards).`,
      { cause },
    );
  });

  let modelJSON: tf.io.ModelJSON;
  try {
    modelJSON = JSON.parse(text) as tf.io.ModelJSON;
  } catch (cause) {
    throw new BundleError('MODEL_JSON_INVALID', `${jsonPath} is not valid JSON.`, { cause });
  }
  if (typeof modelJSON !== 'object' || modelJSON === null || !modelJSON.modelTopology) {
    throw new BundleError('MODEL_JSON_INVALID', `${jsonPath} has no modelTopology.`);
  }

  return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
    const specs = manifest.flatMap((group) => group.weights);
    const shards = manifest.flatMap((group) => group.paths).map((path) => readShard(root, path));
    return [specs, await Promise.all(shards)];
  });
}

/** One weight shard as its own ArrayBuffer; paths may not leave the model's folder. */
async function readShard(root: string, path: string): Promise<ArrayBuffer> {
  const shardPath = resolve(root, decodeURIComponent(path));
  const inside = relative(root, shardPath);
  if (inside.startsWith('..') || isAbsolute(inside)) {
    throw new BundleError(
      'MODEL_SHARD_OUTSIDE',
      `${join(root, MODEL_JSON)} lists weight shard '${path}' outside its folder.`,
    );
  }

  const bytes = await readFile(shardPath).catch((cause: unknown) => {
    throw new BundleError(
      'MODEL_SHARD_MISSING',
      `Weight shard '${path}' listed in ${join(root, MODEL_JSON)} is missing from ${root}.`,
      { cause },
    );
  });
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Writes the export into a sibling temporary folder, then swaps it in by renames. */
async function saveModelFolder(
  root: string,
  artifacts: tf.io.ModelArtifacts,
): Promise<tf.io.SaveResult> {
  if (!artifacts.modelTopology || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new BundleError(
      'MODEL_SAVE_UNSUPPORTED',
      `Cannot save to ${root}: only models with a JSON topology (TF.js layers models) are saved.`,
    );
  }

  const modelJSON: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
    ...optionalFields(artifacts),
  };
  const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));

  const parent = dirname(root);
  const tag = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const staging = join(parent, `.${basename(root)}.saving-${tag}`);
  await mkdir(staging, { recursive: true });
  try {
    await writeFile(join(staging, MODEL_JSON), JSON.stringify(modelJSON));
    await writeFile(join(staging, WEIGHTS_BIN), new Uint8Array(weights));
    await swapIn(staging, root, join(parent, `.${basename(root)}.replaced-${tag}`));
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }

  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
}

/** Renames `staging` to `root`; an existing `root` moves aside first and goes once replaced. */
async function swapIn(staging: string, root: string, aside: string): Promise<void> {
  const exists = await stat(root).then(
    () => true,
    () => false,
  );
  if (exists) await rename(root, aside);

  try {
    await rename(staging, root);
  } catch (error) {
    if (exists) await rename(aside, root);
    throw error;
  }

  if (exists) await rm(aside, { recursive: true, force: true });
}

/** The ModelJSON fields a model may carry besides topology and weights. */
function optionalFields(artifacts: tf.io.ModelArtifacts): Partial<tf.io.ModelJSON> {
  const fields: Partial<tf.io.ModelJSON> = {};
  if (artifacts.trainingConfig) fields.trainingConfig = artifacts.trainingConfig;
  if (artifacts.signature) fields.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata) fields.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer) fields.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature) fields.initializerSignature = artifacts.initializerSignature;
  return fields;
}
