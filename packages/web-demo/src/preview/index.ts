import { decodeImage } from '@bloodcell/node';
import sharp from 'sharp';

export interface PreviewOptions {
  /** Longest side of the preview, in pixels. */
  maxSide?: number;
  /** Largest source image accepted, in pixels. */
  maxPixels?: number;
}

/**
 * A small PNG of any accepted image, for formats browsers cannot show (TIFF, some BMPs). Decoded
 * the same way as for classification, so it is upright and alpha-free like what the model saw.
 *
 * @throws ImageInputError NOT_AN_IMAGE, UNSUPPORTED_IMAGE_TYPE or IMAGE_TOO_LARGE.
 * @example
 * const png = await previewPng(await readFile('field.tiff'), { maxSide: 320 });
 */
export async function previewPng(bytes: Uint8Array, options: PreviewOptions = {}): Promise<Uint8Array> {
  const maxSide = options.maxSide ?? 480;
  const image = await decodeImage(bytes, options.maxPixels ? { maxPixels: options.maxPixels } : {});
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
    .png()
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
