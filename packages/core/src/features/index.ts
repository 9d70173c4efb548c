import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import type { BackboneSpec } from '../backbones/index.js';
import type { PreprocessingSpec } from '../bundle/metadata.js';
import { locateCell } from '../localise/index.js';
import { applyCropView, type CropView, zoomBox } from '../views/index.js';
import {
  type Box,
  type CellImage,
  cropAndResize,
  imageSize,
  type PixelImage,
  scalePixels,
  toImageTensor,
} from '../preprocess/index.js';

/** Where the classifier looked in one image. */
export interface CellRegion {
  /** The square the backbone saw, in the original image's pixels. */
  box: Box;
  /** False when no white cell was located and the whole image was used. */
  cellFound: boolean;
}

/**
 * Turns images into backbone features: locate the cell (when the preprocessing asks for it),
 * crop, resize, scale, run the frozen base.
 */
export class FeatureExtractor {
  constructor(
    readonly backbone: tfl.LayersModel,
    readonly spec: BackboneSpec,
    readonly preprocessing: PreprocessingSpec,
  ) {}

  /**
   * Finds the region of each image the backbone should see.
   *
   * @example
   * const [region] = await extractor.locate([image]); // { box: {x, y, width, height}, cellFound: true }
   */
  async locate(image: CellImage): Promise<CellRegion> {
    const { width, height } = imageSize(image);
    const whole = { box: { x: 0, y: 0, width, height }, cellFound: false };
    if (this.preprocessing.fit !== 'cell-crop') return whole;

    const pixels = await toPixels(image);
    const location = locateCell(pixels, this.preprocessing.localise);
    return { box: location.box, cellFound: location.found };
  }

  /**
   * The backbone's input for one image and region: [size, size, 3], already scaled. The caller
   * owns the returned tensor.
   *
   * @example
   * const input = extractor.input(image, region.box);
   */
  input(image: CellImage, box: Box, view?: CropView): tf.Tensor3D {
    return tf.tidy(() => {
      const pixels = toImageTensor(image);
      const { width, height } = imageSize(image);
      const region = view?.zoom ? zoomBox(box, view.zoom, width, height) : box;
      const square = cropAndResize(pixels, this.spec.inputSize, region);
      return scalePixels(view ? applyCropView(square, view) : square, this.spec.scaling);
    });
  }

  /**
   * Runs the base on prepared inputs; returns features [n, h, w, c] that the caller disposes.
   *
   * @example
   * const features = extractor.run([input1, input2]);
   */
  run(inputs: readonly tf.Tensor3D[]): tf.Tensor4D {
    return tf.tidy(() => this.backbone.predict(tf.stack([...inputs])) as tf.Tensor4D);
  }

  /**
   * Locates, prepares and runs a batch of images in one call, optionally through a training view.
   *
   * @example
   * const { features, regions } = await extractor.extract(images);
   * features.dispose();
   */
  async extract(
    images: readonly CellImage[],
    view?: CropView,
  ): Promise<{ features: tf.Tensor4D; regions: CellRegion[] }> {
    const regions = await Promise.all(images.map((image) => this.locate(image)));
    const inputs = images.map((image, i) => this.input(image, regions[i]!.box, view));
    try {
      return { features: this.run(inputs), regions };
    } finally {
      tf.dispose(inputs);
    }
  }
}

async function toPixels(image: CellImage): Promise<PixelImage> {
  if (!(image instanceof tf.Tensor)) return image;
  const values = await image.data();
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(values[i]!)));
  return { data, width: image.shape[1], height: image.shape[0], channels: 3 };
}
