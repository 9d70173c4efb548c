import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  CROP_REVISION,
  DEFAULT_LOCALISE_OPTIONS,
  FeatureExtractor,
  LOCALISER_VERSION,
  MOBILENET_V2_SPEC,
  type BackboneSpec,
  type PreprocessingSpec,
  cutAtLayer,
} from '@bloodcell/core';
import { type BackboneEngine, type BackboneRunner, fileSystemModelSource, openBackboneRunner } from '@bloodcell/node';
import * as tfl from '@tensorflow/tfjs-layers';

import { FeatureCache, extractorId, sha256 } from '../feature-cache/index.js';

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
 * Loads the MobileNetV2 base, cuts it at `out_relu`, opens it on the chosen engine, and opens the
 * feature cache that belongs to these exact weights and this preprocessing. Close `runner` when done.
 *
 * @example
 * const { extractor, runner, cache } = await loadExtractor({ baseModelDir, cacheDir, fit: 'cell-crop' });
 */
export async function loadExtractor(options: ExtractorOptions): Promise<LoadedExtractor> {
  const full = await tfl.loadLayersModel(fileSystemModelSource(options.baseModelDir));
  const outputLayer = options.outputLayer ?? MOBILENET_V2_SPEC.outputLayer;
  const backbone = cutAtLayer(full, outputLayer);
  const [, height, width, channels] = backbone.outputs[0]!.shape as number[];
  const spec: BackboneSpec = { ...MOBILENET_V2_SPEC, outputLayer, featureShape: [height!, width!, channels!] };

  const fit = options.fit ?? 'cell-crop';
  const preprocessing: PreprocessingSpec = {
    resize: 'bilinear',
    fit,
    scaling: spec.scaling,
    ...(fit === 'cell-crop' ? { localise: { ...DEFAULT_LOCALISE_OPTIONS } } : {}),
  };
  const weightsSha256 = await weightsFingerprint(options.baseModelDir);
  const localiser = fit === 'cell-crop' ? LOCALISER_VERSION : 0;
  const id = extractorId({ spec, preprocessing, weightsSha256, localiser, crop: CROP_REVISION });
  const cache = new FeatureCache(options.cacheDir, id, height! * width! * channels!);
  const runner = await openBackboneRunner(backbone, { engine: options.engine });
  return { extractor: new FeatureExtractor(backbone, spec, preprocessing), runner, cache, model: full };
}

// TODO (issue 4): hash the cut base's weight values, not its files: the base stage writes the same
// weights into new files, so `repro` cannot reuse the features `pnpm train` cached.
async function weightsFingerprint(modelDir: string): Promise<string> {
  const modelJson = JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8')) as {
    weightsManifest: { paths: string[] }[];
  };
  const paths = modelJson.weightsManifest.flatMap((group) => group.paths);
  const shards = await Promise.all(paths.map((path) => readFile(join(modelDir, path))));
  return sha256(shards.map((shard) => sha256(shard)).join('\n'));
}
