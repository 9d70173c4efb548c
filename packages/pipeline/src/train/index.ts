import {
  CELL_TYPES,
  type BundleMetadata,
  type HeadKind,
  OptionError,
  type PreprocessingSpec,
  VERSION,
  applyTemperature,
  chooseReviewThreshold,
  classificationReport,
  cropView,
  expectedCalibrationError,
  fitOutlierModel,
  fitTemperature,
  poolFeatures,
  stackBackboneAndHead,
} from '@bloodcell/core';
import { type BackboneEngine, writeBundle } from '@bloodcell/node';

import { loadExtractor } from '../base-extractor/index.js';
import { type LabelledImage, listLabelledImages, readGroups } from '../dataset/index.js';
import { type FeatureTable, extractFeatureSets } from '../extract/index.js';
import { sha256 } from '../feature-cache/index.js';
import { seededRandom, shuffleInPlace } from '../random/index.js';
import { splitByGroup } from '../split/index.js';
import { hashImageFiles, trainingInputs, upToDateBundle } from '../train-inputs/index.js';
import { DEFAULT_EPOCHS, type EpochLog, trainHead } from '../train-head/index.js';

export interface TrainOptions {
  /** Folder of `<CELL_TYPE>/<image>` files. */
  dataDir: string;
  /** `groups.csv` with each image's field group; without it every image is its own group. */
  groupsCsv?: string;
  /** TF.js layers model holding MobileNetV2 (cut at `out_relu`). */
  baseModelDir: string;
  /** Where the bundle is written. */
  outDir: string;
  /** Where backbone features are cached between runs. */
  cacheDir: string;
  fit?: PreprocessingSpec['fit'];
  /** Head on the features; `pooled` by default (see docs/decisions/0002-pooled-head.md). */
  head?: HeadKind;
  /** Names of CROP_VIEWS whose features are added to the training images (pooled head only). */
  views?: string[];
  /** Engine of the feature extraction (default: onnx when onnxruntime-node loads, else tfjs). */
  engine?: BackboneEngine;
  validationShare?: number;
  seed?: number;
  /** Use at most this many images of each field group (quick runs and tests). */
  maxPerGroup?: number;
  epochs?: number;
  learningRate?: number;
  l2?: number;
  progress?: boolean;
  /** Train even when `outDir` holds a bundle trained from the same inputs. */
  force?: boolean;
  log?: (line: string) => void;
}

export interface TrainResult {
  metadata: BundleMetadata;
  /** True when nothing was trained: `outDir` already held this run's bundle. */
  upToDate: boolean;
  /** Seconds per step: listing, checking the inputs, base loading, features, head, writing. */
  timings: Record<string, number>;
  history: EpochLog[];
}

/** The views `train` adds unless told otherwise: the best setting of the group cross-validation. */
export const DEFAULT_TRAINING_VIEWS: readonly string[] = ['mirror', 'turn-90', 'stain-dark-blue', 'stain-pale-pink'];

/**
 * Learning rate and L2 per head, chosen by group 5-fold cross-validation on the shared data: the
 * flatten head has 62,720 inputs per class, so it needs a far smaller step.
 */
export const HEAD_DEFAULTS: Record<HeadKind, { learningRate: number; l2: number }> = {
  pooled: { learningRate: 1e-3, l2: 1e-2 },
  flatten: { learningRate: 1e-5, l2: 1e-3 },
  mlp: { learningRate: 1e-3, l2: 1e-3 },
};

/**
 * Trains a bundle end to end: list and split the images by field group, extract (or reuse cached)
 * frozen MobileNetV2 features, train the head, calibrate it on validation, write the bundle. When
 * `outDir` already holds the bundle of these exact inputs, returns it without training.
 *
 * @example
 * const { metadata } = await trainBundle({
 *   dataDir: '../shared/data/blood-cells/TRAIN', groupsCsv: '../shared/data/blood-cells/groups.csv',
 *   baseModelDir: '../shared/models/mobilenet-v2-0.35-imagenet', outDir: 'artifacts/model',
 *   cacheDir: 'artifacts/cache/features',
 * });
 */
