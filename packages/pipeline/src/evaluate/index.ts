import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import {
  BloodcellError,
  type Box,
  CELL_TYPES,
  type CellType,
  ImageInputError,
  applyTemperature,
  argmax,
} from '@bloodcell/core';
import {
  type DecodedImage,
  decodeImage,
  type InferenceEngine,
  formatSeconds,
  openClassifier,
  progressBar,
  replaceFolderAtomic,
} from '@bloodcell/node';
import sharp from 'sharp';

import { type LabelledImage, listLabelledImages, readGroups } from '../dataset/index.js';
import { renderReport } from '../report/index.js';
import { type ScoreCard, type Scored, scoreCard } from './metrics.js';

export { reliabilityBins, reviewSummary, scoreCard, sourcePhotoSummary } from './metrics.js';
export type { ReliabilityBin, ReviewSummary, ScoreCard, Scored, SourcePhotoSummary } from './metrics.js';

export interface EvaluateOptions {
  /** A bundle folder (bloodcell.json, model.json, weights.bin). */
  modelDir: string;
  /** A labelled `<CELL_TYPE>/<image>` folder. */
  dataDir: string;
  groupsCsv?: string | null;
  /** Keep only the field groups the bundle held out for validation (needs groupsCsv). */
  validationOnly?: boolean;
  /** Where metrics.json and report.html go (replaced atomically). */
  outDir: string;
  /** Most confident mistakes to show with thumbnails (default 12). */
  mistakes?: number;
  batchSize?: number;
  /** Default: onnx when onnxruntime-node loads, else tfjs; the answers agree to 1e-4. */
  engine?: InferenceEngine;
  progress?: boolean;
  log?: (line: string) => void;
}

/** A wrong answer the model was sure of. */
export interface Mistake {
  path: string;
  cellType: CellType;
  predicted: CellType;
  probability: number;
  box: Box;
  /** A small JPEG with the crop box drawn, as a data: URL (report only). */
  thumbnail?: string;
}

/** `metrics.json`. */
export interface Evaluation extends ScoreCard {
  format: 'bloodcell-evaluation';
  version: 1;
  model: { dir: string; packageVersion: string; createdAt: string; reviewThreshold: number };
  data: { dir: string; validationOnly: boolean; heldOutGroups: number | null };
  mistakes: Omit<Mistake, 'thumbnail'>[];
  /** Images that could not be decoded, left out of every figure. */
  unreadable: { path: string; reason: string }[];
  seconds: number;
}

/**
 * Classifies a labelled folder (or only the bundle's held-out validation groups) with a bundle and
 * writes `metrics.json` and a self-contained `report.html` (inline SVG plots and thumbnails).
 *
 * @example
 * const evaluation = await evaluateModel({
 *   modelDir: 'artifacts/model', dataDir: 'artifacts/ingest/images',
 *   groupsCsv: 'artifacts/ingest/groups.csv', validationOnly: true, outDir: 'artifacts/evaluate',
 * });
 */
