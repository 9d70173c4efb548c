import * as tf from '@tensorflow/tfjs-core';

import { OptionError } from '../errors.js';
import type { Box } from '../preprocess/index.js';

/**
 * A fixed, named variation of a cell crop used to train on more than the one view each image gives:
 * turns and flips (a cell has no up), a stain shift (other labs stain darker, paler, bluer), and a
 * zoom (the localiser's box is not always tight). Fixed rather than random so each view's features
 * can be cached and reused.
 */
export interface CropView {
  name: string;
  /** Quarter turns clockwise, 0 to 3. */
  quarterTurns?: number;
  /** Mirror left to right (after turning). */
  mirror?: boolean;
  /** Box side multiplier around its centre (kept inside the image). */
  zoom?: number;
  /** Multipliers of the haematoxylin, eosin and residual stain densities. */
  stain?: [number, number, number];
}

/** The views training can add; each is one more feature cache of the whole data set. */
export const CROP_VIEWS: readonly CropView[] = [
  { name: 'mirror', mirror: true },
  { name: 'turn-90', quarterTurns: 1 },
  { name: 'stain-dark-blue', stain: [1.25, 0.85, 1], quarterTurns: 2 },
  { name: 'stain-pale-pink', stain: [0.8, 1.2, 1], quarterTurns: 3, mirror: true },
  { name: 'zoom-out', zoom: 1.35, mirror: true, quarterTurns: 1 },
];

/**
 * Finds a view by name, naming the valid ones otherwise.
 *
 * @example
 * cropView('mirror'); // { name: 'mirror', mirror: true }
 */
export function cropView(name: string): CropView {
  const view = CROP_VIEWS.find((candidate) => candidate.name === name);
  if (!view) {
    throw new OptionError('BAD_VIEW', `Unknown view "${name}"; valid views: ${CROP_VIEWS.map((v) => v.name).join(', ')}.`);
  }
  return view;
}

/**
 * Scales a box about its centre and moves it back inside the image (shrinking it to the shorter side
 * if it no longer fits), so a zoomed crop never samples outside the picture.
 *
 * @example
 * zoomBox({ x: 100, y: 80, width: 100, height: 100 }, 1.5, 320, 240); // { x: 75, y: 55, width: 150, height: 150 }
 */
export function zoomBox(box: Box, zoom: number, width: number, height: number): Box {
  const side = Math.min(Math.round(Math.max(box.width, box.height) * zoom), width, height);
  const centreX = box.x + box.width / 2;
  const centreY = box.y + box.height / 2;
  const x = Math.min(Math.max(0, Math.round(centreX - side / 2)), width - side);
  const y = Math.min(Math.max(0, Math.round(centreY - side / 2)), height - side);
  return { x, y, width: side, height: side };
}

// Ruifrok & Johnston's stain vectors (rows: haematoxylin, eosin, residual), as optical densities.
const STAIN_MATRIX = [
  [0.65, 0.7, 0.29],
  [0.07, 0.99, 0.11],
  [0.27, 0.57, 0.78],
];

/**
 * Applies a view's turn, mirror and stain shift to a square crop [size, size, 3] in 0..255.
 * The stain shift scales each stain's optical density (colour deconvolution), which changes the
 * colours the way a heavier or lighter stain would, not the way a global hue rotation would.
 *
 * @example
 * const turned = applyCropView(crop, cropView('turn-90'));
 */
export function applyCropView(crop: tf.Tensor3D, view: CropView): tf.Tensor3D {
  return tf.tidy(() => {
    let pixels = crop;
    if (view.stain) pixels = shiftStain(pixels, view.stain);
    const turns = ((view.quarterTurns ?? 0) % 4 + 4) % 4;
    for (let t = 0; t < turns; t++) pixels = tf.reverse(tf.transpose(pixels, [1, 0, 2]), 1) as tf.Tensor3D;
    if (view.mirror) pixels = tf.reverse(pixels, 1) as tf.Tensor3D;
    return pixels;
  });
}

/**
 * The same view as `applyCropView`, in plain JavaScript on a square crop laid out HWC in 0..255
 * (float64 arithmetic, so values differ from the tensor version by float32 rounding only): for
 * engines that prepare their inputs without TF.js. Returns a new array.
 *
 * @example
 * const turned = applyCropViewToPixels(crop, 224, cropView('turn-90'));
 */
export function applyCropViewToPixels(pixels: Float32Array, size: number, view: CropView): Float32Array {
  if (pixels.length !== size * size * 3) {
    throw new RangeError(`A ${size}x${size} crop has ${size * size * 3} values; got ${pixels.length}.`);
  }
  const source = view.stain ? shiftStainOfPixels(pixels, view.stain) : pixels;
  const turns = ((view.quarterTurns ?? 0) % 4 + 4) % 4;
  const out = new Float32Array(pixels.length);
  const last = size - 1;

  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      // Walk the steps backwards from the output pixel to the pixel it came from.
      let i = row;
      let j = view.mirror ? last - column : column;
      for (let t = 0; t < turns; t++) [i, j] = [last - j, i];
      const from = (i * size + j) * 3;
      const to = (row * size + column) * 3;
      out[to] = source[from]!;
      out[to + 1] = source[from + 1]!;
      out[to + 2] = source[from + 2]!;
    }
  }
  return out;
}

function shiftStainOfPixels(pixels: Float32Array, factors: [number, number, number]): Float32Array {
  const unmix = invert3x3(STAIN_MATRIX);
  const out = new Float32Array(pixels.length);
  const density = [0, 0, 0];
  const amount = [0, 0, 0];
  for (let p = 0; p < pixels.length; p += 3) {
    for (let c = 0; c < 3; c++) density[c] = -Math.log((pixels[p + c]! + 1) / 256);
    for (let s = 0; s < 3; s++) {
      amount[s] = (density[0]! * unmix[0]![s]! + density[1]! * unmix[1]![s]! + density[2]! * unmix[2]![s]!) * factors[s]!;
    }
    for (let c = 0; c < 3; c++) {
      const shifted = Math.exp(-(amount[0]! * STAIN_MATRIX[0]![c]! + amount[1]! * STAIN_MATRIX[1]![c]! + amount[2]! * STAIN_MATRIX[2]![c]!)) * 256 - 1;
      out[p + c] = Math.min(255, Math.max(0, shifted));
    }
  }
  return out;
}

function shiftStain(pixels: tf.Tensor3D, factors: [number, number, number]): tf.Tensor3D {
  const [height, width] = pixels.shape;
  const stains = tf.tensor2d(STAIN_MATRIX);
  const unmix = tf.tensor2d(invert3x3(STAIN_MATRIX));
  const opticalDensity = tf.neg(tf.log(tf.div(tf.add(tf.reshape(pixels, [-1, 3]), 1), 256)));
  const amounts = tf.mul(tf.matMul(opticalDensity, unmix), tf.tensor1d(factors));
  const shifted = tf.sub(tf.mul(tf.exp(tf.neg(tf.matMul(amounts, stains))), 256), 1);
  return tf.reshape(tf.clipByValue(shifted, 0, 255), [height, width, 3]);
}

function invert3x3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m as [[number, number, number], [number, number, number], [number, number, number]];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}