export async function trainBundle(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const seed = options.seed ?? 7;
  const head = options.head ?? 'pooled';
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await work();
    timings[step] = (Date.now() - started) / 1000;
    return result;
  };

  const images = await timed('list', async () => {
    const groups = options.groupsCsv ? await readGroups(options.groupsCsv) : new Map();
    const all = await listLabelledImages(options.dataDir, groups);
    return options.maxPerGroup ? samplePerGroup(all, options.maxPerGroup, seed) : all;
  });
  const split = splitByGroup(images, { validationShare: options.validationShare ?? 0.2, seed });
  log(
    `images: ${images.length} (${split.train.length} train, ${split.validation.length} validation ` +
      `in ${split.validationGroups.length} held-out field groups)`,
  );

  const views = (options.views ?? []).map(cropView);
  if (views.length > 0 && head === 'flatten') {
    throw new OptionError('VIEWS_NEED_POOLED_HEAD', 'Training views are only supported with the pooled head (--head pooled).');
  }
  const pool = head !== 'flatten';
  const learningRate = options.learningRate ?? HEAD_DEFAULTS[head].learningRate;
  const l2 = options.l2 ?? HEAD_DEFAULTS[head].l2;

  const { extractor, runner, cache, model: base } = await timed('base', () => loadExtractor(options));
  const { hashes, inputs } = await timed('check', async () => {
    const hashes = await hashImageFiles(images.map((image) => image.path));
    const settings = {
      extractor: cache.extractorId,
      fit: options.fit ?? 'cell-crop',
      head,
      views: views.map((view) => view.name),
      validationShare: options.validationShare ?? 0.2,
      seed,
      maxPerGroup: options.maxPerGroup ?? null,
      epochs: options.epochs ?? DEFAULT_EPOCHS,
      learningRate,
      l2,
    };
    return { hashes, inputs: await trainingInputs(images, settings, { hashes }) };
  });
  const current = options.force ? undefined : await upToDateBundle(options.outDir, inputs);
  if (current) {
    await runner.close();
    base.dispose();
    log(`${options.outDir} is up to date: same images, settings, base and code (--force retrains)`);
    return { metadata: current, upToDate: true, timings, history: [] };
  }

  const allPaths = [...split.train, ...split.validation].map((image) => image.path);
  const trainPaths = split.train.map((image) => image.path);
  const [table, ...viewTables] = (await timed('features', () =>
    extractFeatureSets(
      [
        { label: 'features', paths: allPaths, cache, pool },
        ...views.map((view) => ({ label: `view ${view.name}`, paths: trainPaths, cache: cache.forView(view), view, pool })),
      ],
      { extractor, runner },
      { progress: options.progress, label: views.length ? `features + ${views.length} views` : 'features', hashes },
    ).finally(() => runner.close()),
  )) as [FeatureTable, ...FeatureTable[]];
  const rowsDone = table.hashes.length + viewTables.reduce((sum, t) => sum + t.hashes.length, 0);
  const rowsCached = table.cached + viewTables.reduce((sum, t) => sum + t.cached, 0);
  log(
    `features: ${table.hashes.length} images${views.length ? ` + ${views.length} views of the training images` : ''}, ` +
      `${rowsDone} rows (${rowsCached} from cache) on ${runner.engine} in ${table.seconds.toFixed(1)}s`,
  );

  const trainRows = table.features.subarray(0, split.train.length * table.length);
  const validationRows = table.features.subarray(split.train.length * table.length);
  const augmented = withViewRows(trainRows, viewTables, split.train.map((image) => image.label));
  const trained = await timed('head', () =>
    trainHead(
      { features: augmented.features, labels: augmented.labels, pooled: pool },
      { features: validationRows, labels: split.validation.map((image) => image.label), pooled: pool },
      {
        featureShape: extractor.spec.featureShape,
        seed,
        kind: head,
        epochs: options.epochs,
        learningRate,
        l2,
        onEpoch: (epoch) =>
          log(
            `epoch ${epoch.epoch + 1}: train loss ${epoch.trainLoss.toFixed(4)}, validation loss ` +
              `${epoch.validationLoss.toFixed(4)}, validation accuracy ${epoch.validationAccuracy.toFixed(4)}`,
          ),
      },
    ),
  );

  const [rows, columns, channels] = extractor.spec.featureShape;
  const pooled = (features: Float32Array) => (pool ? features : poolFeatures(features, rows * columns, channels));
  const outlier = fitOutlierModel(
    pooled(trainRows),
    split.train.map((image) => image.label),
    pooled(validationRows),
    channels,
    CELL_TYPES.length,
  );

  const labels = split.validation.map((image) => image.label);
  const temperature = fitTemperature(trained.validationProbabilities, labels);
  const calibrated = trained.validationProbabilities.map((row) => applyTemperature(row, temperature));
  const review = chooseReviewThreshold(calibrated, labels);
  const validation = classificationReport(calibrated, labels);

  const metadata: BundleMetadata = {
    format: 'bloodcell-bundle',
    formatVersion: 1,
    packageVersion: VERSION,
    cellTypes: [...CELL_TYPES],
    backbone: extractor.spec,
    preprocessing: extractor.preprocessing,
    calibration: { temperature, reviewThreshold: review.reviewThreshold },
    training: {
      dataFingerprint: fingerprint([...split.train, ...split.validation], table.hashes),
      trainImages: split.train.length,
      validationImages: split.validation.length,
      validationGroups: split.validationGroups,
      seed,
      createdAt: new Date().toISOString(),
      head,
      views: views.map((view) => view.name),
      epochs: trained.history.length,
      bestEpoch: trained.bestEpoch + 1,
      featureCache: cache.extractorId,
      inputs,
      expectedCalibrationErrorBeforeTemperature: expectedCalibrationError(trained.validationProbabilities, labels),
      review,
    },
    validation,
    outlier,
  };

  const model = stackBackboneAndHead(extractor.backbone, trained.head);
  await timed('write', () => writeBundle(options.outDir, model, metadata));
  model.dispose();
  log(
    `bundle written to ${options.outDir}: validation accuracy ${validation.accuracy.toFixed(4)}, ` +
      `balanced ${validation.balancedAccuracy.toFixed(4)}, temperature ${temperature.toFixed(3)}`,
  );
  return { metadata, upToDate: false, timings, history: trained.history };
}

