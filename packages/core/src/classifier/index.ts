import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { applyTemperature } from '../calibration/index.js';
import { CELL_TYPES, type CellProbabilities, type CellType } from '../cell-types.js';
import { type BundleMetadata, parseBundleMetadata } from '../bundle/metadata.js';
import { BundleError, ImageInputError } from '../errors.js';
import { type CellRegion, FeatureExtractor } from '../features/index.js';
import { HEAD_LAYER } from '../head/index.js';
import { argmax } from '../metrics/index.js';
import { outlierScore } from '../outlier/index.js';
import type { CellImage } from '../preprocess/index.js';

/** What the classifier says about one image. */
export interface ClassifyResult extends CellRegion {
  cellType: CellType;
  /** Calibrated probability of `cellType`. */
  probability: number;
  probabilities: CellProbabilities;
  /** True when any of `reviewReasons` applies: a person should look at this cell. */
  referForReview: boolean;
  /** Why the result needs review; empty when it does not. */
  reviewReasons: ReviewReason[];
  /** Distance from the training images (see OutlierModel); null when the bundle has no outlier model. */
  outlierScore: number | null;
}

/**
 * `low-confidence`: probability under the bundle's threshold; `unlike-training`: the features are far
 * from every cell type seen in training (another stain, scale or object); `no-cell-found`: the
 * localiser found no white cell and the whole image was classified.
 */
export type ReviewReason = 'low-confidence' | 'unlike-training' | 'no-cell-found';

export interface ClassifyBatchOptions {
  /** Images per forward pass; larger uses more memory for a little more speed. */
  batchSize?: number;
}

/** A trained bundle, ready to name the white cell in smear images. */
export class Classifier {
  private constructor(
    readonly metadata: BundleMetadata,
    readonly model: tfl.LayersModel,
    readonly extractor: FeatureExtractor,
    readonly head: tfl.LayersModel,
  ) {}

  /**
   * Builds a classifier from a loaded bundle model and its metadata; checks they agree.
   *
   * @example
   * const model = await tfl.loadLayersModel('https://example.org/model/model.json');
   * const metadata = await (await fetch('https://example.org/model/bloodcell.json')).json();
   * const classifier = Classifier.fromModel(model, metadata);
   */
  static fromModel(model: tfl.LayersModel, metadataJson: unknown): Classifier {
    const metadata = parseBundleMetadata(metadataJson);
    const size = metadata.backbone.inputSize;
    const inputShape = model.inputs[0]?.shape;
    if (JSON.stringify(inputShape) !== JSON.stringify([null, size, size, 3])) {
      throw new BundleError(
        'INPUT_SIZE_MISMATCH',
        `The metadata says the model takes ${size}x${size}x3 images, but the model's input is ` +
          `[${String(inputShape)}]. The bundle's files do not belong together; re-export the bundle.`,
      );
    }
    const outputShape = model.outputs[0]?.shape;
    if (JSON.stringify(outputShape) !== JSON.stringify([null, CELL_TYPES.length])) {
      throw new BundleError(
        'OUTPUT_MISMATCH',
        `The model outputs [${String(outputShape)}], not one probability per cell type (${CELL_TYPES.length}).`,
      );
    }

    const head = findHead(model);
    const features = featureOutput(model, metadata);
    const backbone = tfl.model({ inputs: model.inputs, outputs: features });
    const extractor = new FeatureExtractor(backbone, metadata.backbone, metadata.preprocessing);
    return new Classifier(metadata, model, extractor, head);
  }

  /**
   * Names the white cell in one image.
   *
   * @example
   * const { cellType, probability } = await classifier.classify(pixels);
   */
  async classify(image: CellImage): Promise<ClassifyResult> {
    const [result] = await this.classifyBatch([image]);
    return result!;
  }

  /**
   * Names the white cell in each image, running the model in batches.
   *
   * @example
   * const results = await classifier.classifyBatch(images, { batchSize: 8 });
   */
  async classifyBatch(images: readonly CellImage[], options: ClassifyBatchOptions = {}): Promise<ClassifyResult[]> {
    const batchSize = batchSizeOf(options);

    const results: ClassifyResult[] = [];
    for (let start = 0; start < images.length; start += batchSize) {
      const batch = images.slice(start, start + batchSize);
      const { features, regions } = await this.extractor.extract(batch);
      const [probabilities, pooled] = tf.tidy(() => [
        this.head.predict(features) as tf.Tensor2D,
        tf.mean(features, [1, 2]) as tf.Tensor2D,
      ]);
      features.dispose();
      const rows = (await probabilities.array()) as number[][];
      const pooledRows = (await pooled.array()) as number[][];
      tf.dispose([probabilities, pooled]);
      rows.forEach((row, i) => results.push(this.describe(row, pooledRows[i]!, regions[i]!)));
    }
    return results;
  }

