import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ImageInputError, OptionError } from '../errors.js';
import { CAFFE_BGR_MEANS, cropAndResize, imageSize, scalePixels, toImageTensor } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('scalePixels', () => {
  it('maps 0..255 to [-1, 1] for MobileNetV2 (tf mode)', () => {
    const scaled = scalePixels(tf.tensor3d([[[0, 127.5, 255]]]), 'tf');
    expect(Array.from(scaled.dataSync())).toEqual([-1, 0, 1]);
  });

  it('reorders RGB to BGR and subtracts the ImageNet means for VGG16 (caffe mode)', () => {
    const rgb = tf.tensor3d([[[10, 20, 30], [200, 100, 50]]]);
    const scaled = Array.from(scalePixels(rgb, 'caffe').dataSync());
    const [b, g, r] = CAFFE_BGR_MEANS;
    const expected = [30 - b, 20 - g, 10 - r, 50 - b, 100 - g, 200 - r];
    scaled.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 4));
  });

  it('names the valid choices for an unknown scaling', () => {
    expect(() => scalePixels(tf.zeros([1, 1, 3]) as tf.Tensor3D, 'torch' as never)).toThrow(/caffe, tf/);
    expect(() => scalePixels(tf.zeros([1, 1, 3]) as tf.Tensor3D, 'torch' as never)).toThrow(OptionError);
  });
});

describe('toImageTensor', () => {
  it('reads packed RGB pixels in row-major order', () => {
    const t = toImageTensor({ data: new Uint8Array([1, 2, 3, 4, 5, 6]), width: 2, height: 1 });
    expect(t.shape).toEqual([1, 2, 3]);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('drops the alpha channel of RGBA pixels', () => {
    const t = toImageTensor({ data: new Uint8Array([1, 2, 3, 255, 4, 5, 6, 0]), width: 2, height: 1, channels: 4 });
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses a pixel buffer of the wrong length and a tensor of the wrong shape', () => {
    expect(() => toImageTensor({ data: new Uint8Array(5), width: 2, height: 1 })).toThrow(ImageInputError);
    expect(() => toImageTensor(tf.zeros([2, 2]) as never)).toThrow(/\[height, width, 3\]/);
    expect(() => toImageTensor({ data: new Uint8Array(0), width: 0, height: 0 })).toThrow(/positive integer size/);
  });

  it('reports sizes without reading pixels', () => {
    expect(imageSize({ data: new Uint8Array(18), width: 3, height: 2 })).toEqual({ width: 3, height: 2 });
    expect(imageSize(tf.zeros([4, 5, 3]) as tf.Tensor3D)).toEqual({ width: 5, height: 4 });
  });
});

describe('cropAndResize', () => {
  it('keeps an image that is already the right size exactly', () => {
    const image = tf.tensor3d([[[1, 1, 1], [2, 2, 2]], [[3, 3, 3], [4, 4, 4]]]);
    expect(Array.from(cropAndResize(image, 2).dataSync())).toEqual(Array.from(image.dataSync()));
  });

  it('interpolates bilinearly between corner pixels when enlarging', () => {
    const image = tf.tensor3d([[[0, 0, 0], [30, 30, 30]]]); // 1 row, 2 columns
    const resized = cropAndResize(image, 4);
    // Columns sample x = 0, 1/3, 2/3, 1 of the span between the two pixels; every row is the same.
    expect(Array.from(tf.slice(resized, [0, 0, 0], [1, 4, 1]).dataSync()).map((v) => Math.round(v))).toEqual([0, 10, 20, 30]);
  });

  it('crops the box in pixels', () => {
    const values = Array.from({ length: 16 }, (_, i) => [i, i, i]).flat();
    const image = tf.tensor3d(values, [4, 4, 3]);
    const crop = cropAndResize(image, 2, { x: 2, y: 1, width: 2, height: 2 });
    expect(Array.from(tf.slice(crop, [0, 0, 0], [2, 2, 1]).dataSync())).toEqual([6, 7, 10, 11]);
  });

  it('refuses an empty box', () => {
    expect(() => cropAndResize(tf.zeros([4, 4, 3]) as tf.Tensor3D, 2, { x: 0, y: 0, width: 0, height: 3 })).toThrow(
      ImageInputError,
    );
  });
});
