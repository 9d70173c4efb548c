import { describe, expect, it } from 'vitest';

import { ImageInputError, OptionError } from '../errors.js';
import { fitSquare } from './box.js';
import { closeMask, growWithin, labelComponents } from './components.js';
import {
  type CellBox,
  type SmearImage,
  DEFAULT_LOCALISE_OPTIONS,
  boxContains,
  locateCell,
  localiseOptions,
} from './index.js';

type Rgb = readonly [number, number, number];

const BACKGROUND: Rgb = [214, 212, 204];
const ERYTHROCYTE: Rgb = [200, 158, 165];
const NUCLEUS: Rgb = [150, 108, 226];
const CYTOPLASM: Rgb = [196, 172, 206];

interface Disc {
  x: number;
  y: number;
  radius: number;
  colour: Rgb;
}

/** A synthetic smear: discs painted in order over a pale background. */
function smear(discs: Disc[], width = 320, height = 240, background: Rgb = BACKGROUND): SmearImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let colour = background;
      for (const disc of discs) {
        if ((x - disc.x) ** 2 + (y - disc.y) ** 2 <= disc.radius ** 2) colour = disc.colour;
      }
      data.set(colour, (y * width + x) * 3);
    }
  }
  return { data, width, height };
}

/** A white cell: a cytoplasm disc with a nucleus disc inside, plus a few erythrocytes around. */
function cellOnSmear(x: number, y: number, nucleusRadius = 22, cellRadius = 34): SmearImage {
  return smear([
    { x: 40, y: 40, radius: 20, colour: ERYTHROCYTE },
    { x: 280, y: 200, radius: 20, colour: ERYTHROCYTE },
    { x: 270, y: 40, radius: 20, colour: ERYTHROCYTE },
    { x, y, radius: cellRadius, colour: CYTOPLASM },
    { x, y, radius: nucleusRadius, colour: NUCLEUS },
  ]);
}

function discBox(x: number, y: number, radius: number, width = 320, height = 240): CellBox {
  const x0 = Math.max(0, x - radius);
  const y0 = Math.max(0, y - radius);
  return {
    x: x0,
    y: y0,
    width: Math.min(width, x + radius + 1) - x0,
    height: Math.min(height, y + radius + 1) - y0,
  };
}

function expectInside(box: CellBox, width = 320, height = 240): void {
  expect(Number.isInteger(box.x) && Number.isInteger(box.y)).toBe(true);
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.y).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(width);
  expect(box.y + box.height).toBeLessThanOrEqual(height);
}