/**
 * The training rows followed by the rows of each training view of the same images, with the
 * labels repeated to match. Validation never sees views.
 *
 * @example
 * const { features, labels } = withViewRows(trainRows, [mirroredTable], trainLabels);
 */
export function withViewRows(
  rows: Float32Array,
  views: readonly FeatureTable[],
  labels: readonly number[],
): { features: Float32Array; labels: number[] } {
  const features = new Float32Array(rows.length * (views.length + 1));
  features.set(rows, 0);
  views.forEach((view, v) => features.set(view.features, rows.length * (v + 1)));
  return { features, labels: Array.from({ length: views.length + 1 }, () => labels).flat() };
}

/**
 * Keeps at most `perGroup` images of each field group (chosen by seed), in the original order.
 *
 * @example
 * samplePerGroup(images, 1, 7).length; // one image per field group
 */
export function samplePerGroup(images: LabelledImage[], perGroup: number, seed: number): LabelledImage[] {
  const random = seededRandom(seed);
  const byGroup = new Map<string, LabelledImage[]>();
  for (const image of images) byGroup.set(image.group, [...(byGroup.get(image.group) ?? []), image]);
  const kept = new Set([...byGroup.values()].flatMap((group) => shuffleInPlace(group, random).slice(0, perGroup)));
  return images.filter((image) => kept.has(image));
}

function fingerprint(images: readonly LabelledImage[], hashes: readonly string[]): string {
  const lines = hashes.map((hash, i) => `${hash} ${images[i]!.cellType}`);
  return sha256(lines.sort().join('\n'));
}

