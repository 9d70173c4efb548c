import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import {
  CROP_REVISION,
  DEFAULT_LOCALISE_OPTIONS,
  FeatureExtractor,
  LOCALISER_VERSION,
  MOBILENET_V2_SPEC,
  VGG16_SPEC,
  type BackboneSpec,
  type PreprocessingSpec,
  cutAtLayer,
} from '@bloodcell/core';
import { type BackboneEngine, type BackboneRunner, fileSystemModelSource, openBackboneRunner } from '@bloodcell/node';
import * as tfl from '@tensorflow/tfjs-layers';

import { BASE_FILE, readBaseDescription } from '../base/index.js';
import { FeatureCache, extractorId } from '../feature-cache/index.js';

/** Where the base comes from and where its features are cached. */
export interface ExtractorOptions {
  /** TF.js layers model holding MobileNetV2. */
  baseModelDir: string;
  cacheDir: string;
  fit?: PreprocessingSpec['fit'];
  /** Layer to cut at; `out_relu` unless an experiment needs an earlier one. */
  outputLayer?: string;
  /**
   * Engine of the feature extraction: ONNX Runtime when it loads (several times faster), else
   * TF.js. Features agree to float rounding, so both share one cache.
   */
  engine?: BackboneEngine;
}

/** The loaded base: its preprocessing, an engine to run it, and its feature cache. */
export interface LoadedExtractor {
  extractor: FeatureExtractor;
  runner: BackboneRunner;
  cache: FeatureCache;
  /** The whole model the base was cut from. */
  model: tfl.LayersModel;
}

/**
 * Loads the base, cuts it at its feature layer, opens it on the chosen engine, and opens the
 * feature cache that belongs to these exact weights and this preprocessing. A folder written by
 * the base stage names its backbone in `base.json` (MobileNetV2 or VGG16); any other folder is
 * read as MobileNetV2, cut at `out_relu`. Close `runner` when done.
 *
 * @example
 * const { extractor, runner, cache } = await loadExtractor({ baseModelDir, cacheDir, fit: 'cell-crop' });
 */
export async function loadExtractor(options: ExtractorOptions): Promise<LoadedExtractor> {
  const described = existsSync(join(options.baseModelDir, BASE_FILE))
    ? await readBaseDescription(options.baseModelDir)
    : undefined;
  const known = described?.name === 'vgg16' ? VGG16_SPEC : MOBILENET_V2_SPEC;
  const full = await tfl.loadLayersModel(fileSystemModelSource(options.baseModelDir));
  const outputLayer = options.outputLayer ?? described?.outputLayer ?? known.outputLayer;
  const backbone = cutAtLayer(full, outputLayer);
  const [, height, width, channels] = backbone.outputs[0]!.shape as number[];
  const inputSize = backbone.inputs[0]!.shape[1] as number;
  const spec: BackboneSpec = { ...known, inputSize, outputLayer, featureShape: [height!, width!, channels!] };

  const fit = options.fit ?? 'cell-crop';
  const preprocessing: PreprocessingSpec = {
    resize: 'bilinear',
    fit,
    scaling: spec.scaling,
    ...(fit === 'cell-crop' ? { localise: { ...DEFAULT_LOCALISE_OPTIONS } } : {}),
  };
  const weightsSha256 = await weightsFingerprint(backbone);
  const localiser = fit === 'cell-crop' ? LOCALISER_VERSION : 0;
  const id = extractorId({ spec, preprocessing, weightsSha256, localiser, crop: CROP_REVISION });
  const cache = new FeatureCache(options.cacheDir, id, height! * width! * channels!);
  const runner = await openBackboneRunner(backbone, { engine: options.engine });
  return { extractor: new FeatureExtractor(backbone, spec, preprocessing), runner, cache, model: full };
}

/**
 * sha256 over the cut base's weights (names, shapes and values), not its files: the pipeline's base
 * stage rewrites the same weights into new files, and its features must still come from the cache
 * `pnpm train` filled.
 */
async function weightsFingerprint(backbone: tfl.LayersModel): Promise<string> {
  const hash = createHash('sha256');
  for (const weight of backbone.weights) {
    const values = (await weight.read().data()) as Float32Array;
    hash.update(`${weight.originalName} ${weight.shape.join('x')}\n`);
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}
