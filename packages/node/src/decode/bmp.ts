import { ImageInputError } from '@bloodcell/core';

import type { RgbImage } from './index.js';

/** Where each colour sits inside one BMP pixel, in bytes from the pixel's start. */
interface ChannelOffsets {
  red: number;
  green: number;
  blue: number;
  alpha?: number;
}

/** The parts of a BMP header needed to read its pixels. */
export interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bytesPerPixel: 3 | 4;
  pixelOffset: number;
  rowStride: number;
  channels: ChannelOffsets;
}

const FILE_HEADER_BYTES = 14;
const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const BGR: ChannelOffsets = { red: 2, green: 1, blue: 0 };

/**
 * Whether the bytes start with the BMP signature `BM`.
 *
 * @example
 * isBmp(new TextEncoder().encode('BM...')); // true
 */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/**
 * Parses and validates a BMP header without touching the pixels, so the caller can check the
 * pixel limit before decodeBmp allocates. Only uncompressed 24-bit and 32-bit BMPs are supported.
 *
 * @throws ImageInputError NOT_AN_IMAGE (corrupt or truncated) or UNSUPPORTED_IMAGE_TYPE.
 * @example
 * const header = readBmpHeader(bytes, 'field.bmp');
 * console.log(header.width, header.height);
 */
export function readBmpHeader(bytes: Uint8Array, source: string): BmpHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = (why: string): ImageInputError =>
    new ImageInputError('NOT_AN_IMAGE', `${source} is not a readable BMP: ${why}.`);

  if (bytes.byteLength < FILE_HEADER_BYTES + 40) throw corrupt('the header is truncated');
  const pixelOffset = view.getUint32(10, true);
  const infoSize = view.getUint32(14, true);
  if (infoSize < 40) {
    throw unsupported(source, `an OS/2 header of ${infoSize} bytes`);
  }
  if (pixelOffset < FILE_HEADER_BYTES + infoSize) {
    throw corrupt('the pixel data would overlap the header');
  }

  const width = view.getInt32(18, true);
  const signedHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (width <= 0 || signedHeight === 0) {
    throw corrupt(`it declares ${width}x${signedHeight} pixels`);
  }
  if (bitsPerPixel !== 24 && bitsPerPixel !== 32) {
    throw unsupported(source, `${bitsPerPixel}-bit pixels`);
  }

  const bytesPerPixel = bitsPerPixel === 24 ? 3 : 4;
  const height = Math.abs(signedHeight);
  const rowStride = Math.ceil((width * bitsPerPixel) / 32) * 4;
  const channels = readChannelOffsets(view, bitsPerPixel, compression, infoSize, source);

  const topDown = signedHeight < 0;
  return { width, height, topDown, bytesPerPixel, pixelOffset, rowStride, channels };
}

/**
 * Decodes the pixels described by `readBmpHeader` to packed RGB, flattening any alpha onto white.
 *
 * @throws ImageInputError NOT_AN_IMAGE when the pixel data is shorter than the header says.
 *
 * @example
 * const image = decodeBmp(bytes, readBmpHeader(bytes, 'field.bmp'), 'field.bmp');
 */
export function decodeBmp(bytes: Uint8Array, header: BmpHeader, source: string): RgbImage {
  const { width, height, topDown, bytesPerPixel, pixelOffset, rowStride, channels } = header;
  // JS numbers do not wrap, so a hostile header cannot overflow its way past this check.
  if (pixelOffset + rowStride * height > bytes.byteLength) {
    throw new ImageInputError('NOT_AN_IMAGE', `${source} is a truncated BMP: pixels are missing.`);
  }

  const data = new Uint8Array(width * height * 3);

  for (let y = 0; y < height; y += 1) {
    // BMP rows run bottom-up unless the height is negative.
    const rowStart = pixelOffset + (topDown ? y : height - 1 - y) * rowStride;
    for (let x = 0; x < width; x += 1) {
      const pixel = rowStart + x * bytesPerPixel;
      const out = (y * width + x) * 3;
      const alpha = channels.alpha === undefined ? 255 : byteAt(bytes, pixel + channels.alpha);
      data[out] = onWhite(byteAt(bytes, pixel + channels.red), alpha);
      data[out + 1] = onWhite(byteAt(bytes, pixel + channels.green), alpha);
      data[out + 2] = onWhite(byteAt(bytes, pixel + channels.blue), alpha);
    }
  }

  return { data, width, height };
}

/** Channel byte positions from the compression mode and, for bitfields, the colour masks. */
function readChannelOffsets(
  view: DataView,
  bitsPerPixel: number,
  compression: number,
  infoSize: number,
  source: string,
): ChannelOffsets {
  // 32-bit BI_RGB leaves the fourth byte undefined by the spec, so it is not read as alpha.
  if (compression === BI_RGB) return BGR;

  const hasMasks = compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS;
  if (!hasMasks || bitsPerPixel !== 32) {
    throw unsupported(source, `compression type ${compression} with ${bitsPerPixel}-bit pixels`);
  }

  const hasAlphaMask = infoSize >= 56 || compression === BI_ALPHABITFIELDS;
  const masks = [54, 58, 62, 66].map((at) =>
    at === 66 && !hasAlphaMask ? 0 : view.getUint32(at, true),
  );
  const [red, green, blue, alpha] = masks.map((mask) => byteIndexOfMask(mask));
  if (red === undefined || green === undefined || blue === undefined) {
    throw unsupported(source, 'colour masks that are not whole bytes');
  }
  return alpha === undefined ? { red, green, blue } : { red, green, blue, alpha };
}

/** The byte a mask selects when it is exactly one whole byte, else undefined. */
function byteIndexOfMask(mask: number): number | undefined {
  for (let index = 0; index < 4; index += 1) {
    if (mask === (0xff * 2 ** (8 * index))) return index;
  }
  return undefined;
}

function byteAt(bytes: Uint8Array, index: number): number {
  return bytes[index] ?? 0;
}

/** Composites one channel over white, matching sharp's flatten for the other formats. */
function onWhite(value: number, alpha: number): number {
  return alpha === 255 ? value : Math.round((value * alpha + 255 * (255 - alpha)) / 255);
}

function unsupported(source: string, what: string): ImageInputError {
  return new ImageInputError(
    'UNSUPPORTED_IMAGE_TYPE',
    `${source} is a BMP with ${what}; only uncompressed 24/32-bit BMP is accepted: ` +
      'convert it to JPEG, PNG, WebP or TIFF.',
  );
}
