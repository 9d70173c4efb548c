import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { applyCropView, applyCropViewToPixels, CROP_VIEWS, cropView, zoomBox } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const crop = () => tf.tensor3d(Array.from({ length: 4 * 4 * 3 }, (_, i) => (i * 7) % 256), [4, 4, 3]);

describe('crop views', () => {
  it('turns a quarter clockwise: the top-left pixel goes to the top-right', () => {
    const original = crop();
    const turned = applyCropView(original, { name: 't', quarterTurns: 1 });
    expect(Array.from(tf.slice(turned, [0, 3, 0], [1, 1, 3]).dataSync())).toEqual(Array.from(tf.slice(original, [0, 0, 0], [1, 1, 3]).dataSync()));
  });

  it('returns to the original after four turns or two mirrors', () => {
    const original = crop();
    const four = [1, 2, 3, 4].reduce((t) => applyCropView(t, { name: 't', quarterTurns: 1 }), original);
    const twice = applyCropView(applyCropView(original, { name: 'm', mirror: true }), { name: 'm', mirror: true });
    expect(Array.from(four.dataSync())).toEqual(Array.from(original.dataSync()));
    expect(Array.from(twice.dataSync())).toEqual(Array.from(original.dataSync()));
  });

  it('leaves colours unchanged with unit stain factors and darkens violet with more haematoxylin', () => {
    const violet = tf.tensor3d([[[120, 60, 170]]]);
    const same = Array.from(applyCropView(violet, { name: 's', stain: [1, 1, 1] }).dataSync());
    [120, 60, 170].forEach((value, i) => expect(same[i]).toBeCloseTo(value, 1));
    const darker = Array.from(applyCropView(violet, { name: 's', stain: [1.5, 1, 1] }).dataSync());
    expect(darker[0]! + darker[1]! + darker[2]!).toBeLessThan(120 + 60 + 170);
  });

  it('keeps a zoomed box square and inside the image', () => {
    expect(zoomBox({ x: 100, y: 80, width: 100, height: 100 }, 1.5, 320, 240)).toEqual({ x: 75, y: 55, width: 150, height: 150 });
    const edge = zoomBox({ x: 0, y: 0, width: 200, height: 200 }, 1.5, 320, 240);
    expect(edge).toEqual({ x: 0, y: 0, width: 240, height: 240 });
  });

  it('names the valid views for an unknown one', () => {
    expect(cropView(CROP_VIEWS[0]!.name)).toBe(CROP_VIEWS[0]);
    expect(() => cropView('sepia')).toThrow(/mirror, turn-90/);
  });

  it('gives the same pixels in plain JavaScript as on tensors, for every view', () => {
    const size = 5;
    const values = Float32Array.from({ length: size * size * 3 }, (_, i) => (i * 37 + 11) % 256);
    const tensor = tf.tensor3d(values, [size, size, 3]);
    for (const view of [...CROP_VIEWS, { name: 'turn-3', quarterTurns: 3 }, { name: 'turn-2-mirror', quarterTurns: 2, mirror: true }]) {
      const expected = applyCropView(tensor, view).dataSync();
      const actual = applyCropViewToPixels(values, size, view);
      const worst = Math.max(...Array.from(actual, (value, i) => Math.abs(value - expected[i]!)));
      expect(worst, view.name).toBeLessThan(1e-3);
    }
  });

  it('refuses a crop whose length does not match its size', () => {
    expect(() => applyCropViewToPixels(new Float32Array(10), 2, CROP_VIEWS[0]!)).toThrow(/12 values; got 10/);
  });
});
