import { BACKBONE_NAMES, type BackboneSpec } from '../backbones/index.js';
import type { Calibration } from '../calibration/index.js';
import { CELL_TYPES, type CellType } from '../cell-types.js';
import { BundleError } from '../errors.js';
import type { ClassificationReport } from '../metrics/index.js';
import type { OutlierModel } from '../outlier/index.js';
import { PIXEL_SCALINGS, type PixelScaling } from '../preprocess/index.js';
import { VERSION } from '../version.js';

/** File name of the metadata beside a bundle's model.json. */
export const METADATA_FILE = 'bloodcell.json';

export const BUNDLE_FORMAT = 'bloodcell-bundle';

/** Bumped when a bundle written by this version can no longer be read by an older one. */
export const BUNDLE_FORMAT_VERSION = 1;

/** How an image becomes the backbone's input. */
export interface PreprocessingSpec {
  /** Resampling used to reach the input size. */
  resize: 'bilinear';
  /** `cell-crop`: a square around the located white cell; `whole-image`: the field stretched square. */
  fit: 'cell-crop' | 'whole-image';
  scaling: PixelScaling;
  /** Localiser settings the model was trained with (only for `cell-crop`). */
  localise?: Record<string, number>;
}

/** Where the bundle came from and how it was trained. */
export interface TrainingRecord {
  /** sha256 over the sorted (sha256 of each image, cell type) pairs the model saw. */
  dataFingerprint: string;
  trainImages: number;
  validationImages: number;
  /** Field groups held out for validation; no image of these was trained on. */
  validationGroups: string[];
  seed: number;
  createdAt: string;
  [detail: string]: unknown;
}

/** The metadata file of a model bundle (`bloodcell.json`). */
export interface BundleMetadata {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  packageVersion: string;
  cellTypes: CellType[];
  backbone: BackboneSpec;
  preprocessing: PreprocessingSpec;
  calibration: Calibration;
  training: TrainingRecord;
  validation: ClassificationReport;
  /** Flags images unlike the training images; absent in bundles that predate it. */
  outlier?: OutlierModel;
}

/**
 * Checks parsed `bloodcell.json` content and returns it typed; throws BundleError naming the
 * first field that is wrong and what was expected.
 *
 * @example
 * const metadata = parseBundleMetadata(JSON.parse(text));
 */
export function parseBundleMetadata(json: unknown): BundleMetadata {
  const meta = json as Partial<BundleMetadata> | null;
  if (!meta || typeof meta !== 'object' || meta.format !== BUNDLE_FORMAT) {
    throw new BundleError('NOT_A_BUNDLE', `${METADATA_FILE} is not bloodcell bundle metadata (format "${BUNDLE_FORMAT}").`);
  }
  if (!Number.isInteger(meta.formatVersion) || meta.formatVersion! < 1) {
    throw new BundleError(
      'BAD_METADATA',
      `formatVersion must be a whole number from 1 to ${BUNDLE_FORMAT_VERSION}; got ${JSON.stringify(meta.formatVersion)}.`,
    );
  }
  if (meta.formatVersion! > BUNDLE_FORMAT_VERSION) {
    throw new BundleError(
      'BUNDLE_TOO_NEW',
      `This bundle has format version ${String(meta.formatVersion)}, written by @bloodcell ` +
        `${String(meta.packageVersion)}; @bloodcell/core ${VERSION} reads up to version ` +
        `${BUNDLE_FORMAT_VERSION}. Upgrade @bloodcell/core or retrain the model.`,
    );
  }
  if (JSON.stringify(meta.cellTypes) !== JSON.stringify(CELL_TYPES)) {
    throw new BundleError(
      'CELL_TYPES_MISMATCH',
      `The bundle predicts [${String(meta.cellTypes)}] but this version names [${CELL_TYPES.join(', ')}] ` +
        'in that order.',
    );
  }
  checkBackbone(meta.backbone);
  checkPreprocessing(meta.preprocessing, meta.backbone!);
  checkCalibration(meta.calibration);
  checkOutlier(meta.outlier, meta.backbone!.featureShape[2]);
  return meta as BundleMetadata;
}

function checkBackbone(backbone: BackboneSpec | undefined): void {
  if (!backbone || !BACKBONE_NAMES.includes(backbone.name)) {
    throw new BundleError(
      'BAD_METADATA',
      `backbone.name must be one of ${BACKBONE_NAMES.join(', ')}; got ${JSON.stringify(backbone?.name)}.`,
    );
  }
  if (!Number.isInteger(backbone.inputSize) || backbone.inputSize < 32) {
    throw new BundleError('BAD_METADATA', `backbone.inputSize must be an integer >= 32; got ${backbone.inputSize}.`);
  }
  const shape = backbone.featureShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n > 0)) {
    throw new BundleError('BAD_METADATA', `backbone.featureShape must be [h, w, c]; got ${JSON.stringify(shape)}.`);
  }
}

function checkPreprocessing(preprocessing: PreprocessingSpec | undefined, backbone: BackboneSpec): void {
  if (!preprocessing || !PIXEL_SCALINGS.includes(preprocessing.scaling)) {
    throw new BundleError(
      'BAD_METADATA',
      `preprocessing.scaling must be one of ${PIXEL_SCALINGS.join(', ')}; got ${JSON.stringify(preprocessing?.scaling)}.`,
    );
  }
  if (preprocessing.scaling !== backbone.scaling) {
    throw new BundleError(
      'BAD_METADATA',
      `preprocessing.scaling "${preprocessing.scaling}" does not match backbone ${backbone.name}'s "${backbone.scaling}".`,
    );
  }
  if (preprocessing.fit !== 'cell-crop' && preprocessing.fit !== 'whole-image') {
    throw new BundleError('BAD_METADATA', `preprocessing.fit must be cell-crop or whole-image; got ${JSON.stringify(preprocessing.fit)}.`);
  }
}

function checkCalibration(calibration: Calibration | undefined): void {
  const temperature = calibration?.temperature;
  const threshold = calibration?.reviewThreshold;
  if (!(typeof temperature === 'number' && temperature > 0 && Number.isFinite(temperature))) {
    throw new BundleError('BAD_METADATA', `calibration.temperature must be a positive number; got ${String(temperature)}.`);
  }
  if (!(typeof threshold === 'number' && threshold >= 0 && threshold <= 1)) {
    throw new BundleError('BAD_METADATA', `calibration.reviewThreshold must be in [0, 1]; got ${String(threshold)}.`);
  }
}

function checkOutlier(outlier: OutlierModel | undefined, channels: number): void {
  if (outlier === undefined) return;
  const shapeOk =
    Array.isArray(outlier.means) &&
    outlier.means.length === CELL_TYPES.length &&
    outlier.means.every((mean) => Array.isArray(mean) && mean.length === channels) &&
    Array.isArray(outlier.spread) &&
    outlier.spread.length === channels &&
    typeof outlier.threshold === 'number';
  if (!shapeOk) {
    throw new BundleError(
      'BAD_METADATA',
      `outlier must hold ${CELL_TYPES.length} means and a spread of ${channels} channels each, and a threshold.`,
    );
  }
}
