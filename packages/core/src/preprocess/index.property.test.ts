import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import { ImageInputError } from '../errors.js';
import { CAFFE_BGR_MEANS, type PixelImage, cropAndResize, scalePixels, toImageTensor } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Random packed pixels of a random size, RGB or RGBA. */
const pixelImage = fc
  .record({
    width: fc.integer({ min: 1, max: 24 }),
    height: fc.integer({ min: 1, max: 24 }),
    channels: fc.constantFrom(3, 4),
  })
  .chain(({ width, height, channels }) =>
    fc
      .uint8Array({ minLength: width * height * channels, maxLength: width * height * channels })
      .map((data): PixelImage => ({ data, width, height, channels: channels as 3 | 4 })),
  );

/** An image and a non-empty box inside it. */
const imageAndBox = pixelImage.chain((image) =>
  fc
    .record({
      x: fc.integer({ min: 0, max: image.width - 1 }),
      y: fc.integer({ min: 0, max: image.height - 1 }),
    })
    .chain(({ x, y }) =>
      fc.record({
        image: fc.constant(image),
        box: fc.record({
          x: fc.constant(x),
          y: fc.constant(y),
          width: fc.integer({ min: 1, max: image.width - x }),
          height: fc.integer({ min: 1, max: image.height - y }),
        }),
        size: fc.integer({ min: 1, max: 20 }),
      }),
    ),
);

const RUNS = { numRuns: 80 };

/** Checks that a property's runs leave no tensor behind. */
function withoutLeaks(check: () => void): void {
  const before = tf.memory().numTensors;
  check();
  expect(tf.memory().numTensors).toBe(before);
}

function rgbOf(image: PixelImage): number[] {
  const channels = image.channels ?? 3;
  return Array.from(image.data).filter((_, i) => i % channels < 3);
}

describe('preprocessing properties', () => {
  it('toImageTensor: [height, width, 3] float32 holding exactly the RGB bytes', () => {
    withoutLeaks(() =>
      fc.assert(
        fc.property(pixelImage, (image) => {
          const tensor = toImageTensor(image);
          const values = Array.from(tensor.dataSync());
          tensor.dispose();
          expect(tensor.shape).toEqual([image.height, image.width, 3]);
          expect(tensor.dtype).toBe('float32');
          expect(values).toEqual(rgbOf(image));
        }),
        RUNS,
      ),
    );
  });

  it('cropAndResize: size x size x 3, no NaN, every value within the image’s range', () => {
    withoutLeaks(() =>
      fc.assert(
        fc.property(imageAndBox, fc.boolean(), ({ image, box, size }, whole) => {
          const rgb = rgbOf(image);
          const [low, high] = [Math.min(...rgb), Math.max(...rgb)];
          const values = tf.tidy(() => {
            const crop = cropAndResize(toImageTensor(image), size, whole ? undefined : box);
            expect(crop.shape).toEqual([size, size, 3]);
            return Array.from(crop.dataSync());
          });
          for (const value of values) {
            expect(Number.isNaN(value)).toBe(false);
            expect(value).toBeGreaterThanOrEqual(low - 1e-3);
            expect(value).toBeLessThanOrEqual(high + 1e-3);
          }
        }),
        RUNS,
      ),
    );
  });

  it('cropAndResize: an empty box is refused as BAD_BOX', () => {
    withoutLeaks(() =>
      fc.assert(
        fc.property(imageAndBox, fc.constantFrom('width', 'height'), ({ image, box }, side) => {
          const tensor = toImageTensor(image);
          try {
            expect(() => cropAndResize(tensor, 8, { ...box, [side]: 0 })).toThrow(ImageInputError);
          } finally {
            tensor.dispose();
          }
        }),
        RUNS,
      ),
    );
  });

  it('scalePixels: tf mode lands in [-1, 1]; caffe mode is BGR minus the means; shapes kept', () => {
    const [b, g, r] = CAFFE_BGR_MEANS;
    withoutLeaks(() =>
      fc.assert(
        fc.property(pixelImage, (image) => {
          const rgb = rgbOf(image);
          const [tfMode, caffe] = tf.tidy(() => {
            const pixels = toImageTensor(image);
            const scaled = [scalePixels(pixels, 'tf'), scalePixels(pixels, 'caffe')];
            for (const tensor of scaled) expect(tensor.shape).toEqual(pixels.shape);
            return scaled.map((tensor) => Array.from(tensor.dataSync()));
          });
          tfMode!.forEach((value, i) => {
            expect(value).toBeGreaterThanOrEqual(-1);
            expect(value).toBeLessThanOrEqual(1);
            expect(value).toBeCloseTo(rgb[i]! / 127.5 - 1, 5);
          });
          caffe!.forEach((value, i) => {
            const pixel = i - (i % 3);
            const expected = [rgb[pixel + 2]! - b, rgb[pixel + 1]! - g, rgb[pixel]! - r][i % 3]!;
            expect(value).toBeCloseTo(expected, 3);
          });
        }),
        RUNS,
      ),
    );
  });
});