  /** Frees the model's weights. */
  dispose(): void {
    this.model.dispose();
  }

  /**
   * Turns the head's raw probabilities and the pooled features of one image into its result:
   * calibration, outlier score, review reasons. Public so other inference engines (ONNX Runtime
   * in @bloodcell/node) answer exactly as this class does.
   *
   * @example
   * const result = classifier.describe([0.7, 0.1, 0.1, 0.1], pooledFeatures, region);
   */
  describe(raw: readonly number[], pooled: ArrayLike<number>, region: CellRegion): ClassifyResult {
    if (!raw.every(Number.isFinite)) {
      // NaN weights answer NaN, and argmax would turn that into a confident-looking first class.
      throw new BundleError(
        'MODEL_OUTPUT_NOT_FINITE',
        `The model answered [${raw.join(', ')}] instead of probabilities: its weights are damaged ` +
          '(NaN or infinite values). Copy or train the bundle again.',
      );
    }
    const calibrated = applyTemperature(raw, this.metadata.calibration.temperature);
    const best = argmax(calibrated);
    const probability = calibrated[best]!;
    const { outlier } = this.metadata;
    const score = outlier ? outlierScore(outlier, pooled) : null;

    const reviewReasons: ReviewReason[] = [];
    if (probability < this.metadata.calibration.reviewThreshold) reviewReasons.push('low-confidence');
    if (outlier && score! > outlier.threshold) reviewReasons.push('unlike-training');
    if (this.metadata.preprocessing.fit === 'cell-crop' && !region.cellFound) reviewReasons.push('no-cell-found');

    return {
      cellType: CELL_TYPES[best]!,
      probability,
      probabilities: Object.fromEntries(CELL_TYPES.map((c, i) => [c, calibrated[i]!])) as CellProbabilities,
      referForReview: reviewReasons.length > 0,
      reviewReasons,
      outlierScore: score,
      ...region,
    };
  }
}

/** The backbone's feature output, checked against what the metadata says it is. */
function featureOutput(model: tfl.LayersModel, metadata: BundleMetadata): tfl.SymbolicTensor {
  const { outputLayer, featureShape } = metadata.backbone;
  const layer = model.layers.find((candidate) => candidate.name === outputLayer);
  if (!layer) {
    throw new BundleError(
      'OUTPUT_LAYER_MISSING',
      `The metadata names backbone.outputLayer "${outputLayer}", which the model does not have. ` +
        "The bundle's files do not belong together; re-export the bundle.",
    );
  }
  const features = layer.output as tfl.SymbolicTensor;
  if (JSON.stringify(features.shape.slice(1)) !== JSON.stringify(featureShape)) {
    throw new BundleError(
      'FEATURE_SHAPE_MISMATCH',
      `The metadata says the backbone gives [${featureShape.join(', ')}] features, but layer ` +
        `"${outputLayer}" gives [${features.shape.slice(1).join(', ')}]. The bundle's files do not ` +
        'belong together; re-export the bundle.',
    );
  }
  return features;
}

function findHead(model: tfl.LayersModel): tfl.LayersModel {
  const head = model.layers.find((layer) => layer.name === HEAD_LAYER);
  if (!(head instanceof tfl.LayersModel)) {
    throw new BundleError(
      'HEAD_NOT_FOUND',
      `The bundle's model has no "${HEAD_LAYER}" head; it was not written by bloodcell's trainer.`,
    );
  }
  return head;
}

/**
 * The batch size asked for (8 by default), checked: every classifier engine shares this rule.
 *
 * @example
 * batchSizeOf({ batchSize: 4 }); // 4
 */
export function batchSizeOf(options: ClassifyBatchOptions): number {
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ImageInputError('BAD_BATCH_SIZE', `batchSize must be a positive integer; got ${batchSize}.`);
  }
  return batchSize;
}
