import { readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import {
  type BackboneName,
  type BackboneSpec,
  BloodcellError,
  MOBILENET_V2_SPEC,
  VGG16_SPEC,
  cutAtLayer,
  modelArtifacts,
} from '@bloodcell/core';
import {
  WEIGHTS_FILE,
  fileSystemModelSource,
  loadVgg16,
  replaceFolderAtomic,
  writeModelFiles,
} from '@bloodcell/node';
import * as tfl from '@tensorflow/tfjs-layers';

import { hashFile, hashFolder } from '../fingerprint/index.js';

/** The description written beside the cut base: a BackboneSpec plus where the weights came from. */
export interface BaseDescription extends BackboneSpec {
  format: 'bloodcell-base';
  version: 1;
  /** sha256 of the written weights.bin. */
  weightsSha256: string;
  source: { path: string; sha256: string };
}

export const BASE_FILE = 'base.json';

export interface BaseOptions {
  name: BackboneName;
  /** MobileNetV2: a TF.js layers model folder. VGG16: Keras's notop `.h5`, or a TF.js export folder. */
  path: string;
  /** Layer to cut at; by default out_relu (MobileNetV2) or block5_pool (VGG16). */
  layer?: string | null;
  /** VGG16 only: rebuild at this input side (the weights do not depend on it). */
  inputSize?: number | null;
  /** The output folder (artifacts/base), replaced atomically. */
  outDir: string;
}

const SPECS: Record<BackboneName, BackboneSpec> = { mobilenet_v2: MOBILENET_V2_SPEC, vgg16: VGG16_SPEC };

/**
 * Loads the pretrained base, cuts it at the feature layer, and writes it as a TF.js layers model
 * folder with `base.json` (name, input size, scaling, feature shape, weights sha256).
 *
 * @example
 * const base = await buildBase({
 *   name: 'mobilenet_v2', path: '../shared/models/mobilenet-v2-0.35-imagenet', outDir: 'artifacts/base',
 * });
 * base.featureShape; // [7, 7, 1280]
 */
export async function buildBase(options: BaseOptions): Promise<BaseDescription> {
  const spec = SPECS[options.name];
  const layer = options.layer ?? spec.outputLayer;
  const full = await loadFullModel(options);
  try {
    const cut = cutAtLayer(full, layer);
    const [, height, width, channels] = cut.outputs[0]!.shape as number[];
    const inputSize = cut.inputs[0]!.shape[1] as number;
    if (options.inputSize && options.inputSize !== inputSize) {
      throw new BloodcellError(
        'BASE_INPUT_SIZE',
        `base.inputSize is ${options.inputSize} but the model in ${options.path} takes ${inputSize}x${inputSize}; ` +
          'only vgg16 can be rebuilt at another size. Set base.inputSize to null.',
      );
    }

    const artifacts = await modelArtifacts(cut);
    const source = { path: options.path, sha256: await hashSource(options.path) };
    let description: BaseDescription | undefined;
    await replaceFolderAtomic(resolve(options.outDir), async (staging) => {
      await writeModelFiles(staging, artifacts);
      description = {
        format: 'bloodcell-base',
        version: 1,
        ...spec,
        inputSize,
        outputLayer: layer,
        featureShape: [height!, width!, channels!],
        weightsSha256: await hashFile(join(staging, WEIGHTS_FILE)),
        source,
      };
      await writeFile(join(staging, BASE_FILE), `${JSON.stringify(description, null, 2)}\n`);
    });
    return description!;
  } finally {
    // The cut model only wraps the full model's layers, so disposing the full one frees both.
    full.dispose();
  }
}

/**
 * Reads `base.json` from a base folder.
 *
 * @example
 * const { featureShape, scaling } = await readBaseDescription('artifacts/base');
 */
export async function readBaseDescription(dir: string): Promise<BaseDescription> {
  const path = join(dir, BASE_FILE);
  const text = await readFile(path, 'utf8').catch((cause: unknown) => {
    throw new BloodcellError(
      'BASE_NOT_FOUND',
      `No ${BASE_FILE} in ${dir}: run \`bloodcell-pipeline base\` first.`,
      {
        cause,
      },
    );
  });
  const description = JSON.parse(text) as BaseDescription;
  if (description.format !== 'bloodcell-base') {
    throw new BloodcellError('BAD_BASE', `${path} is not a bloodcell base description.`);
  }
  return description;
}

async function loadFullModel(options: BaseOptions): Promise<tfl.LayersModel> {
  if (options.name === 'mobilenet_v2') {
    if (options.path.endsWith('.h5')) {
      throw new BloodcellError(
        'BASE_FORMAT',
        `base.path ${options.path} is a Keras .h5 file; mobilenet_v2 is read from a TF.js layers model folder ` +
          '(convert it with tensorflowjs_converter), and only vgg16 reads .h5 weights.',
      );
    }
    return tfl.loadLayersModel(fileSystemModelSource(options.path));
  }
  const size = options.inputSize ?? undefined;
  return options.path.endsWith('.h5')
    ? loadVgg16({ h5: options.path }, { inputSize: size })
    : loadVgg16({ tfjsModelDir: options.path }, { inputSize: size });
}

async function hashSource(path: string): Promise<string> {
  return (await stat(path)).isDirectory() ? hashFolder(path) : hashFile(path);
}
