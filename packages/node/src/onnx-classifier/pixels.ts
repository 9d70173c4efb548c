import { type CellImage, ImageInputError } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';

import type { RawPixels } from './prepare.js';

/**
 * An image's pixels for `writeBackboneInput`, checked against its stated size: a tensor's values
 * are read, packed pixels are used as they are.
 *
 * @throws ImageInputError BAD_IMAGE_SIZE, BAD_PIXEL_COUNT or BAD_TENSOR_SHAPE.
 * @example
 * writeBackboneInput(await rawPixels(image), box, 224, 'tf', input, 0);
 */
export async function rawPixels(image: CellImage): Promise<RawPixels> {
  if (!(image instanceof tf.Tensor)) return packedPixels(image);
  if (image.rank !== 3 || image.shape[2] !== 3) {
    throw new ImageInputError('BAD_TENSOR_SHAPE', `An image tensor must be [height, width, 3]; got [${image.shape.join(', ')}].`);
  }
  return { data: await image.data(), width: image.shape[1], height: image.shape[0], channels: 3 };
}

/**
 * `rawPixels` for packed pixels, without a promise: what a preparation worker receives.
 *
 * @throws ImageInputError BAD_IMAGE_SIZE or BAD_PIXEL_COUNT.
 * @example
 * const pixels = packedPixels({ data, width: 320, height: 240 });
 */
export function packedPixels(image: Exclude<CellImage, tf.Tensor>): RawPixels {
  const { width, height, data } = image;
  const channels = image.channels ?? (data.length === width * height * 4 ? 4 : 3);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageInputError('BAD_IMAGE_SIZE', `Image size ${width}x${height} is not a positive size.`);
  }
  if (data.length !== width * height * channels) {
    throw new ImageInputError(
      'BAD_PIXEL_COUNT',
      `A ${width}x${height} image with ${channels} channels needs ${width * height * channels} bytes of pixels; got ${data.length}.`,
    );
  }
  return { data, width, height, channels };
}