export async function evaluateModel(options: EvaluateOptions): Promise<Evaluation> {
  const started = Date.now();
  const classifier = await openClassifier(options.modelDir, { engine: options.engine });
  const { metadata } = classifier;
  try {
    const images = await selectImages(options, metadata.training.validationGroups);
    const progress = progressBar('evaluate', images.length, { enabled: options.progress });
    const scored: (Scored & { image: LabelledImage; box: Box })[] = [];
    const unreadable: Evaluation['unreadable'] = [];
    const batchSize = options.batchSize ?? 8;

    for (let start = 0; start < images.length; start += batchSize) {
      const batch: { image: LabelledImage; pixels: DecodedImage }[] = [];
      for (const image of images.slice(start, start + batchSize)) {
        try {
          batch.push({ image, pixels: await decodeImage(image.path) });
        } catch (error) {
          if (!(error instanceof ImageInputError)) throw error;
          unreadable.push({ path: image.name, reason: error.message });
        }
      }
      const results = await classifier.classifyBatch(
        batch.map((b) => b.pixels),
        { batchSize },
      );
      results.forEach((result, k) => {
        const { image } = batch[k]!;
        scored.push({
          image,
          label: image.label,
          probabilities: CELL_TYPES.map((c) => result.probabilities[c]),
          referForReview: result.referForReview,
          box: result.box,
          ...(image.sourcePhoto ? { sourcePhoto: image.sourcePhoto } : {}),
        });
      });
      progress.tick(images.slice(start, start + batchSize).length);
    }
    progress.done();
    if (scored.length === 0) {
      throw new BloodcellError(
        'NO_IMAGES',
        `No readable labelled images to evaluate in ${options.dataDir}.`,
      );
    }

    const { temperature, reviewThreshold } = metadata.calibration;
    // The classifier applied the bundle's temperature; 1/T undoes it.
    const uncalibrated = scored.map((s) => applyTemperature(s.probabilities, 1 / temperature));
    const mistakes: Mistake[] = scored
      .filter((s) => argmax(s.probabilities) !== s.label)
      .sort((a, b) => Math.max(...b.probabilities) - Math.max(...a.probabilities))
      .slice(0, options.mistakes ?? 12)
      .map((s) => ({
        path: s.image.name,
        cellType: CELL_TYPES[s.label]!,
        predicted: CELL_TYPES[argmax(s.probabilities)]!,
        probability: Math.max(...s.probabilities),
        box: s.box,
      }));

    const evaluation: Evaluation = {
      format: 'bloodcell-evaluation',
      version: 1,
      model: {
        dir: options.modelDir,
        packageVersion: metadata.packageVersion,
        createdAt: metadata.training.createdAt,
        reviewThreshold,
      },
      data: {
        dir: options.dataDir,
        validationOnly: options.validationOnly ?? false,
        heldOutGroups: options.validationOnly ? metadata.training.validationGroups.length : null,
      },
      ...scoreCard(scored, uncalibrated, { temperature, reviewThreshold }),
      mistakes,
      unreadable,
      seconds: (Date.now() - started) / 1000,
    };

    const byName = new Map(scored.map((s) => [s.image.name, s.image.path]));
    for (const mistake of mistakes)
      mistake.thumbnail = await thumbnail(byName.get(mistake.path)!, mistake.box);
    await replaceFolderAtomic(resolve(options.outDir), async (staging) => {
      await writeFile(join(staging, 'metrics.json'), `${JSON.stringify(evaluation, null, 2)}\n`);
      await writeFile(join(staging, 'report.html'), renderReport(evaluation, mistakes));
    });
    options.log?.(summaryLine(evaluation));
    return evaluation;
  } finally {
    await classifier.close();
  }
}

/**
 * The one-line account of an evaluation.
 *
 * @example
 * summaryLine(evaluation); // 'evaluate: 1990 images, accuracy 0.912, balanced 0.911, …'
 */
export function summaryLine(e: Evaluation): string {
  const f = (x: number) => x.toFixed(3);
  return (
    `evaluate: ${e.images} images, accuracy ${f(e.accuracy)}, balanced ${f(e.balancedAccuracy)}, ` +
    `macro-F1 ${f(e.macroF1)}, ECE ${f(e.calibration.eceBeforeTemperature)} → ${f(e.calibration.eceAfterTemperature)}, ` +
    `${(e.review.referredShare * 100).toFixed(1)}% referred (accuracy on the rest ${f(e.review.keptAccuracy)}); ` +
    `${formatSeconds(e.seconds)}`
  );
}

async function selectImages(
  options: EvaluateOptions,
  validationGroups: readonly string[],
): Promise<LabelledImage[]> {
  const groups = options.groupsCsv ? await readGroups(options.groupsCsv) : new Map();
  const images = await listLabelledImages(options.dataDir, groups);
  if (!options.validationOnly) return images;
  if (!options.groupsCsv) {
    throw new BloodcellError(
      'GROUPS_NEEDED',
      'Evaluating only the held-out split (--validation-only, evaluate.validationOnly) needs a groups.csv ' +
        '(--groups, evaluate.groups or ingest.groups): the split is recorded as field groups.',
    );
  }
  const held = new Set(validationGroups);
  const kept = images.filter((image) => held.has(image.group));
  if (kept.length === 0) {
    throw new BloodcellError(
      'NO_VALIDATION_IMAGES',
      `None of the ${images.length} images in ${options.dataDir} is in the bundle's ${held.size} held-out ` +
        'field groups: is this the data and groups.csv the bundle was trained on?',
    );
  }
  return kept;
}

/** A 240-pixel-wide JPEG of the image with the crop box drawn, as a data: URL. */
async function thumbnail(path: string, box: Box): Promise<string> {
  const bytes = await readFile(path);
  const upright = (await sharp(bytes).metadata()).autoOrient;
  const { data, info } = await sharp(bytes)
    .rotate()
    .resize({ width: 240 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const scale = info.width / upright.width;
  const [x, y, w, h] = [box.x, box.y, box.width, box.height].map((v) => (v * scale).toFixed(1));
  const overlay = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${info.width}" height="${info.height}">` +
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#ffd400" stroke-width="2.5"/></svg>`,
  );
  const raw = { width: info.width, height: info.height, channels: info.channels };
  const jpeg = await sharp(data, { raw })
    .composite([{ input: overlay }])
    .jpeg({ quality: 80 })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}
