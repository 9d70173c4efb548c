import { availableParallelism } from 'node:os';

import {
  type CellImage,
  type Classifier,
  type ClassifyBatchOptions,
  type ClassifyResult,
  type BundleMetadata,
  ImageInputError,
} from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as Ort from 'onnxruntime-node';

import { loadClassifier } from '../bundle-store/index.js';
import { layersModelToOnnx } from '../onnx/index.js';
import { type OnnxRuntime, loadOnnxRuntime } from '../onnx-runtime/index.js';
import { type RawPixels, writeBackboneInput } from './prepare.js';

export { type RawPixels, writeBackboneInput } from './prepare.js';

export interface OnnxClassifierOptions {
  /** Threads ONNX Runtime uses for one forward pass. Default: every core. */
  threads?: number;
}

/** Output names of a bundle's ONNX graph. */
const PROBABILITIES = 'probabilities';
const POOLED = 'pooled';

/**
 * A bundle run by ONNX Runtime: the same answers as the TF.js `Classifier` (same localiser,
 * same crop, same calibration and review rules), several times faster on a CPU.
 */
export class OnnxClassifier {
  private constructor(
    readonly metadata: BundleMetadata,
    private readonly reference: Classifier,
    private readonly ort: OnnxRuntime,
    private readonly session: Ort.InferenceSession,
  ) {}

  /**
   * Converts a loaded TF.js classifier to ONNX and opens it in ONNX Runtime. The TF.js weights
   * are freed: the ONNX session holds its own copy.
   *
   * @throws OptionError ONNX_RUNTIME_UNAVAILABLE when onnxruntime-node is not installed.
   * @example
   * const fast = await OnnxClassifier.fromClassifier(await loadClassifier('artifacts/model'));
   */
  static async fromClassifier(classifier: Classifier, options: OnnxClassifierOptions = {}): Promise<OnnxClassifier> {
    const ort = await loadOnnxRuntime();
    const bytes = layersModelToOnnx(classifier.model, {
      outputNames: [PROBABILITIES],
      pooledOutputs: [{ name: POOLED, layer: classifier.metadata.backbone.outputLayer }],
    });
    const session = await ort.InferenceSession.create(bytes, sessionOptions(options.threads));
    classifier.dispose();
    return new OnnxClassifier(classifier.metadata, classifier, ort, session);
  }

  /**
   * Names the white cell in one image.
   *
   * @example
   * const { cellType } = await fast.classify(await decodeImage('smear.jpeg'));
   */
  async classify(image: CellImage): Promise<ClassifyResult> {
    const [result] = await this.classifyBatch([image]);
    return result!;
  }

  /**
   * Names the white cell in each image, running the model in batches.
   *
   * @example
   * const results = await fast.classifyBatch(images, { batchSize: 8 });
   */
  async classifyBatch(images: readonly CellImage[], options: ClassifyBatchOptions = {}): Promise<ClassifyResult[]> {
    const batchSize = options.batchSize ?? 8;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ImageInputError('BAD_BATCH_SIZE', `batchSize must be a positive integer; got ${batchSize}.`);
    }

    const { inputSize: size, scaling } = this.metadata.backbone;
    const results: ClassifyResult[] = [];
    for (let start = 0; start < images.length; start += batchSize) {
      const batch = images.slice(start, start + batchSize);
      const regions = await Promise.all(batch.map((image) => this.reference.extractor.locate(image)));
      const input = new Float32Array(batch.length * size * size * 3);
      for (const [i, image] of batch.entries()) {
        writeBackboneInput(await rawPixels(image), regions[i]!.box, size, scaling, input, i * size * size * 3);
      }

      const feeds = { [this.session.inputNames[0]!]: new this.ort.Tensor('float32', input, [batch.length, size, size, 3]) };
      const outputs = await this.session.run(feeds);
      const probabilities = outputs[PROBABILITIES]!.data as Float32Array;
      const pooled = outputs[POOLED]!.data as Float32Array;
      const width = pooled.length / batch.length;
      const classes = probabilities.length / batch.length;
      regions.forEach((region, i) => {
        const raw = Array.from(probabilities.subarray(i * classes, (i + 1) * classes));
        results.push(this.reference.describe(raw, pooled.subarray(i * width, (i + 1) * width), region));
      });
    }
    return results;
  }

  /** Closes the ONNX Runtime session. */
  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Loads a bundle folder and opens it in ONNX Runtime.
 *
 * @throws OptionError ONNX_RUNTIME_UNAVAILABLE when onnxruntime-node is not installed.
 * @example
 * const fast = await loadOnnxClassifier('artifacts/model', { threads: 2 });
 */
export async function loadOnnxClassifier(dir: string, options: OnnxClassifierOptions = {}): Promise<OnnxClassifier> {
  return OnnxClassifier.fromClassifier(await loadClassifier(dir), options);
}

/**
 * ONNX Runtime settings for CPU inference with `threads` threads: every graph optimisation
 * (it fuses Conv+Clip and picks AVX-512 blocked layouts) and no idle spinning between runs.
 *
 * @example
 * const session = await ort.InferenceSession.create(bytes, sessionOptions(1));
 */
export function sessionOptions(threads = availableParallelism()): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Spinning threads would steal the cores that decoding and the other workers need.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

async function rawPixels(image: CellImage): Promise<RawPixels> {
  if (!(image instanceof tf.Tensor)) {
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
  if (image.rank !== 3 || image.shape[2] !== 3) {
    throw new ImageInputError('BAD_TENSOR_SHAPE', `An image tensor must be [height, width, 3]; got [${image.shape.join(', ')}].`);
  }
  return { data: await image.data(), width: image.shape[1], height: image.shape[0], channels: 3 };
}
