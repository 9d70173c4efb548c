import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { type SmearImage, locateCell } from './index.js';

type Rgb = [number, number, number];

const NUCLEUS: Rgb = [150, 108, 226];
const ERYTHROCYTE: Rgb = [200, 158, 165];
const CYTOPLASM: Rgb = [196, 172, 206];
const PADDING: Rgb = [0, 0, 0];

const colour = fc.oneof(
  fc.constantFrom(NUCLEUS, ERYTHROCYTE, CYTOPLASM, PADDING),
  fc.tuple(
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
  ),
);

/** Random fields: any size (slivers included), discs of smear colours or any colour, and noise. */
const smearImage = fc
  .record({
    width: fc.integer({ min: 1, max: 200 }),
    height: fc.integer({ min: 1, max: 160 }),
    rgba: fc.boolean(),
    background: colour,
    noise: fc.integer({ min: 0, max: 60 }),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
    discs: fc.array(
      fc.record({
        x: fc.double({ min: 0, max: 1, noNaN: true }),
        y: fc.double({ min: 0, max: 1, noNaN: true }),
        radius: fc.double({ min: 0, max: 0.6, noNaN: true }),
        colour,
      }),
      { maxLength: 5 },
    ),
  })
  .map(paint);

function paint(field: {
  width: number;
  height: number;
  rgba: boolean;
  background: Rgb;
  noise: number;
  seed: number;
  discs: { x: number; y: number; radius: number; colour: Rgb }[];
}): SmearImage {
  const { width, height } = field;
  const channels = field.rgba ? 4 : 3;
  const data = new Uint8Array(width * height * channels);
  const side = Math.min(width, height);
  let state = field.seed;
  const jitter = () => {
    // xorshift: reproducible noise from the property's seed.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return field.noise === 0 ? 0 : (Math.abs(state) % (2 * field.noise + 1)) - field.noise;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let paintColour = field.background;
      for (const disc of field.discs) {
        if ((x - disc.x * width) ** 2 + (y - disc.y * height) ** 2 <= (disc.radius * side) ** 2)
          paintColour = disc.colour;
      }
      const at = (y * width + x) * channels;
      for (let c = 0; c < 3; c++) data[at + c] = Math.min(255, Math.max(0, paintColour[c]! + jitter()));
      if (channels === 4) data[at + 3] = 255;
    }
  }
  return { data, width, height, channels };
}

describe('locateCell properties', () => {
  it('always answers a non-empty whole-pixel box inside the image: a square, or the whole image', () => {
    fc.assert(
      fc.property(smearImage, (image) => {
        const { box, found } = locateCell(image);
        for (const value of [box.x, box.y, box.width, box.height]) expect(Number.isInteger(value)).toBe(true);
        expect(box.width).toBeGreaterThan(0);
        expect(box.height).toBeGreaterThan(0);
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(image.width);
        expect(box.y + box.height).toBeLessThanOrEqual(image.height);
        if (found) expect(box.width).toBe(box.height);
        else expect(box).toEqual({ x: 0, y: 0, width: image.width, height: image.height });
      }),
      { numRuns: 150 },
    );
  });

  it('finds a violet nucleus of a few per cent of a plain field, and its box holds the nucleus centre', () => {
    fc.assert(
      fc.property(
        fc.record({
          width: fc.integer({ min: 48, max: 320 }),
          aspect: fc.double({ min: 0.6, max: 1, noNaN: true }),
          x: fc.double({ min: 0.25, max: 0.75, noNaN: true }),
          y: fc.double({ min: 0.25, max: 0.75, noNaN: true }),
          radius: fc.double({ min: 0.1, max: 0.2, noNaN: true }),
        }),
        ({ width, aspect, x, y, radius }) => {
          // The nucleus must stand out of the image's own 99.5% quantile: at least ~2% of the field.
          const height = Math.round(width * aspect);
          const image = paint({
            width,
            height,
            rgba: false,
            background: [214, 212, 204],
            noise: 0,
            seed: 1,
            discs: [{ x, y, radius, colour: NUCLEUS }],
          });
          const { box, found } = locateCell(image);
          expect(found).toBe(true);
          expect(x * width).toBeGreaterThanOrEqual(box.x - 1);
          expect(x * width).toBeLessThanOrEqual(box.x + box.width + 1);
          expect(y * height).toBeGreaterThanOrEqual(box.y - 1);
          expect(y * height).toBeLessThanOrEqual(box.y + box.height + 1);
        },
      ),
      { numRuns: 60 },
    );
  });
});
