import type { PixelScaling } from '../preprocess/index.js';

/** The convolutional bases bloodcell knows, by the names Keras gives them. */
export type BackboneName = 'mobilenet_v2' | 'vgg16';

export const BACKBONE_NAMES: readonly BackboneName[] = ['mobilenet_v2', 'vgg16'];

/** What a head needs to know about the base that feeds it. */
export interface BackboneSpec {
  name: BackboneName;
  /** Square input side in pixels. */
  inputSize: number;
  scaling: PixelScaling;
  /** Layer whose output are the features (`out_relu` for MobileNetV2, `block5_pool` for VGG16). */
  outputLayer: string;
  /** Feature map shape [height, width, channels]. */
  featureShape: [number, number, number];
}

/** MobileNetV2 (alpha 0.35) cut at `out_relu`, as shipped in shared/models. */
export const MOBILENET_V2_SPEC: BackboneSpec = {
  name: 'mobilenet_v2',
  inputSize: 224,
  scaling: 'tf',
  outputLayer: 'out_relu',
  featureShape: [7, 7, 1280],
};

/** Keras VGG16 without its top, at 224x224. */
export const VGG16_SPEC: BackboneSpec = {
  name: 'vgg16',
  inputSize: 224,
  scaling: 'caffe',
  outputLayer: 'block5_pool',
  featureShape: [7, 7, 512],
};

export { cutAtLayer } from './cut.js';
