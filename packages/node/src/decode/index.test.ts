import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ImageInputError, OptionError } from '@bloodcell/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { pngDeclaring } from '../../../../test-support/hostile-inputs.js';
import { HAS_SHARED, SHARED_MISSING, TRAIN_DIR } from '../../../../test-support/shared.js';
import { DEFAULT_MAX_PIXELS, SUPPORTED_IMAGE_FORMATS, decodeImage } from './index.js';

/** Red, green / blue, white: a 2x2 image whose every pixel is known. */
const QUAD = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>';

function quad(): sharp.Sharp {
  return sharp(QUAD, { raw: { width: 2, height: 2, channels: 3 } });
}

function solid(width: number, height: number, colour: sharp.RGBA): sharp.Sharp {
  return sharp({ create: { width, height, channels: 3, background: colour } });
}

function pixelAt(image: { data: Uint8Array; width: number }, x: number, y: number): number[] {
  const at = (y * image.width + x) * 3;
  return [...image.data.subarray(at, at + 3)];
}

describe('decodeImage: formats', () => {
  it('decodes a 2x2 PNG to exact packed RGB', async () => {
    const image = await decodeImage(await quad().png().toBuffer());

    expect(image).toMatchObject({ width: 2, height: 2, format: 'png' });
    expect(image.data).toBeInstanceOf(Uint8Array);
    expect([...image.data]).toEqual([...QUAD]);
  });

  it.each([
    ['webp', () => quad().webp({ lossless: true }).toBuffer()],
    ['tiff', () => quad().tiff({ compression: 'lzw' }).toBuffer()],
  ])('round-trips lossless %s exactly', async (format, encode) => {
    const image = await decodeImage(await encode());

    expect(image.format).toBe(format);
    expect([...image.data]).toEqual([...QUAD]);
  });

  it('round-trips a JPEG within compression error', async () => {
    const image = await decodeImage(await solid(16, 8, { r: 200, g: 40, b: 90 }).jpeg().toBuffer());

    expect(image).toMatchObject({ width: 16, height: 8, format: 'jpeg' });
    const [r = 0, g = 0, b = 0] = pixelAt(image, 5, 5);
    expect(Math.abs(r - 200) + Math.abs(g - 40) + Math.abs(b - 90)).toBeLessThan(12);
  });

  it('applies EXIF orientation 6, swapping width and height', async () => {
    const leftRedRightBlue = Uint8Array.from(
      { length: 16 * 8 * 3 },
      (_, i) => [255, 0, 0, 0, 0, 255][(Math.floor(i / 3) % 16 < 8 ? 0 : 3) + (i % 3)] ?? 0,
    );
    const jpeg = await sharp(leftRedRightBlue, { raw: { width: 16, height: 8, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();

    const image = await decodeImage(jpeg);

    expect(image).toMatchObject({ width: 8, height: 16 });
    // Turning 90 degrees clockwise brings the left (red) half to the top.
    expect(pixelAt(image, 4, 2)[0]).toBeGreaterThan(200);
    expect(pixelAt(image, 4, 13)[2]).toBeGreaterThan(200);
  });

  it('flattens RGBA onto white and returns 3 channels', async () => {
    const rgba = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255, 128]);
    const png = await sharp(rgba, { raw: { width: 3, height: 1, channels: 4 } }).png().toBuffer();

    const image = await decodeImage(png);

    expect(image.data.length).toBe(3 * 3);
    expect(pixelAt(image, 0, 0)).toEqual([255, 255, 255]);
    expect(pixelAt(image, 1, 0)).toEqual([255, 0, 0]);
    const [r = 0, g = 0, b = 0] = pixelAt(image, 2, 0);
    expect([Math.abs(r - 127) <= 1, Math.abs(g - 127) <= 1, b]).toEqual([true, true, 255]);
  });

  it('expands grayscale to 3 equal channels', async () => {
    const gray = Uint8Array.from([0, 60, 120, 250]);
    const png = await sharp(gray, { raw: { width: 2, height: 2, channels: 1 } }).png().toBuffer();

    const image = await decodeImage(png);

    expect([...image.data]).toEqual([0, 0, 0, 60, 60, 60, 120, 120, 120, 250, 250, 250]);
  });

  it('reduces a 16-bit PNG to 8 bits', async () => {
    const png = await solid(2, 2, { r: 10, g: 20, b: 30 }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png).metadata()).depth).toBe('ushort');

    const image = await decodeImage(png);

    expect([...image.data]).toEqual([10, 20, 30, 10, 20, 30, 10, 20, 30, 10, 20, 30]);
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const cmyk = await solid(8, 8, { r: 200, g: 50, b: 30 })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');

    const image = await decodeImage(cmyk);

    expect(image.data.length).toBe(8 * 8 * 3);
    const [r = 0, g = 0, b = 0] = pixelAt(image, 3, 3);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(100);
    expect(b).toBeLessThan(100);
  });

  it.each([
    ['GIF', () => quad().gif().toBuffer()],
    ['SVG', async () => Buffer.from(SVG)],
  ])('refuses %s as UNSUPPORTED_IMAGE_TYPE, naming the accepted formats', async (_, encode) => {
    const error = await decodeImage(await encode()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ImageInputError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_IMAGE_TYPE' });
    expect((error as Error).message).toMatch(/JPEG, PNG, WebP, TIFF/);
  });

  it('lists the accepted formats', () => {
    expect(SUPPORTED_IMAGE_FORMATS).toEqual(['jpeg', 'png', 'webp', 'tiff', 'bmp']);
  });
});

