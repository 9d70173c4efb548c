import { type BundleMetadata, CELL_TYPES, type CellImage, type ClassifyResult, VERSION } from '@bloodcell/core';

import type { CellClassifier } from '../src/lifecycle/index.js';

/** Bundle metadata shaped like a trained one, for tests that never load a model. */
export const FAKE_METADATA: BundleMetadata = {
  format: 'bloodcell-bundle',
  formatVersion: 1,
  packageVersion: VERSION,
  cellTypes: [...CELL_TYPES],
  backbone: {
    name: 'mobilenet_v2',
    inputSize: 224,
    scaling: 'tf',
    outputLayer: 'out_relu',
    featureShape: [7, 7, 1280],
  },
  preprocessing: { resize: 'bilinear', fit: 'cell-crop', scaling: 'tf' },
  calibration: { temperature: 1.5, reviewThreshold: 0.6 },
  training: {
    dataFingerprint: '0'.repeat(64),
    trainImages: 400,
    validationImages: 100,
    validationGroups: ['1', '2'],
    seed: 7,
    createdAt: '2025-01-01T00:00:00.000Z',
  },
  validation: {
    images: 100,
    accuracy: 0.8,
    balancedAccuracy: 0.79,
    macroF1: 0.78,
    recall: { EOSINOPHIL: 0.7, LYMPHOCYTE: 0.9, MONOCYTE: 0.75, NEUTROPHIL: 0.8 },
    precision: { EOSINOPHIL: 0.75, LYMPHOCYTE: 0.85, MONOCYTE: 0.8, NEUTROPHIL: 0.77 },
    confusionMatrix: [
      [18, 2, 3, 2],
      [1, 22, 1, 1],
      [2, 2, 19, 2],
      [2, 1, 2, 20],
    ],
    expectedCalibrationError: 0.04,
  },
};

export interface FakeClassifier extends CellClassifier {
  /** How many times classifyBatch ran. */
  calls: number;
}

/**
 * A classifier that answers instantly with fixed probabilities (in CELL_TYPES order), optionally
 * holding every call until `gate` resolves.
 */
export function fakeClassifier(
  options: { probabilities?: number[]; gate?: Promise<void> } = {},
): FakeClassifier {
  const probabilities = options.probabilities ?? [0.1, 0.2, 0.1, 0.6];
  const fake: FakeClassifier = {
    calls: 0,
    metadata: FAKE_METADATA,
    async classifyBatch(images: readonly CellImage[]): Promise<ClassifyResult[]> {
      fake.calls += 1;
      if (options.gate) await options.gate;
      const best = probabilities.indexOf(Math.max(...probabilities));
      return images.map(() => ({
        cellType: CELL_TYPES[best]!,
        probability: probabilities[best]!,
        probabilities: Object.fromEntries(CELL_TYPES.map((c, i) => [c, probabilities[i]!])) as ClassifyResult['probabilities'],
        referForReview: probabilities[best]! < FAKE_METADATA.calibration.reviewThreshold,
        reviewReasons: probabilities[best]! < FAKE_METADATA.calibration.reviewThreshold ? ['low-confidence'] : [],
        outlierScore: null,
        box: { x: 1, y: 2, width: 30, height: 30 },
        cellFound: true,
      }));
    },
  };
  return fake;
}
