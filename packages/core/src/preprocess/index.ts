import * as tf from '@tensorflow/tfjs-core';

import { ImageInputError, OptionError } from '../errors.js';
import { smearChannels } from '../localise/mask.js';

/**
 * How a backbone wants its pixels scaled, in Keras's names:
 * `caffe` is VGG16's (RGB to BGR, minus the ImageNet channel means), `tf` is MobileNetV2's ([-1, 1]).
 */
export type PixelScaling = 'caffe' | 'tf';

export const PIXEL_SCALINGS: readonly PixelScaling[] = ['caffe', 'tf'];

/** ImageNet channel means that Keras's "caffe" mode subtracts, in BGR order. */
export const CAFFE_BGR_MEANS = [103.939, 116.779, 123.68] as const;

/**
 * Bumped whenever `cropAndResize` samples differently, so features cached by an older version are
 * not reused (2: crops ending on the far edge no longer read a black row on wasm).
 */
export const CROP_REVISION = 2;

/** Packed 8-bit pixels, row-major, 3 (RGB) or 4 (RGBA, alpha ignored) channels. */
export interface PixelImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels?: 3 | 4;
}

/** A region of an image in its own pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An image as the classifier accepts it: pixels, or an int32/float32 tensor [height, width, 3] in 0..255. */
export type CellImage = PixelImage | tf.Tensor3D;

/**
 * Turns pixels into a float32 tensor [height, width, 3] with values in 0..255.
 *
 * @example
 * const t = toImageTensor({ data: new Uint8Array([255, 0, 0]), width: 1, height: 1 });
 * t.shape; // [1, 1, 3]
 */
export function toImageTensor(image: CellImage): tf.Tensor3D {
  if (image instanceof tf.Tensor) {
    if (image.rank !== 3 || image.shape[2] !== 3) {
      throw new ImageInputError(
        'BAD_TENSOR_SHAPE',
        `An image tensor must be [height, width, 3]; got [${image.shape.join(', ')}].`,
      );
    }
    return tf.tidy(() => tf.cast(image, 'float32'));
  }

  const channels = smearChannels(image);
  const rgb = channels === 3 ? image.data : dropAlpha(image.data, image.width * image.height);
  return tf.tidy(() => tf.tensor3d(Float32Array.from(rgb), [image.height, image.width, 3]));
}

/**
 * The size of an image without reading its pixels.
 *
 * @example
 * imageSize({ data: new Uint8Array(12), width: 2, height: 2 }); // { width: 2, height: 2 }
 */
export function imageSize(image: CellImage): { width: number; height: number } {
  if (image instanceof tf.Tensor) return { width: image.shape[1], height: image.shape[0] };
  return { width: image.width, height: image.height };
}

function dropAlpha(rgba: Uint8Array | Uint8ClampedArray, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    rgb[i * 3] = rgba[i * 4]!;
    rgb[i * 3 + 1] = rgba[i * 4 + 1]!;
    rgb[i * 3 + 2] = rgba[i * 4 + 2]!;
  }
  return rgb;
}

/**
 * Crops `box` out of an image tensor [h, w, 3] and resizes it to size x size with bilinear
 * interpolation (no antialiasing). Without a box the whole image is stretched to the square,
 * which is how the 4:3 whole-field images are fitted when no cell is found.
 *
 * @example
 * const square = cropAndResize(image, 224, { x: 40, y: 20, width: 120, height: 120 });
 */
export function cropAndResize(image: tf.Tensor3D, size: number, box?: Box): tf.Tensor3D {
  const [height, width] = image.shape;
  const region = box ?? { x: 0, y: 0, width, height };
  if (region.width <= 0 || region.height <= 0) {
    throw new ImageInputError('BAD_BOX', `Crop box ${JSON.stringify(region)} is empty.`);
  }

  return tf.tidy(() => {
    // cropAndResize samples at corners; map pixel edges so a box of the whole image is exact.
    const y1 = height > 1 ? region.y / (height - 1) : 0;
    const x1 = width > 1 ? region.x / (width - 1) : 0;
    const y2 = insideFarEdge(height > 1 ? (region.y + region.height - 1) / (height - 1) : 0);
    const x2 = insideFarEdge(width > 1 ? (region.x + region.width - 1) / (width - 1) : 0);
    const batch = tf.expandDims(image, 0) as tf.Tensor4D;
    const boxes = tf.tensor2d([[y1, x1, y2, x2]]);
    const crops = tf.image.cropAndResize(batch, boxes, [0], [size, size], 'bilinear');
    return tf.squeeze(crops, [0]) as tf.Tensor3D;
  });
}

/**
 * A box ending on the image's far edge (normalised 1) moved 2^-20 inside it on backends that place
 * samples in float32 (wasm, webgl, tfjs-node): there its last sample can land a rounding error past
 * the edge, where crop_and_resize writes 0, a black row, instead of the edge pixel. The cpu backend
 * places them in float64 and keeps the exact box, so crops of the image's own size stay exact.
 */
function insideFarEdge(normalised: number): number {
  return normalised === 1 && tf.getBackend() !== 'cpu' ? 1 - 2 ** -20 : normalised;
}

/**
 * Scales 0..255 RGB pixels the way the backbone was trained: `tf` maps to [-1, 1];
 * `caffe` reorders to BGR and subtracts the ImageNet channel means.
 *
 * @example
 * scalePixels(tf.tensor4d([[[[255, 0, 127.5]]]]), 'tf'); // [[[[1, -1, 0]]]]
 */
export function scalePixels<T extends tf.Tensor3D | tf.Tensor4D>(pixels: T, scaling: PixelScaling): T {
  return tf.tidy(() => {
    if (scaling === 'tf') return tf.sub(tf.div(pixels, 127.5), 1) as T;
    if (scaling === 'caffe') {
      const bgr = tf.reverse(pixels, -1);
      return tf.sub(bgr, tf.tensor1d([...CAFFE_BGR_MEANS])) as T;
    }
    throw new OptionError(
      'BAD_SCALING',
      `Unknown pixel scaling "${String(scaling)}"; valid choices: ${PIXEL_SCALINGS.join(', ')}.`,
    );
  });
}
