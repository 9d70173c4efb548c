import {
  type ClassificationReport,
  classificationReport,
  cropView,
  type HeadKind,
  OptionError,
  type PreprocessingSpec,
} from '@bloodcell/core';
import type { BackboneEngine } from '@bloodcell/node';

import { listLabelledImages, readGroups } from '../dataset/index.js';
import { type FeatureTable, extractFeatureSets } from '../extract/index.js';
import { groupFolds } from '../split/index.js';
import { loadExtractor } from '../base-extractor/index.js';
import { HEAD_DEFAULTS, samplePerGroup } from '../train/index.js';
import { trainHead } from '../train-head/index.js';

export interface CrossValidateOptions {
  dataDir: string;
  groupsCsv?: string;
  baseModelDir: string;
  cacheDir: string;
  fit?: PreprocessingSpec['fit'];
  heads?: HeadKind[];
  /** Names of CROP_VIEWS added to each fold's training images (pooled heads only). */
  views?: string[];
  folds?: number;
  seed?: number;
  /** Use at most this many images of each field group (quick runs and tests). */
  maxPerGroup?: number;
  /** Engine of the feature extraction (default: onnx when onnxruntime-node loads, else tfjs). */
  engine?: BackboneEngine;
  progress?: boolean;
  log?: (line: string) => void;
}

export interface CrossValidationResult {
  fit: PreprocessingSpec['fit'];
  head: HeadKind;
  views: string[];
  folds: ClassificationReport[];
  meanAccuracy: number;
  meanBalancedAccuracy: number;
  /** Standard deviation of accuracy over folds: how much one split can mislead. */
  accuracySpread: number;
}

/**
 * Group k-fold cross-validation of each head on cached features: every field group is validated
 * once, by a model that never saw it. This is the figure to compare settings by; a single held-out
 * split of ~50 groups moves by ±0.05 with the seed.
 *
 * @example
 * const [pooled, flatten] = await crossValidate({ dataDir, groupsCsv, baseModelDir, cacheDir, heads: ['pooled', 'flatten'] });
 */
export async function crossValidate(options: CrossValidateOptions): Promise<CrossValidationResult[]> {
  const log = options.log ?? (() => {});
  const fit = options.fit ?? 'cell-crop';
  const seed = options.seed ?? 7;
  const groups = options.groupsCsv ? await readGroups(options.groupsCsv) : new Map();
  const all = await listLabelledImages(options.dataDir, groups);
  const images = options.maxPerGroup ? samplePerGroup(all, options.maxPerGroup, seed) : all;
  const heads = options.heads ?? ['pooled'];
  const views = (options.views ?? []).map(cropView);
  const pool = heads.every((head) => head !== 'flatten');
  if (views.length > 0 && !pool) {
    throw new OptionError('VIEWS_NEED_POOLED_HEAD', 'Training views are only supported with the pooled head.');
  }

  const { extractor, runner, cache } = await loadExtractor({ ...options, fit });
  const paths = images.map((image) => image.path);
  const [table, ...viewTables] = (await extractFeatureSets(
    [
      { label: `features (${fit})`, paths, cache, pool },
      ...views.map((view) => ({ label: `view ${view.name}`, paths, cache: cache.forView(view), view, pool })),
    ],
    { extractor, runner },
    { progress: options.progress, label: `features (${fit})${views.length ? ` + ${views.length} views` : ''}` },
  ).finally(() => runner.close())) as [FeatureTable, ...FeatureTable[]];
  log(
    `features (${fit}): ${paths.length} images x ${views.length + 1} views, ` +
      `${[table, ...viewTables].reduce((sum, t) => sum + t.cached, 0)} rows from cache, ${table.seconds.toFixed(1)}s`,
  );
  const index = new Map(images.map((image, i) => [image, i]));
  const rowsOf = (subset: typeof images, tables = [table]) => {
    const rows = new Float32Array(subset.length * table.length * tables.length);
    tables.forEach((source, t) =>
      subset.forEach((image, k) => {
        const i = index.get(image)!;
        rows.set(source.features.subarray(i * table.length, (i + 1) * table.length), (t * subset.length + k) * table.length);
      }),
    );
    return rows;
  };

  const results: CrossValidationResult[] = [];
  const folds = groupFolds(images, options.folds ?? 5, seed);
  for (const head of heads) {
    const reports: ClassificationReport[] = [];
    for (const [k, fold] of folds.entries()) {
      const labels = fold.validation.map((image) => image.label);
      const trainLabels = fold.train.map((image) => image.label);
      const trained = await trainHead(
        {
          features: rowsOf(fold.train, [table, ...viewTables]),
          labels: Array.from({ length: viewTables.length + 1 }, () => trainLabels).flat(),
          pooled: pool,
        },
        { features: rowsOf(fold.validation), labels, pooled: pool },
        { featureShape: extractor.spec.featureShape, kind: head, seed, ...HEAD_DEFAULTS[head] },
      );
      trained.head.dispose();
      const report = classificationReport(trained.validationProbabilities, labels);
      reports.push(report);
      log(`${fit} ${head} fold ${k + 1}/${folds.length}: accuracy ${report.accuracy.toFixed(4)}, balanced ${report.balancedAccuracy.toFixed(4)}`);
    }
    const accuracies = reports.map((report) => report.accuracy);
    const mean = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
    results.push({
      fit,
      head,
      views: views.map((view) => view.name),
      folds: reports,
      meanAccuracy: mean,
      meanBalancedAccuracy: reports.reduce((a, r) => a + r.balancedAccuracy, 0) / reports.length,
      accuracySpread: Math.sqrt(accuracies.reduce((a, x) => a + (x - mean) ** 2, 0) / accuracies.length),
    });
  }
  return results;
}
