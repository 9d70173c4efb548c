import { availableParallelism } from 'node:os';

import {
  type CellImage,
  type Classifier,
  type ClassifyBatchOptions,
  type ClassifyResult,
  type BundleMetadata,
  type PixelImage,
  batchSizeOf,
} from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';

import { loadClassifier } from '../bundle-store/index.js';
import { layersModelToOnnx } from '../onnx/index.js';
import { type PreparedBatch, PreparePool } from '../prepare-pool/index.js';
import { BatchCoalescer, type ForwardRows } from './coalesce.js';
import { type HostedSession, OnnxHost } from './host.js';
import { rawPixels } from './pixels.js';
import { writeBackboneInput } from './prepare.js';

export { sessionOptions } from './options.js';
export { type RawPixels, writeBackboneInput } from './prepare.js';

export interface OnnxClassifierOptions {
  /**
   * Threads ONNX Runtime uses for one forward pass. Default: every core; its runs sit in a worker
   * thread, so this thread still decodes and crops meanwhile (docs/decisions/0006).
   */
  threads?: number;
  /**
   * Worker threads that locate and crop (PreparePool), so this thread only decodes and answers;
   * 0 (the default) does it here, overlapped with the forward pass (docs/decisions/0011).
   */
  prepareWorkers?: number;
}

/** Most images one forward pass takes when concurrent calls are merged. */
const MAX_MERGED_IMAGES = 16;

/** Output names of a bundle's ONNX graph. */
const PROBABILITIES = 'probabilities';
const POOLED = 'pooled';

/**
 * A bundle run by ONNX Runtime: the same answers as the TF.js `Classifier` (same localiser,
 * same crop, same calibration and review rules), several times faster on a CPU. Locating and
 * cropping run in this thread, the forward passes in the process's ONNX Runtime worker, so the
 * two overlap.
 */
export class OnnxClassifier {
  private readonly coalescer: BatchCoalescer;

  private constructor(
    readonly metadata: BundleMetadata,
    private readonly reference: Classifier,
    private readonly session: HostedSession,
    private readonly pool: PreparePool | undefined,
  ) {
    this.coalescer = new BatchCoalescer((input, count) => this.run(input, count), MAX_MERGED_IMAGES);
  }

  /**
   * Converts a loaded TF.js classifier to ONNX and opens it in ONNX Runtime. The TF.js weights
   * are freed: the ONNX session holds its own copy.
   *
   * @throws OptionError ONNX_RUNTIME_UNAVAILABLE when onnxruntime-node is not installed.
   * @example
   * const fast = await OnnxClassifier.fromClassifier(await loadClassifier('artifacts/model'));
   */
  static async fromClassifier(classifier: Classifier, options: OnnxClassifierOptions = {}): Promise<OnnxClassifier> {
    const host = await OnnxHost.shared();
    const bytes = layersModelToOnnx(classifier.model, {
      outputNames: [PROBABILITIES],
      pooledOutputs: [{ name: POOLED, layer: classifier.metadata.backbone.outputLayer }],
    });
    const workers = options.prepareWorkers ?? 0;
    const [session, pool] = await Promise.allSettled([
      host.createSession(bytes, options.threads ?? availableParallelism()),
      workers !== 0 ? PreparePool.start(classifier.metadata, workers) : undefined,
    ]);
    if (session.status === 'rejected' || pool.status === 'rejected') {
      // Whichever half did start is closed, so a failed open leaves no thread or session behind.
      if (session.status === 'fulfilled') await session.value.release();
      if (pool.status === 'fulfilled') await pool.value?.close();
      throw session.status === 'rejected' ? session.reason : (pool as PromiseRejectedResult).reason;
    }
    classifier.dispose();
    return new OnnxClassifier(classifier.metadata, classifier, session.value, pool.value);
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
    const batchSize = batchSizeOf(options);
    if (this.pool && this.pool.size > 0 && images.every(isPacked)) return this.classifyInPool(images, batchSize);

    const done: ClassifyResult[][] = [];
    let running: Promise<ClassifyResult[]> | undefined;
    for (let start = 0; start < images.length; start += batchSize) {
      // Prepared here while the ONNX Runtime worker still runs the previous batch.
      const prepared = await this.prepare(images.slice(start, start + batchSize));
      if (running) done.push(await running);
      running = this.forward(prepared);
      // Awaited on the next turn; this only keeps a failure meanwhile from going unhandled.
      running.catch(() => undefined);
    }
    if (running) done.push(await running);
    return done.flat();
  }

  /**
   * Batches prepared in the pool's workers and forwarded as each is ready; at most one batch per
   * worker and one more are held at a time, so prepared inputs never pile up in memory.
   */
  private async classifyInPool(images: readonly PixelImage[], batchSize: number): Promise<ClassifyResult[]> {
    const pool = this.pool!;
    const batches: Promise<ClassifyResult[]>[] = [];
    for (let start = 0; start < images.length; start += batchSize) {
      const window = batches.length - pool.size - 1;
      if (window >= 0) await batches[window];
      const batch = pool.prepare(images.slice(start, start + batchSize)).then((prepared) => this.forward(prepared));
      // Awaited in order below; this only keeps a later batch's failure from going unhandled meanwhile.
      batch.catch(() => undefined);
      batches.push(batch);
    }
    return (await Promise.all(batches)).flat();
  }

  /** Locates the cell in each image and writes the backbone's input batch. */
  private async prepare(batch: readonly CellImage[]): Promise<PreparedBatch> {
    const { inputSize: size, scaling } = this.metadata.backbone;
    const regions = await Promise.all(batch.map((image) => this.reference.extractor.locate(image)));
    const input = new Float32Array(batch.length * size * size * 3);
    for (const [i, image] of batch.entries()) {
      writeBackboneInput(await rawPixels(image), regions[i]!.box, size, scaling, input, i * size * size * 3);
    }
    return { input, regions };
  }

  /** Runs one batch, merged with any that queue meanwhile (see BatchCoalescer). */
  private async forward({ input, regions }: PreparedBatch): Promise<ClassifyResult[]> {
    const { probabilities, pooled } = await this.coalescer.submit(input, regions.length);
    const classes = probabilities.length / regions.length;
    const width = pooled.length / regions.length;
    return regions.map((region, i) => {
      const raw = Array.from(probabilities.subarray(i * classes, (i + 1) * classes));
      return this.reference.describe(raw, pooled.subarray(i * width, (i + 1) * width), region);
    });
  }

  private async run(input: Float32Array, count: number): Promise<ForwardRows> {
    const size = this.metadata.backbone.inputSize;
    // The run transfers the whole buffer: a view on part of one (see PreparePool) is copied first.
    const whole = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength ? input : input.slice();
    const outputs = await this.session.run(whole, [count, size, size, 3]);
    return { probabilities: outputs[PROBABILITIES]!, pooled: outputs[POOLED]! };
  }

  /** Closes the ONNX Runtime session and stops the preparation workers. */
  async dispose(): Promise<void> {
    await Promise.all([this.session.release(), this.pool?.close()]);
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

function isPacked(image: CellImage): image is PixelImage {
  return !(image instanceof tf.Tensor);
}
