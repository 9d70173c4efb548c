import type { Classifier, ClassifyResult, PixelImage } from '@bloodcell/core';
import { decodeImage } from '@bloodcell/node';

import type { CellClassifier } from '../lifecycle/index.js';
import type { CellActivation, ImageInfo, ImageOutcome } from '../report/index.js';
import { publicError } from './errors.js';
import { explainImages } from './explain.js';
import type { Upload } from './uploads.js';

/** An upload decoded, or the reason it could not be. */
type Decoded =
  | { pixels: PixelImage; info: ImageInfo; error?: undefined }
  | { pixels?: undefined; info?: undefined; error: { code: string; message: string } };

export interface ClassifyUploadsOptions {
  /** Largest image accepted, in pixels. */
  maxPixels: number;
  /** Images decoded and classified together; bounds the decoded pixels held at once. */
  batchSize: number;
  /**
   * A TF.js classifier that then classifies and adds each result's activation map, at the cost of
   * one more backbone pass per image; without it `classifier` answers, without maps.
   */
  explainWith?: Promise<Classifier>;
}

/**
 * Decodes and classifies uploads a batch at a time, keeping their order. A file that cannot be
 * decoded becomes `{ file, error }` without failing the others; a model failure throws.
 *
 * @example
 * const outcomes = await classifyUploads(classifier, uploads, { maxPixels: 16e6, batchSize: 4 });
 */
export async function classifyUploads(
  classifier: CellClassifier,
  uploads: readonly Upload[],
  options: ClassifyUploadsOptions,
): Promise<ImageOutcome[]> {
  const outcomes: ImageOutcome[] = [];
  for (let start = 0; start < uploads.length; start += options.batchSize) {
    const batch = uploads.slice(start, start + options.batchSize);
    outcomes.push(...(await classifyBatch(classifier, batch, options)));
  }
  return outcomes;
}

async function classifyBatch(
  classifier: CellClassifier,
  uploads: readonly Upload[],
  { maxPixels, explainWith }: ClassifyUploadsOptions,
): Promise<ImageOutcome[]> {
  const decoded = await Promise.all(
    uploads.map(async (upload): Promise<Decoded> => {
      try {
        const image = await decodeImage(upload.bytes, { maxPixels });
        const pixels: PixelImage = { data: image.data, width: image.width, height: image.height, channels: 3 };
        const info: ImageInfo = { width: image.width, height: image.height, format: image.format };
        return { pixels, info };
      } catch (error) {
        const { code, message } = publicError(error);
        // The decoder speaks of "the image buffer"; a person uploading knows the file by name.
        return { error: { code, message: message.replace(/^the image buffer/, `"${upload.file}"`) } };
      }
    }),
  );

  // TODO (issue 5): on the tfjs engine (and for explain=1) the forward pass runs on this thread, so
  // /healthz answers late during a long batch; the onnx engine runs it in a worker, and
  // `prepareWorkers` moves locating and cropping off this thread too.
  const images = decoded.flatMap((entry) => (entry.pixels ? [entry.pixels] : []));
  const results: (ClassifyResult & { activation?: CellActivation })[] = explainWith
    ? await explainImages(await explainWith, images)
    : images.length > 0
      ? await classifier.classifyBatch(images, { batchSize: images.length })
      : [];

  let next = 0;
  return decoded.map((entry, i) => {
    const file = uploads[i]!.file;
    if (!entry.pixels) return { file, error: entry.error };
    const { cellType, probability, probabilities, referForReview, reviewReasons, outlierScore, box, cellFound } =
      results[next]!;
    const { activation } = results[next++]!;
    const outcome = { file, cellType, probability, probabilities, referForReview, reviewReasons, outlierScore };
    const image = entry.info;
    return activation ? { ...outcome, box, cellFound, image, activation } : { ...outcome, box, cellFound, image };
  });
}
