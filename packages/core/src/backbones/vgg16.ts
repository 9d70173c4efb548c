import * as tfl from '@tensorflow/tfjs-layers';

import { OptionError } from '../errors.js';

/** Filters of the convolutions in each of VGG16's five blocks. */
const BLOCK_FILTERS = [64, 128, 256, 512, 512] as const;

/** Convolutions in each block: two in the first two blocks, three after. */
const BLOCK_CONVS = [2, 2, 3, 3, 3] as const;

/** Smallest input Keras accepts: five 2x2 pools leave a 1x1 feature map. */
const VGG16_MIN_INPUT = 32;

/**
 * The weighted layers of Keras's VGG16 base, in order: the names by which weights files
 * (Keras `.h5`, TF.js exports) hand over each convolution's kernel and bias.
 */
export const VGG16_LAYER_NAMES: readonly string[] = BLOCK_CONVS.flatMap((convs, block) =>
  Array.from({ length: convs }, (_, conv) => `block${block + 1}_conv${conv + 1}`),
);

/** Every layer of the base after the input, convolutions and pools, in Keras's order. */
export const VGG16_ALL_LAYER_NAMES: readonly string[] = BLOCK_CONVS.flatMap((convs, block) => [
  ...Array.from({ length: convs }, (_, conv) => `block${block + 1}_conv${conv + 1}`),
  `block${block + 1}_pool`,
]);

/**
 * Builds the convolutional base of VGG16 exactly as Keras's `applications.VGG16` with
 * `include_top=False`: same layer names, shapes and activations, so Keras's ImageNet weights
 * load into it by name. Its weights start random (Glorot uniform kernels, zero biases).
 *
 * Like Keras's, it expects RGB→BGR, mean-subtracted pixels ("caffe" preprocessing); that step
 * is not part of the model.
 *
 * @example
 * const base = vgg16({ inputSize: 224 });
 * base.outputs[0]?.shape; // [null, 7, 7, 512]: floor(inputSize / 32) on each side
 */
export function vgg16(options: { inputSize?: number } = {}): tfl.LayersModel {
  const inputSize = options.inputSize ?? 224;
  if (!Number.isInteger(inputSize) || inputSize < VGG16_MIN_INPUT) {
    throw new OptionError(
      'BAD_INPUT_SIZE',
      `vgg16 inputSize must be a whole number of pixels, at least ${VGG16_MIN_INPUT} ` +
        `(224 matches ImageNet training), got ${inputSize}.`,
    );
  }

  // Keras 2 names the first input of a session `input_1`; only the weighted layers must match.
  const input = tfl.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });

  let features = input;
  BLOCK_CONVS.forEach((convs, block) => {
    for (let conv = 1; conv <= convs; conv++) {
      const layer = tfl.layers.conv2d({
        filters: BLOCK_FILTERS[block]!,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: `block${block + 1}_conv${conv}`,
      });
      features = layer.apply(features) as tfl.SymbolicTensor;
    }
    const pool = tfl.layers.maxPooling2d({
      poolSize: 2,
      strides: 2,
      name: `block${block + 1}_pool`,
    });
    features = pool.apply(features) as tfl.SymbolicTensor;
  });

  return tfl.model({ inputs: input, outputs: features, name: 'vgg16' });
}
