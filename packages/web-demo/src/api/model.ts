import type { BundleMetadata, CellType, ClassificationReport } from '@bloodcell/core';
import { VERSION } from '@bloodcell/core';

/** The limits a client needs to size its requests. */
export interface RequestLimits {
  maxBodyBytes: number;
  maxFiles: number;
  maxPixels: number;
}

/** What GET /api/v1/model answers: what the model names, how well it did, and how it decides. */
export interface ModelSummary {
  name: 'bloodcell';
  /** @bloodcell version that trained the bundle. */
  version: string;
  /** @bloodcell version serving it. */
  serverVersion: string;
  cellTypes: CellType[];
  backbone: { name: string; inputSize: number };
  preprocessing: { fit: string };
  /** How results are calibrated and flagged; outlierThreshold is null without an outlier model. */
  calibration: { temperature: number; reviewThreshold: number; outlierThreshold: number | null };
  training: {
    trainImages: number;
    validationImages: number;
    validationGroups: number;
    createdAt: string;
    dataFingerprint: string;
  };
  /** Figures on held-out field groups; a class absent from validation has null recall. */
  validation: ClassificationReport;
  /** Where the page loads the bundle for privacy mode, or null when it is not served. */
  browserModel: string | null;
  limits: RequestLimits;
}

/**
 * The public description of a bundle: no paths or internals, only what a user weighs a result by.
 *
 * @example
 * c.json(modelSummary(classifier.metadata, { browserModel: '/model/', limits }));
 */
export function modelSummary(
  metadata: BundleMetadata,
  options: { browserModel: string | null; limits: RequestLimits },
): ModelSummary {
  const { training } = metadata;
  return {
    name: 'bloodcell',
    version: metadata.packageVersion,
    serverVersion: VERSION,
    cellTypes: [...metadata.cellTypes],
    backbone: { name: metadata.backbone.name, inputSize: metadata.backbone.inputSize },
    preprocessing: { fit: metadata.preprocessing.fit },
    calibration: {
      temperature: metadata.calibration.temperature,
      reviewThreshold: metadata.calibration.reviewThreshold,
      outlierThreshold: metadata.outlier?.threshold ?? null,
    },
    training: {
      trainImages: training.trainImages,
      validationImages: training.validationImages,
      validationGroups: training.validationGroups.length,
      createdAt: training.createdAt,
      dataFingerprint: training.dataFingerprint,
    },
    validation: metadata.validation,
    browserModel: options.browserModel,
    limits: options.limits,
  };
}
