import type { BundleMetadata, CellImage, Classifier, ClassifyBatchOptions, ClassifyResult } from '@bloodcell/core';
import { OptionError } from '@bloodcell/core';

import { type BackendName, selectBackend } from '../backend/index.js';
import { loadClassifier } from '../bundle-store/index.js';
import { ClassifierPool } from '../classifier-pool/index.js';
import { loadOnnxClassifier } from '../onnx-classifier/index.js';
import { onnxRuntimeAvailable } from '../onnx-runtime/index.js';

/**
 * How a model runs: `onnx` is ONNX Runtime (onnxruntime-node, optional), `tfjs` the selected
 * TF.js backend.
 *
 * @example
 * const engine: InferenceEngine = 'onnx';
 */
export type InferenceEngine = 'onnx' | 'tfjs';

/**
 * Every valid InferenceEngine, fastest first.
 *
 * @example
 * program.option('--engine <name>', `one of ${INFERENCE_ENGINES.join(', ')}`);
 */
export const INFERENCE_ENGINES: readonly InferenceEngine[] = ['onnx', 'tfjs'];

export interface OpenClassifierOptions {
  /** Default: `onnx` when onnxruntime-node loads, else `tfjs`. */
  engine?: InferenceEngine;
  /**
   * TF.js worker threads; 0 (the default) runs in this thread. The onnx engine always runs in
   * this thread, on `threads` ONNX Runtime threads, and ignores it.
   */
  workers?: number;
  /** TF.js backend, for the tfjs engine and for loading the bundle. */
  backend?: BackendName;
  /** ONNX Runtime threads for the onnx engine. Default: every core. */
  threads?: number;
  /**
   * Threads that locate and crop for the onnx engine, leaving this thread free to decode and
   * answer requests (docs/decisions/0011). Default 0: done in this thread.
   */
  prepareWorkers?: number;
}

/** A classifier on some engine, in this thread or a pool; `close` frees it. */
export interface OpenedClassifier {
  metadata: BundleMetadata;
  engine: InferenceEngine;
  /** TF.js worker threads; 0 when it runs in this thread. */
  workers: number;
  /**
   * The TF.js Classifier doing the work, when the engine is tfjs in this thread: what
   * `explainClassification` needs. Undefined for the onnx engine and for a worker pool.
   */
  tfjsClassifier?: Classifier;
  classifyBatch(images: readonly CellImage[], options?: ClassifyBatchOptions): Promise<ClassifyResult[]>;
  close(): Promise<void>;
}

/**
 * Opens a bundle on the chosen engine: ONNX Runtime when installed (several times faster), else
 * TF.js, in this thread or on `workers` threads. Answers are the same whichever is chosen.
 *
 * @throws OptionError INVALID_ENGINE, BAD_WORKERS, ONNX_RUNTIME_UNAVAILABLE (onnx forced, not installed).
 * @example
 * const classifier = await openClassifier('artifacts/model', { workers: 2 });
 * const results = await classifier.classifyBatch(images);
 * await classifier.close();
 */
export async function openClassifier(modelDir: string, options: OpenClassifierOptions = {}): Promise<OpenedClassifier> {
  const workers = options.workers ?? 0;
  if (!Number.isInteger(workers) || workers < 0) {
    throw new OptionError('BAD_WORKERS', `workers must be 0 (this thread) or a positive integer; got ${workers}.`);
  }
  if (options.engine !== undefined && !INFERENCE_ENGINES.includes(options.engine)) {
    throw new OptionError(
      'INVALID_ENGINE',
      `'${String(options.engine)}' is not an inference engine; valid choices: ${INFERENCE_ENGINES.join(', ')}.`,
    );
  }
  const engine = options.engine ?? ((await onnxRuntimeAvailable()) ? 'onnx' : 'tfjs');

  if (engine === 'onnx') {
    await selectBackend(options.backend ? { prefer: options.backend } : {});
    const classifier = await loadOnnxClassifier(modelDir, {
      threads: options.threads,
      prepareWorkers: options.prepareWorkers,
    });
    return opened(classifier, engine, 0, () => classifier.dispose());
  }
  if (workers > 0) {
    const pool = await ClassifierPool.start(modelDir, { workers, backend: options.backend });
    return opened(pool, engine, workers, () => pool.close());
  }
  await selectBackend(options.backend ? { prefer: options.backend } : {});
  const classifier = await loadClassifier(modelDir);
  return { ...opened(classifier, engine, 0, async () => classifier.dispose()), tfjsClassifier: classifier };
}

function opened(
  classifier: Pick<OpenedClassifier, 'metadata' | 'classifyBatch'>,
  engine: InferenceEngine,
  workers: number,
  close: () => Promise<void>,
): OpenedClassifier {
  return {
    metadata: classifier.metadata,
    engine,
    workers,
    classifyBatch: (images, batch) => classifier.classifyBatch(images, batch),
    close,
  };
}
