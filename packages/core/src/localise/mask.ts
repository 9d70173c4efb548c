import { ImageInputError } from '../errors.js';

/** Packed 8-bit pixels, row-major, 3 (RGB) or 4 (RGBA, alpha ignored) channels. */
export interface SmearImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels?: 3 | 4;
}

/**
 * A smear reduced to a coarse grid of nucleus scores: each cell of the grid averages a
 * `factor` x `factor` block of the image. `valid` is 0 where the block is padding (the black
 * corners that rotation augmentation leaves), which takes no part in the statistics.
 */
export interface ScoreGrid {
  score: Float32Array;
  valid: Uint8Array;
  width: number;
  height: number;
  factor: number;
}

/** Where the image's own score distribution sits: its background level and its violet tail. */
export interface ScoreStats {
  median: number;
  high: number;
  validCount: number;
}

/**
 * The number of channels of a packed image, checked against its size.
 *
 * @example
 * smearChannels({ data: new Uint8Array(16), width: 2, height: 2 }); // 4
 */
export function smearChannels(image: SmearImage): 3 | 4 {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageInputError(
      'BAD_IMAGE_SIZE',
      `Image size ${width}x${height} is not a positive integer size.`,
    );
  }
  const channels = image.channels ?? (data.length === width * height * 4 ? 4 : 3);
  if (channels !== 3 && channels !== 4) {
    throw new ImageInputError(
      'BAD_CHANNELS',
      `An image must have 3 (RGB) or 4 (RGBA) channels; got ${String(channels)}.`,
    );
  }
  if (data.length !== width * height * channels) {
    throw new ImageInputError(
      'BAD_PIXEL_COUNT',
      `A ${width}x${height} image with ${channels} channels needs ${width * height * channels} ` +
        `bytes of pixels; got ${data.length}.`,
    );
  }
  return channels;
}

/**
 * The block size that brings the image's width down to about `workingWidth` grid cells.
 *
 * @example
 * gridFactor(320, 160); // 2
 */
export function gridFactor(width: number, workingWidth: number): number {
  return Math.max(1, Math.round(width / Math.max(1, workingWidth)));
}

/**
 * Averages `factor` x `factor` blocks and scores each for nuclear stain: blue minus green.
 * Wright/Giemsa nuclei are blue-violet with little green; erythrocytes (pink) and the pale
 * background score near zero. Blocks darker than `voidLevel` in every channel are padding.
 *
 * @example
 * const grid = nucleusScoreGrid(image, 2, 24);
 * grid.score[0]; // blue minus green of the top-left 2x2 block
 */
export function nucleusScoreGrid(image: SmearImage, factor: number, voidLevel: number): ScoreGrid {
  const channels = smearChannels(image);
  const { data } = image;
  const width = Math.max(1, Math.floor(image.width / factor));
  const height = Math.max(1, Math.floor(image.height / factor));
  const blockW = Math.min(factor, image.width);
  const blockH = Math.min(factor, image.height);
  const score = new Float32Array(width * height);
  const valid = new Uint8Array(width * height);

  for (let gy = 0; gy < height; gy++) {
    for (let gx = 0; gx < width; gx++) {
      let sumB = 0;
      let sumG = 0;
      let brightest = 0;
      for (let dy = 0; dy < blockH; dy++) {
        let p = ((gy * factor + dy) * image.width + gx * factor) * channels;
        for (let dx = 0; dx < blockW; dx++, p += channels) {
          const r = data[p]!;
          const g = data[p + 1]!;
          const b = data[p + 2]!;
          sumG += g;
          sumB += b;
          brightest = Math.max(brightest, r, g, b);
        }
      }
      const cell = gy * width + gx;
      score[cell] = (sumB - sumG) / (blockW * blockH);
      valid[cell] = brightest > voidLevel ? 1 : 0;
    }
  }

  return { score, valid, width, height, factor };
}

/**
 * The median and the `highQuantile` of the scores of valid grid cells, from a 1-unit histogram.
 *
 * @example
 * const { median, high } = scoreStats(grid, 0.995);
 */
export function scoreStats(grid: ScoreGrid, highQuantile: number): ScoreStats {
  const bins = new Uint32Array(511);
  let validCount = 0;
  for (let i = 0; i < grid.score.length; i++) {
    if (grid.valid[i] === 0) continue;
    bins[Math.round(grid.score[i]!) + 255]! += 1;
    validCount++;
  }
  if (validCount === 0) return { median: 0, high: 0, validCount };

  return {
    median: histogramQuantile(bins, validCount, 0.5) - 255,
    high: histogramQuantile(bins, validCount, highQuantile) - 255,
    validCount,
  };
}

function histogramQuantile(bins: Uint32Array, total: number, quantile: number): number {
  const target = Math.min(total - 1, Math.floor(quantile * total));
  let seen = 0;
  for (let bin = 0; bin < bins.length; bin++) {
    seen += bins[bin]!;
    if (seen > target) return bin;
  }
  return bins.length - 1;
}

/**
 * The cells of the grid scoring above `threshold` (and not padding), as a 0/1 mask.
 *
 * @example
 * const nucleus = thresholdMask(grid, 60);
 */
export function thresholdMask(grid: ScoreGrid, threshold: number): Uint8Array {
  const mask = new Uint8Array(grid.score.length);
  for (let i = 0; i < mask.length; i++) {
    mask[i] = grid.valid[i] === 1 && grid.score[i]! > threshold ? 1 : 0;
  }
  return mask;
}
