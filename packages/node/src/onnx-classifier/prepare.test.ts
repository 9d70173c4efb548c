import '@tensorflow/tfjs-backend-cpu';

import { CROP_VIEWS, applyCropView, cropAndResize, scalePixels, zoomBox } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { syntheticSmear } from '../../../../test-support/tiny-bundle.js';
import { selectBackend } from '../backend/index.js';
import { writeBackboneInput } from './prepare.js';

describe('writeBackboneInput through a training view', () => {
  beforeAll(() => selectBackend({ prefer: 'cpu' }));

  const image = syntheticSmear(61, 47);
  const box = { x: 12, y: 6, width: 28, height: 28 };

  for (const view of CROP_VIEWS) {
    it(`matches core's tensor path for the ${view.name} view`, () => {
      const expected = tf.tidy(() => {
        const pixels = tf.tensor3d(Float32Array.from(image.data), [image.height, image.width, 3]);
        const region = view.zoom ? zoomBox(box, view.zoom, image.width, image.height) : box;
        return scalePixels(applyCropView(cropAndResize(pixels, 16, region), view), 'tf').dataSync() as Float32Array;
      });
      const written = new Float32Array(3 + 16 * 16 * 3);
      writeBackboneInput({ ...image, channels: 3 }, box, 16, 'tf', written, 3, view);

      const difference = expected.reduce((most, value, i) => Math.max(most, Math.abs(value - written[3 + i]!)), 0);
      expect(difference).toBeLessThan(1e-4);
      // The view changed something: a plain crop differs.
      const plain = new Float32Array(16 * 16 * 3);
      writeBackboneInput({ ...image, channels: 3 }, box, 16, 'tf', plain, 0);
      expect(plain.some((value, i) => Math.abs(value - written[3 + i]!) > 1e-3)).toBe(true);
    });
  }
});
