import { availableParallelism } from 'node:os';

import { OptionError } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { OnnxHost } from '../onnx-classifier/host.js';
import { layersModelToOnnx } from '../onnx/index.js';
import { onnxRuntimeAvailable } from '../onnx-runtime/index.js';

/** Engines a backbone can run on: ONNX Runtime (optional, fast on CPUs) or the TF.js backend. */
export type BackboneEngine = 'onnx' | 'tfjs';

export interface BackboneRunnerOptions {
  /** Default: `onnx` when onnxruntime-node loads, else `tfjs`. */
  engine?: BackboneEngine;
  /** ONNX Runtime threads. Default: every core. */
  threads?: number;
}

/**
 * A frozen backbone that turns prepared inputs into features, on whichever engine was chosen:
 * the pipeline's feature extraction needs nothing else from a model.
 */
export interface BackboneRunner {
  readonly engine: BackboneEngine;
  /** [height, width, channels] of one image's features. */
  readonly featureShape: readonly [number, number, number];
  /**
   * Runs `count` inputs of [size, size, 3], laid end to end and already scaled; resolves with
   * their features laid end to end. The input may be transferred to another thread: do not reuse it.
   */
  run(input: Float32Array, count: number): Promise<Float32Array>;
  /** Frees the engine's copy of the model (not the TF.js model it was opened from). */
  close(): Promise<void>;
}

const FEATURES = 'features';

/**
 * Opens a TF.js backbone (an image model with one [n, h, w, c] output) on ONNX Runtime when it
 * is installed, else on the current TF.js backend. The two agree to float rounding, so features
 * from either can share a cache.
 *
 * @throws OptionError BAD_ENGINE for an unknown engine; ONNX_RUNTIME_UNAVAILABLE when onnx is forced
 *   but onnxruntime-node does not load.
 * @example
 * const runner = await openBackboneRunner(backbone);
 * const features = await runner.run(inputs, 8); // 8 x 7 x 7 x 1280 values for MobileNetV2
 * await runner.close();
 */
export async function openBackboneRunner(
  backbone: tfl.LayersModel,
  options: BackboneRunnerOptions = {},
): Promise<BackboneRunner> {
  if (options.engine !== undefined && options.engine !== 'onnx' && options.engine !== 'tfjs') {
    throw new OptionError('BAD_ENGINE', `'${String(options.engine)}' is not an engine; valid choices: onnx, tfjs.`);
  }
  const [, height, width, channels] = backbone.outputs[0]!.shape;
  const [, inputHeight, inputWidth, inputChannels] = backbone.inputs[0]!.shape;
  if (!height || !width || !channels || !inputHeight || !inputWidth || inputChannels !== 3) {
    throw new OptionError(
      'BAD_BACKBONE',
      `A backbone needs fixed [n, h, w, 3] inputs and [n, h, w, c] outputs; got ` +
        `[${backbone.inputs[0]!.shape.join(', ')}] -> [${backbone.outputs[0]!.shape.join(', ')}].`,
    );
  }
  const featureShape = [height, width, channels] as const;
  const inputShape = [inputHeight, inputWidth, 3];
  const engine = options.engine ?? ((await onnxRuntimeAvailable()) ? 'onnx' : 'tfjs');

  if (engine === 'tfjs') {
    return {
      engine,
      featureShape,
      run: async (input, count) => {
        const features = tf.tidy(() => backbone.predict(tf.tensor4d(input, [count, ...inputShape] as [number, number, number, number])) as tf.Tensor);
        try {
          return (await features.data()) as Float32Array;
        } finally {
          features.dispose();
        }
      },
      close: async () => {},
    };
  }

  const host = await OnnxHost.shared();
  const bytes = layersModelToOnnx(backbone, { outputNames: [FEATURES] });
  const session = await host.createSession(bytes, options.threads ?? availableParallelism());
  return {
    engine,
    featureShape,
    run: async (input, count) => (await session.run(input, [count, ...inputShape]))[FEATURES]!,
    close: () => session.release(),
  };
}
