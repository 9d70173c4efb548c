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
