import { ImageInputError, type PixelImage } from '@bloodcell/core';

/** Same ceiling as the server's default, so both modes refuse the same images. */
export const BROWSER_MAX_PIXELS = 4096 * 4096;

/** Formats the server accepts; the browser refuses the rest the same way. */
const ACCEPTED = new Set(['jpeg', 'png', 'webp', 'tiff', 'bmp']);

/**
 * The container format from a file's first bytes, or undefined when it is no image format known
 * here. The server sniffs too, so a misnamed file is judged by its content in both modes.
 *
 * @example
 * sniffFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47])); // 'png'
 */
export function sniffFormat(head: Uint8Array): string | undefined {
  const ascii = String.fromCharCode(...head.subarray(0, 12));
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (ascii.startsWith('\x89PNG')) return 'png';
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return 'webp';
  if (ascii.startsWith('II*\0') || ascii.startsWith('MM\0*')) return 'tiff';
  if (ascii.startsWith('BM')) return 'bmp';
  if (ascii.startsWith('GIF8')) return 'gif';
  if (ascii.slice(4, 12).match(/^ftyp(avif|heic|heix|mif1)/)) return 'heif';
  return undefined;
}

/**
 * Decodes an image file in the browser to RGBA pixels (a PixelImage with 4 channels), upright per
 * its EXIF orientation and flattened onto white like the server does.
 *
 * @throws ImageInputError NOT_AN_IMAGE, UNSUPPORTED_IMAGE_TYPE or IMAGE_TOO_LARGE.
 * @example
 * const { pixels, format } = await decodeInBrowser(fileInput.files[0]);
 * const result = await classifier.classify(pixels);
 */
export async function decodeInBrowser(file: File): Promise<{ pixels: PixelImage; format: string }> {
  const format = sniffFormat(new Uint8Array(await file.slice(0, 12).arrayBuffer()));
  if (format === undefined) {
    throw new ImageInputError('NOT_AN_IMAGE', `"${file.name}" is not an image: expected JPEG, PNG, WebP, TIFF or BMP.`);
  }
  if (!ACCEPTED.has(format)) {
    throw new ImageInputError(
      'UNSUPPORTED_IMAGE_TYPE',
      `"${file.name}" is ${format.toUpperCase()}, which bloodcell does not accept: convert it to JPEG, PNG, WebP, TIFF or BMP.`,
    );
  }

  const bitmap = await openBitmap(file, format);
  try {
    const { width, height } = bitmap;
    if (width * height > BROWSER_MAX_PIXELS) {
      throw new ImageInputError(
        'IMAGE_TOO_LARGE',
        `"${file.name}" is ${width}x${height} = ${width * height} pixels, over the limit of ${BROWSER_MAX_PIXELS}: downscale it.`,
      );
    }
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true })!;
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, width, height);
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, width, height);
    return { pixels: { data, width, height, channels: 4 }, format };
  } finally {
    bitmap.close();
  }
}

/**
 * Decodes a file for display, or returns undefined when this browser cannot (TIFF in most).
 *
 * @example
 * const bitmap = await openBitmapOrNothing(file);
 */
export async function openBitmapOrNothing(file: Blob): Promise<ImageBitmap | undefined> {
  try {
    return await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return undefined;
  }
}

async function openBitmap(file: File, format: string): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(file, { imageOrientation: 'from-image', premultiplyAlpha: 'none' });
  } catch (error) {
    if (format === 'tiff') {
      throw new ImageInputError(
        'UNSUPPORTED_IMAGE_TYPE',
        `This browser cannot decode TIFF ("${file.name}"): turn privacy mode off, or convert the image to PNG.`,
        { cause: error },
      );
    }
    throw new ImageInputError('NOT_AN_IMAGE', `"${file.name}" could not be decoded: the file is truncated or corrupt.`, {
      cause: error,
    });
  }
}
