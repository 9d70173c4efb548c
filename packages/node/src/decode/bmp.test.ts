import { ImageInputError } from '@bloodcell/core';
import { describe, expect, it } from 'vitest';

import { decodeImage } from './index.js';

type Rgba = [number, number, number, number];

interface BmpSpec {
  width: number;
  height: number;
  bitsPerPixel: number;
  topDown?: boolean;
  /** 0 BI_RGB, 3 BI_BITFIELDS. */
  compression?: number;
  /** 40 BITMAPINFOHEADER, 108 V4 (with an alpha mask). */
  infoSize?: number;
  pixel: (x: number, y: number) => Rgba;
}

/** Writes a BMP byte by byte, as Windows Paint or GIMP would (sharp cannot write BMP). */
function buildBmp(spec: BmpSpec): Uint8Array {
  const { width, height, bitsPerPixel, topDown = false, compression = 0, infoSize = 40 } = spec;
  const bytesPerPixel = bitsPerPixel / 8;
  const rowStride = Math.ceil((width * bitsPerPixel) / 32) * 4;
  const pixelOffset = 14 + infoSize + (compression === 3 && infoSize === 40 ? 12 : 0);
  const bytes = new Uint8Array(pixelOffset + rowStride * height);
  const view = new DataView(bytes.buffer);

  bytes.set([0x42, 0x4d]);
  view.setUint32(2, bytes.length, true);
  view.setUint32(10, pixelOffset, true);
  view.setUint32(14, infoSize, true);
  view.setInt32(18, width, true);
  view.setInt32(22, topDown ? -height : height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, bitsPerPixel, true);
  view.setUint32(30, compression, true);
  if (compression === 3) {
    // Masks laid out as ARGB in a little-endian word, i.e. bytes B, G, R, A.
    [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000].forEach((mask, i) => {
      if (i < 3 || infoSize >= 56) view.setUint32(54 + 4 * i, mask, true);
    });
  }

  for (let y = 0; y < height; y += 1) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * rowStride;
    for (let x = 0; x < width; x += 1) {
      const [r, g, b, a] = spec.pixel(x, y);
      bytes.set([b, g, r, a].slice(0, bytesPerPixel), row + x * bytesPerPixel);
    }
  }
  return bytes;
}

/** 3x2, so 24-bit rows (9 bytes) need padding to 12. */
function pattern(x: number, y: number): Rgba {
  return [x * 100, y * 200, 50 + x + y, 255];
}

const EXPECTED = [0, 1].flatMap((y) => [0, 1, 2].flatMap((x) => pattern(x, y).slice(0, 3)));

describe('decodeImage: BMP', () => {
  it.each([
    ['24-bit bottom-up', { bitsPerPixel: 24 }],
    ['24-bit top-down', { bitsPerPixel: 24, topDown: true }],
    ['32-bit BI_RGB', { bitsPerPixel: 32 }],
    ['32-bit bitfields', { bitsPerPixel: 32, compression: 3 }],
    ['32-bit V4 bitfields with alpha', { bitsPerPixel: 32, compression: 3, infoSize: 108 }],
  ])('decodes %s exactly', async (_, spec) => {
    const bmp = buildBmp({ width: 3, height: 2, pixel: pattern, ...spec });

    const image = await decodeImage(bmp);

    expect(image).toMatchObject({ width: 3, height: 2, format: 'bmp' });
    expect([...image.data]).toEqual(EXPECTED);
  });

  it('flattens a V4 alpha channel onto white', async () => {
    const alphas = [0, 255, 51];
    const bmp = buildBmp({
      width: 3,
      height: 1,
      bitsPerPixel: 32,
      compression: 3,
      infoSize: 108,
      pixel: (x) => [0, 0, 0, alphas[x] ?? 255],
    });

    const image = await decodeImage(bmp);

    expect([...image.data]).toEqual([255, 255, 255, 0, 0, 0, 204, 204, 204]);
  });

  it('ignores the fourth byte of a 32-bit BI_RGB pixel', async () => {
    const bmp = buildBmp({ width: 1, height: 1, bitsPerPixel: 32, pixel: () => [9, 8, 7, 0] });

    expect([...(await decodeImage(bmp)).data]).toEqual([9, 8, 7]);
  });

  it('refuses a palette BMP as UNSUPPORTED_IMAGE_TYPE', async () => {
    const bmp = buildBmp({ width: 4, height: 1, bitsPerPixel: 8, pixel: () => [1, 1, 1, 1] });

    const error = await decodeImage(bmp).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ImageInputError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_IMAGE_TYPE' });
    expect((error as Error).message).toMatch(/8-bit.*24\/32-bit BMP/);
  });

  it('refuses truncated pixel data and a truncated header as NOT_AN_IMAGE', async () => {
    const bmp = buildBmp({ width: 3, height: 2, bitsPerPixel: 24, pixel: pattern });

    await expect(decodeImage(bmp.subarray(0, bmp.length - 1))).rejects.toMatchObject({
      code: 'NOT_AN_IMAGE',
    });
    await expect(decodeImage(bmp.subarray(0, 30))).rejects.toMatchObject({
      code: 'NOT_AN_IMAGE',
    });
  });

  it('refuses a header declaring too many pixels before reading them', async () => {
    const header = buildBmp({ width: 1, height: 1, bitsPerPixel: 24, pixel: pattern });
    new DataView(header.buffer).setInt32(18, 50_000, true);
    new DataView(header.buffer).setInt32(22, 50_000, true);

    await expect(decodeImage(header)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });
});
