import { describe, expect, it } from 'vitest';

import { heatColour, heatMapPixels, strongestPlace, upsampleGrid } from './index.js';

describe('upsampleGrid', () => {
  it('puts each value at the centre of its cell and interpolates between centres', () => {
    expect(Array.from(upsampleGrid([[0, 1]], 4, 1))).toEqual([0, 0.25, 0.75, 1]);
  });

  it('keeps a grid unchanged at its own size, and rows run down the image', () => {
    const grid = [
      [0, 0.5],
      [1, 0.25],
    ];
    expect(Array.from(upsampleGrid(grid, 2, 2))).toEqual(grid.flat());
    const tall = upsampleGrid(grid, 1, 4);
    expect(tall[0]).toBeCloseTo(0.25, 6);
    expect(tall[3]).toBeCloseTo(0.625, 6);
  });

  it('stays within the grid values and gives zeros for an empty grid', () => {
    const values = upsampleGrid([[0.2, 0.9, 0.4], [0.1, 1, 0], [0.3, 0.6, 0.5]], 37, 23);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(Array.from(upsampleGrid([], 2, 2))).toEqual([0, 0, 0, 0]);
  });
});

describe('heatColour', () => {
  it('runs from a faint blue to a stronger dark red, clamping what is out of range', () => {
    const [none, strongest] = [heatColour(0), heatColour(1)];
    expect(none).toEqual([49, 54, 149, 31]);
    expect(strongest).toEqual([165, 0, 38, 158]);
    expect(heatColour(-3)).toEqual(none);
    expect(heatColour(Number.NaN)).toEqual(none);
    expect(heatColour(7)).toEqual(strongest);
    expect(heatColour(0.5)[3]).toBeGreaterThan(none[3]);
  });
});

describe('heatMapPixels', () => {
  it('gives RGBA for each pixel', () => {
    const pixels = heatMapPixels([[0, 1]], 2, 1);
    expect(Array.from(pixels)).toEqual([...heatColour(0), ...heatColour(1)]);
  });
});

describe('strongestPlace', () => {
  it('names the third of the box the strongest cell is in', () => {
    const grid = Array.from({ length: 7 }, () => new Array<number>(7).fill(0));
    grid[3]![3] = 1;
    expect(strongestPlace(grid)).toBe('the centre');
    grid[0]![6] = 2;
    expect(strongestPlace(grid)).toBe('the top right');
    grid[6]![3] = 3;
    expect(strongestPlace(grid)).toBe('the bottom');
    expect(strongestPlace([[0, 0], [0, 0]])).toBeUndefined();
  });
});
