import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

import { BloodcellError, type Classifier } from '@bloodcell/core';

import { decodeImage, type DecodedImage } from '../decode/index.js';
import { progressBar } from '../progress/index.js';
import { type ImageRecord, type OutputFormat, CSV_HEADER, differential, formatDifferential, formatRecord } from './records.js';

const IMAGE_EXTENSIONS = new Set(['.jpeg', '.jpg', '.png', '.webp', '.tif', '.tiff', '.bmp']);

/**
 * Expands the command line's files and folders into image files: folders are walked recursively
 * for image extensions (sorted); named files are kept whatever their extension, so a bad one is
 * reported rather than silently skipped.
 *
 * @example
 * await expandInputs(['smears/', 'extra.png']); // ['smears/a.jpeg', 'smears/b.jpeg', 'extra.png']
 */
export async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (info?.isDirectory()) files.push(...(await imagesUnder(input)));
    else files.push(input);
  }
  return files;
}

async function imagesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
    .map((entry) => join(entry.parentPath ?? dir, entry.name))
    .sort();
}

export interface ClassifyRun {
  records: ImageRecord[];
  failed: number;
}

/** What classifyFiles needs of a classifier: a TF.js Classifier, an OnnxClassifier or a pool. */
export type BatchClassifier = Pick<Classifier, 'classifyBatch'>;

/**
 * Classifies files in batches, writing one record per image to `out` as it goes, a progress bar
 * and the differential to `err` (or `out` for the table format). Bad files become error records.
 * Up to `inFlight` batches are decoded and classified at once, so a pool of workers stays busy
 * while the next files are decoded; records still come out in the order of `files`.
 *
 * @example
 * const { failed } = await classifyFiles(classifier, files, 'json', process.stdout, process.stderr);
 */
export async function classifyFiles(
  classifier: BatchClassifier,
  files: readonly string[],
  format: OutputFormat,
  out: NodeJS.WritableStream,
  err: NodeJS.WriteStream,
  options: { batchSize?: number; inFlight?: number } = {},
): Promise<ClassifyRun> {
  const records: ImageRecord[] = [];
  const progress = progressBar('classify', files.length, { stream: err, enabled: files.length > 1 && err.isTTY });
  const batchSize = options.batchSize ?? 8;
  const inFlight = options.inFlight ?? 1;
  if (format === 'csv') out.write(`${CSV_HEADER}\n`);

  const pending: Promise<ImageRecord[]>[] = [];
  let next = 0;
  const startBatch = () => {
    const batch = classifyBatchOfFiles(classifier, files.slice(next, next + batchSize));
    // Awaited in order below; this only keeps a later batch's failure from going unhandled meanwhile.
    batch.catch(() => undefined);
    pending.push(batch);
    next += batchSize;
  };
  while (next < files.length && pending.length < inFlight) startBatch();
  while (pending.length > 0) {
    const batchRecords = await pending.shift()!;
    if (next < files.length) startBatch();
    for (const record of batchRecords) out.write(`${formatRecord(record, format)}\n`);
    records.push(...batchRecords);
    progress.tick(batchRecords.length);
  }
  progress.done();

  const failed = records.filter((record) => 'error' in record).length;
  if (files.length > 1) {
    const summary = formatDifferential(differential(records), failed);
    (format === 'table' ? out : err).write(`\n${summary}\n`);
  }
  return { records, failed };
}

/** Decodes and classifies one batch; files that fail become error records. */
async function classifyBatchOfFiles(classifier: BatchClassifier, batch: readonly string[]): Promise<ImageRecord[]> {
  const decoded = await Promise.all(batch.map((file) => decodeImage(file).catch((error: unknown) => error)));
  const good = decoded.flatMap((image, i) => (isDecoded(image) ? [{ image, i }] : []));
  const results = await classifier.classifyBatch(good.map(({ image }) => image));
  return decoded.map((image, i) =>
    isDecoded(image) ? { file: batch[i]!, ...results[good.findIndex((g) => g.i === i)]! } : errorRecord(batch[i]!, image),
  );
}

function isDecoded(value: unknown): value is DecodedImage {
  return typeof value === 'object' && value !== null && 'data' in value && 'width' in value;
}

function errorRecord(file: string, error: unknown): ImageRecord {
  if (error instanceof BloodcellError) return { file, error: { code: error.code, message: error.message } };
  return { file, error: { code: 'UNEXPECTED', message: error instanceof Error ? error.message : String(error) } };
}
