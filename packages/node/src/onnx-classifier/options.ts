import { availableParallelism } from 'node:os';

import type * as Ort from 'onnxruntime-node';

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
    // Spinning threads would steal the cores that decoding and cropping need.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}