describe('decodeImage: bad input', () => {
  it.each([
    ['an empty buffer', () => new Uint8Array(0)],
    ['text', () => new TextEncoder().encode('EOSINOPHIL,LYMPHOCYTE\n')],
  ])('refuses %s as NOT_AN_IMAGE', async (_, bytes) => {
    await expect(decodeImage(bytes())).rejects.toMatchObject({
      name: 'ImageInputError',
      code: 'NOT_AN_IMAGE',
    });
  });

  it('refuses a truncated JPEG, keeping sharp’s error as the cause', async () => {
    // Busy pixels, so half the file is cut mid-scan rather than in trailing padding.
    const busy = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 256);
    const jpeg = await sharp(busy, { raw: { width: 64, height: 64, channels: 3 } })
      .jpeg()
      .toBuffer();

    const error = await decodeImage(jpeg.subarray(0, jpeg.length / 2)).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'NOT_AN_IMAGE' });
    expect((error as Error).message).toMatch(/truncated or corrupt/);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('refuses a PNG declaring 50,000 x 50,000 pixels from its header alone', async () => {
    const started = performance.now();

    const error = await decodeImage(pngDeclaring(50_000, 50_000)).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    expect((error as Error).message).toContain('50000x50000');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('honours a smaller maxPixels and rejects a non-positive one', async () => {
    const png = await solid(40, 30, { r: 1, g: 2, b: 3 }).png().toBuffer();

    await expect(decodeImage(png, { maxPixels: 1199 })).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
    });
    await expect(decodeImage(png, { maxPixels: 1200 })).resolves.toMatchObject({ width: 40 });
    await expect(decodeImage(png, { maxPixels: 0 })).rejects.toBeInstanceOf(OptionError);
    expect(DEFAULT_MAX_PIXELS).toBe(40_000_000);
  });
});

describe('decodeImage: files', () => {
  let folder = '';

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'bloodcell-decode-'));
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('reads a path', async () => {
    const path = join(folder, 'quad.png');
    await writeFile(path, await quad().png().toBuffer());

    const image = await decodeImage(path);

    expect([...image.data]).toEqual([...QUAD]);
  });

  it('reports a missing file as FILE_NOT_FOUND', async () => {
    const missing = join(folder, 'no-such-smear.jpeg');

    const error = await decodeImage(missing).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ImageInputError);
    expect(error).toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect((error as Error).message).toContain(missing);
  });

  it('reports a folder as NOT_AN_IMAGE', async () => {
    await expect(decodeImage(folder)).rejects.toMatchObject({ code: 'NOT_AN_IMAGE' });
  });
});

const REAL_SMEAR = HAS_SHARED ? 'decodeImage: real smear' : `decodeImage: ${SHARED_MISSING}`;

describe.skipIf(!HAS_SHARED)(REAL_SMEAR, () => {
  it('decodes a TRAIN image to 320x240 RGB', async () => {
    const folder = join(TRAIN_DIR, 'EOSINOPHIL');
    const first = readdirSync(folder).find((name) => name.endsWith('.jpeg'));
    expect(first).toBeDefined();

    const image = await decodeImage(join(folder, first ?? ''));

    expect(image).toMatchObject({ width: 320, height: 240, format: 'jpeg' });
    expect(image.data.length).toBe(320 * 240 * 3);
  });
});
