import { readFile } from 'node:fs/promises';

import { ImageInputError, OptionError } from '@bloodcell/core';
import sharp from 'sharp';

import { decodeBmp, isBmp, readBmpHeader } from './bmp.js';

/**
 * Packed 8-bit RGB pixels, row-major HWC with 3 channels: the shape @bloodcell/core accepts.
 *
 * @example
 * const red: RgbImage = { data: Uint8Array.of(255, 0, 0), width: 1, height: 1 };
 */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A decoded image and the container format it came from (`'jpeg'`, `'png'`, ...). */
export type DecodedImage = RgbImage & { format: string };

export interface DecodeOptions {
  /** Refuse images with more pixels than this (width x height); `Infinity` disables the check. */
  maxPixels?: number;
}

/**
 * Largest image decoded by default. A full-resolution microscope camera frame is 5-30
 * megapixels; 40 million pixels covers those while capping the decoded RGB at 120 MB, so a
 * hostile or mistaken input (a decompression bomb, a whole-slide scan) is refused instead of
 * exhausting memory. Whole-slide images need tiling before classification anyway.
 *
 * @example
 * await decodeImage(path, { maxPixels: DEFAULT_MAX_PIXELS * 2 }); // a larger camera frame
 */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/**
 * Container formats decodeImage accepts; anything else is refused as UNSUPPORTED_IMAGE_TYPE.
 *
 * @example
 * console.log(`accepted: ${SUPPORTED_IMAGE_FORMATS.join(', ')}`);
 */
export const SUPPORTED_IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'tiff', 'bmp'] as const;

export type SupportedImageFormat = (typeof SUPPORTED_IMAGE_FORMATS)[number];

const ACCEPTED_LIST = 'JPEG, PNG, WebP, TIFF or uncompressed 24/32-bit BMP';

/**
 * Decodes an image file or buffer to packed 8-bit sRGB RGB, upright per its EXIF orientation.
 * Alpha is flattened onto white; grayscale, CMYK and 16-bit inputs are converted.
 *
 * @param input The encoded bytes, or a path to an image file.
 * @throws ImageInputError with code FILE_NOT_FOUND, FILE_UNREADABLE, NOT_AN_IMAGE,
 *   UNSUPPORTED_IMAGE_TYPE or IMAGE_TOO_LARGE.
 * @example
 * const smear = await decodeImage('smears/field-0001.jpeg');
 * console.log(smear.width, smear.height, smear.format); // 320 240 'jpeg'
 * const same = await decodeImage(await readFile('smears/field-0001.jpeg'), { maxPixels: 1e6 });
 */
export async function decodeImage(
  input: Uint8Array | string,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  const maxPixels = checkMaxPixels(options.maxPixels ?? DEFAULT_MAX_PIXELS);
  const bytes = typeof input === 'string' ? await readImageFile(input) : input;
  const source = typeof input === 'string' ? `'${input}'` : 'the image buffer';

  if (bytes.byteLength === 0) {
    throw new ImageInputError('NOT_AN_IMAGE', `${source} is empty: expected ${ACCEPTED_LIST}.`);
  }
  if (isBmp(bytes)) {
    // sharp's prebuilt libvips has no BMP loader, so BMP is read here.
    const header = readBmpHeader(bytes, source);
    assertWithinPixelLimit(header.width, header.height, maxPixels, source);
    return { ...decodeBmp(bytes, header, source), format: 'bmp' };
  }

  const format = await readCheckedHeader(bytes, maxPixels, source);
  return { ...(await decodePixels(bytes, maxPixels, source)), format };
}

/** Reads an image file, turning file-system errors into ImageInputErrors. */
async function readImageFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ImageInputError('FILE_NOT_FOUND', `Image file not found: '${path}'.`, {
        cause: error,
      });
    }
    if (code === 'EISDIR') {
      throw new ImageInputError('NOT_AN_IMAGE', `'${path}' is a folder, not an image file.`, {
        cause: error,
      });
    }
    throw new ImageInputError(
      'FILE_UNREADABLE',
      `Cannot read image file '${path}' (${code ?? 'unknown error'}): check its permissions.`,
      { cause: error },
    );
  }
}

/** Reads only the header: refuses unsupported formats and oversize images before any decoding. */
async function readCheckedHeader(
  bytes: Uint8Array,
  maxPixels: number,
  source: string,
): Promise<SupportedImageFormat> {
  let metadata: sharp.Metadata;
  try {
    // The limit is ours to enforce below, with the image's real size in the message.
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageInputError(
      'NOT_AN_IMAGE',
      `${source} is not a readable image: expected ${ACCEPTED_LIST}.`,
      { cause: error },
    );
  }

  const format = metadata.format as string;
  if (!isSupportedFormat(format)) {
    throw new ImageInputError(
      'UNSUPPORTED_IMAGE_TYPE',
      `${source} is ${format.toUpperCase()}, which bloodcell does not accept: ` +
        `convert it to ${ACCEPTED_LIST}.`,
    );
  }

  assertWithinPixelLimit(metadata.width ?? 0, metadata.height ?? 0, maxPixels, source);
  return format;
}

/** Decodes to upright, alpha-free 8-bit sRGB. */
async function decodePixels(
  bytes: Uint8Array,
  maxPixels: number,
  source: string,
): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: sharpPixelLimit(maxPixels) })
      .rotate()
      // Stains are read against the bright slide background, so transparency becomes white.
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    };
  } catch (error) {
    if (error instanceof Error && /pixel limit/i.test(error.message)) {
      throw new ImageInputError(
        'IMAGE_TOO_LARGE',
        `${source} has more than ${maxPixels} pixels (maxPixels): downscale or tile it.`,
        { cause: error },
      );
    }
    throw new ImageInputError(
      'NOT_AN_IMAGE',
      `${source} could not be decoded: the file is truncated or corrupt.`,
      { cause: error },
    );
  }
}

function assertWithinPixelLimit(
  width: number,
  height: number,
  maxPixels: number,
  source: string,
): void {
  if (width * height > maxPixels) {
    throw new ImageInputError(
      'IMAGE_TOO_LARGE',
      `${source} is ${width}x${height} = ${width * height} pixels, over the limit of ` +
        `${maxPixels} (maxPixels): downscale or tile it, or raise maxPixels.`,
    );
  }
}

function checkMaxPixels(maxPixels: number): number {
  if (!(maxPixels > 0)) {
    throw new OptionError(
      'INVALID_MAX_PIXELS',
      `maxPixels must be a positive number of pixels (or Infinity), got ${maxPixels}.`,
    );
  }
  return maxPixels;
}

/** sharp wants an integer or `false` for "no limit". */
function sharpPixelLimit(maxPixels: number): number | false {
  return Number.isFinite(maxPixels) ? Math.max(1, Math.floor(maxPixels)) : false;
}

function isSupportedFormat(format: string): format is SupportedImageFormat {
  return (SUPPORTED_IMAGE_FORMATS as readonly string[]).includes(format);
}
