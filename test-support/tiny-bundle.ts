import * as tfl from '@tensorflow/tfjs-layers';

import {
  type BundleMetadata,
  CELL_TYPES,
  createHead,
  stackBackboneAndHead,
  VERSION,
} from '../packages/core/src/index.js';

/** Input side of the tiny test model: small enough that tests run in milliseconds. */
export const TINY_INPUT = 32;

/**
 * A bundle-shaped model with random weights: a one-conv "backbone" whose output layer is named
 * `out_relu` like MobileNetV2's, and the real head. For tests of plumbing, not of accuracy.
 */
export function tinyBundle(options: { fit?: 'whole-image' | 'cell-crop'; seed?: number } = {}): {
  model: tfl.LayersModel;
  metadata: BundleMetadata;
} {
  const seed = options.seed ?? 1;
  const input = tfl.input({ shape: [TINY_INPUT, TINY_INPUT, 3] });
  const conv = tfl.layers
    .conv2d({
      filters: 4,
      kernelSize: 8,
      strides: 8,
      activation: 'relu',
      name: 'out_relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      biasInitializer: 'ones',
    })
    .apply(input) as tfl.SymbolicTensor;
  const backbone = tfl.model({ inputs: input, outputs: conv });
  const head = createHead([4, 4, 4], { seed });
  const model = stackBackboneAndHead(backbone, head);
  return { model, metadata: tinyMetadata(options.fit ?? 'whole-image') };
}

/** Metadata that matches `tinyBundle`'s model. */
export function tinyMetadata(fit: 'whole-image' | 'cell-crop' = 'whole-image'): BundleMetadata {
  const report = {
    images: 4,
    accuracy: 0.5,
    balancedAccuracy: 0.5,
    macroF1: 0.5,
    recall: { EOSINOPHIL: 0.5, LYMPHOCYTE: 0.5, MONOCYTE: 0.5, NEUTROPHIL: 0.5 },
    precision: { EOSINOPHIL: 0.5, LYMPHOCYTE: 0.5, MONOCYTE: 0.5, NEUTROPHIL: 0.5 },
    confusionMatrix: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
  };
  return {
    format: 'bloodcell-bundle',
    formatVersion: 1,
    packageVersion: VERSION,
    cellTypes: [...CELL_TYPES],
    backbone: { name: 'mobilenet_v2', inputSize: TINY_INPUT, scaling: 'tf', outputLayer: 'out_relu', featureShape: [4, 4, 4] },
    preprocessing: { resize: 'bilinear', fit, scaling: 'tf' },
    calibration: { temperature: 1, reviewThreshold: 0.5 },
    training: {
      dataFingerprint: '0'.repeat(64),
      trainImages: 2,
      validationImages: 2,
      validationGroups: ['G1'],
      seed: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
    },
    validation: report,
  };
}

/** A deterministic RGB test image of the given size (a gradient with a dark-violet disc). */
export function syntheticSmear(width: number, height: number): { data: Uint8Array; width: number; height: number } {
  const data = new Uint8Array(width * height * 3);
  const cx = width * 0.6;
  const cy = height * 0.4;
  const radius = Math.min(width, height) * 0.15;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < radius ** 2;
      data[i] = inside ? 90 : 230 - (x % 20);
      data[i + 1] = inside ? 40 : 190 - (y % 15);
      data[i + 2] = inside ? 160 : 200;
    }
  }
  return { data, width, height };
}