describe('locateCell on synthetic smears', () => {
  it('boxes a violet cell on a pink and pale field, nucleus and cytoplasm', () => {
    const location = locateCell(cellOnSmear(150, 110));

    expect(location.found).toBe(true);
    expect(location.box.width).toBe(location.box.height);
    expectInside(location.box);
    expect(boxContains(location.box, discBox(150, 110, 34))).toBe(true);
    expect(location.box.width * location.box.height).toBeLessThan(6 * 69 * 69);
    expect(boxContains(location.nucleusBox, discBox(150, 110, 22), 2)).toBe(true);
    expect(location.nucleusArea).toBeGreaterThan(0.8 * Math.PI * 22 * 22);
    expect(location.nucleusArea).toBeLessThan(1.3 * Math.PI * 22 * 22);
  });

  it('shifts the square inside the image for a cell at the edge', () => {
    const location = locateCell(cellOnSmear(8, 230));

    expect(location.found).toBe(true);
    expectInside(location.box);
    expect(location.box.width).toBe(location.box.height);
    expect(location.box).toMatchObject({ x: 0, y: 240 - location.box.width });
    expect(boxContains(location.box, discBox(8, 230, 34))).toBe(true);
    expect(location.square.x).toBeLessThan(0);
  });

  it('returns the whole frame, not found, for a blank field', () => {
    const location = locateCell(smear([]));

    expect(location.found).toBe(false);
    expect(location.box).toEqual({ x: 0, y: 0, width: 320, height: 240 });
    expect(location.nucleusArea).toBe(0);
  });

  it('finds nothing among erythrocytes alone', () => {
    const location = locateCell(smear([
      { x: 60, y: 60, radius: 20, colour: ERYTHROCYTE },
      { x: 160, y: 120, radius: 20, colour: ERYTHROCYTE },
    ]));

    expect(location.found).toBe(false);
  });

  it('reads RGBA input like RGB', () => {
    const rgb = cellOnSmear(200, 90);
    const rgba = new Uint8ClampedArray(320 * 240 * 4);
    for (let i = 0; i < 320 * 240; i++) {
      rgba.set(rgb.data.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = 255;
    }

    const fromRgba = locateCell({ data: rgba, width: 320, height: 240, channels: 4 });
    const inferred = locateCell({ data: rgba, width: 320, height: 240 });

    expect(fromRgba).toEqual(locateCell(rgb));
    expect(inferred).toEqual(fromRgba);
  });

  it('prefers the largest nucleus and leaves a distant platelet out', () => {
    const image = smear([
      { x: 40, y: 200, radius: 4, colour: NUCLEUS },
      { x: 200, y: 100, radius: 34, colour: CYTOPLASM },
      { x: 200, y: 100, radius: 22, colour: NUCLEUS },
    ]);

    const location = locateCell(image);

    expect(boxContains(location.box, discBox(200, 100, 34))).toBe(true);
    expect(boxContains(location.box, discBox(40, 200, 4))).toBe(false);
  });

  it('joins the lobes of a segmented nucleus', () => {
    const image = smear([
      { x: 160, y: 120, radius: 40, colour: CYTOPLASM },
      { x: 140, y: 110, radius: 11, colour: NUCLEUS },
      { x: 168, y: 104, radius: 11, colour: NUCLEUS },
      { x: 170, y: 135, radius: 11, colour: NUCLEUS },
    ]);

    const location = locateCell(image);

    const lobes = { x: 129, y: 93, width: 53, height: 54 };
    expect(boxContains(location.nucleusBox, lobes, 2)).toBe(true);
    expect(boxContains(location.box, discBox(160, 120, 40))).toBe(true);
  });

  it('ignores the black corners of a rotated field', () => {
    const image = cellOnSmear(160, 120);
    for (let y = 0; y < 60; y++) {
      for (let x = 0; x < 60 - y; x++) image.data.fill(0, (y * 320 + x) * 3, (y * 320 + x) * 3 + 3);
    }

    expect(locateCell(image).found).toBe(true);
    expect(locateCell(smear([], 320, 240, [0, 0, 0])).found).toBe(false);
  });

  it('adapts to a paler stain', () => {
    const pale = smear([
      { x: 100, y: 140, radius: 30, colour: [205, 190, 212] },
      { x: 100, y: 140, radius: 18, colour: [180, 150, 214] },
    ]);

    const location = locateCell(pale);

    expect(location.found).toBe(true);
    expect(boxContains(location.box, discBox(100, 140, 18))).toBe(true);
  });

  it('handles odd sizes and a box that would exceed the shorter side', () => {
    const image = smear([{ x: 60, y: 30, radius: 26, colour: NUCLEUS }], 121, 61);

    const location = locateCell(image);

    expect(location.found).toBe(true);
    expectInside(location.box, 121, 61);
    expect(location.box.width).toBe(61);
  });
});

describe('localise options and input checks', () => {
  it('records every threshold in one frozen object', () => {
    expect(Object.isFrozen(DEFAULT_LOCALISE_OPTIONS)).toBe(true);
    expect(localiseOptions()).toEqual(DEFAULT_LOCALISE_OPTIONS);
    expect(localiseOptions({ nucleusLevel: 0.4 }).nucleusLevel).toBe(0.4);
  });

  it('rejects unknown and out-of-range options by name', () => {
    const unknown = { nucleusLevl: 0.4 } as unknown as Parameters<typeof localiseOptions>[0];
    expect(() => localiseOptions(unknown)).toThrow(OptionError);
    expect(() => localiseOptions(unknown)).toThrow(/nucleusLevel/);
    expect(() => localiseOptions({ padding: -1 })).toThrow(/padding/);
    expect(() => localiseOptions({ highQuantile: 2 })).toThrow(OptionError);
  });

  it('rejects pixels that do not match the size', () => {
    const bad = { data: new Uint8Array(10), width: 320, height: 240 };
    expect(() => locateCell(bad)).toThrow(ImageInputError);
    expect(() => locateCell({ data: new Uint8Array(3), width: 0, height: 1 })).toThrow(/size/);
  });
});

describe('localise building blocks', () => {
  it('fits a square inside the image by shifting, or shrinks it to the shorter side', () => {
    expect(fitSquare({ x: -10, y: 200, width: 60, height: 60 }, 320, 240)).toEqual({
      x: 0,
      y: 180,
      width: 60,
      height: 60,
    });
    expect(fitSquare({ x: 20, y: -30, width: 300, height: 300 }, 320, 240)).toEqual({
      x: 50,
      y: 0,
      width: 240,
      height: 240,
    });
  });

  it('closes a one-cell gap and labels 8-connected regions', () => {
    const mask = new Uint8Array(12 * 8);
    for (const x of [2, 3, 5, 6]) for (const y of [2, 3, 4]) mask[y * 12 + x] = 1;
    mask[5 * 12 + 9] = 1;
    expect(labelComponents(mask, 12, 8).components.map((c) => c.area)).toEqual([6, 6, 1]);

    const closed = closeMask(mask, 12, 8, 1);
    expect(labelComponents(closed, 12, 8).components.map((c) => c.area)).toEqual([15, 1]);
  });

  it('grows a seed only through allowed cells and only so far', () => {
    const seed = Uint8Array.from([1, 0, 0, 0, 0]);
    const allowed = Uint8Array.from([1, 1, 1, 0, 1]);
    expect([...growWithin(seed, allowed, 5, 1, 10)]).toEqual([1, 1, 1, 0, 0]);
    expect([...growWithin(seed, allowed, 5, 1, 1)]).toEqual([1, 1, 0, 0, 0]);
  });
});
