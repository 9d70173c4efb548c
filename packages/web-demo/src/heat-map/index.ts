/** Heat map colours from blue (no evidence) to dark red (strongest); safe for red-green colour blindness. */
const STOPS: readonly (readonly [number, number, number])[] = [
  [49, 54, 149],
  [69, 117, 180],
  [254, 224, 144],
  [244, 109, 67],
  [165, 0, 38],
];

/** An activation grid, rows top to bottom, columns left to right. */
export type Grid = readonly (readonly number[])[];

/** Opacity of the weakest and the strongest evidence: the stain stays visible under both. */
const [MIN_ALPHA, MAX_ALPHA] = [0.12, 0.62];

/**
 * Bilinear upsampling of an activation grid to `width` x `height` pixels, row-major. Each grid
 * cell's value sits at the centre of the area it covers, and the edges are held, as a feature map
 * cell describes the middle of its part of the crop.
 *
 * @example
 * upsampleGrid([[0, 1]], 4, 1); // [0, 0.25, 0.75, 1]
 */
export function upsampleGrid(grid: Grid, width: number, height: number): Float32Array {
  const rows = grid.length;
  const columns = grid[0]?.length ?? 0;
  const out = new Float32Array(width * height);
  if (rows === 0 || columns === 0) return out;

  for (let py = 0; py < height; py++) {
    const [r0, r1, fy] = sourceOf(py, height, rows);
    for (let px = 0; px < width; px++) {
      const [c0, c1, fx] = sourceOf(px, width, columns);
      const top = grid[r0]![c0]! * (1 - fx) + grid[r0]![c1]! * fx;
      const bottom = grid[r1]![c0]! * (1 - fx) + grid[r1]![c1]! * fx;
      out[py * width + px] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** The two source cells either side of an output pixel's centre and the weight of the second. */
function sourceOf(pixel: number, pixels: number, cells: number): [number, number, number] {
  const at = Math.min(cells - 1, Math.max(0, ((pixel + 0.5) * cells) / pixels - 0.5));
  const first = Math.floor(at);
  return [first, Math.min(cells - 1, first + 1), at - first];
}

/**
 * The heat map's colour for an evidence value in [0, 1], as RGBA with alpha 0..255.
 *
 * @example
 * heatColour(1); // [165, 0, 38, 158]: dark red, most opaque
 */
export function heatColour(value: number): [number, number, number, number] {
  const v = Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0));
  const at = v * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(at));
  const f = at - i;
  const [from, to] = [STOPS[i]!, STOPS[i + 1]!];
  const mix = (k: number) => Math.round(from[k]! + (to[k]! - from[k]!) * f);
  return [mix(0), mix(1), mix(2), Math.round(255 * (MIN_ALPHA + (MAX_ALPHA - MIN_ALPHA) * v))];
}

/**
 * RGBA pixels of the heat map of a grid at `width` x `height`, ready for `new ImageData`.
 *
 * @example
 * context.putImageData(new ImageData(heatMapPixels(grid, 120, 120), 120, 120), 0, 0);
 */
export function heatMapPixels(grid: Grid, width: number, height: number): Uint8ClampedArray<ArrayBuffer> {
  const values = upsampleGrid(grid, width, height);
  const pixels = new Uint8ClampedArray(width * height * 4);
  values.forEach((value, i) => pixels.set(heatColour(value), i * 4));
  return pixels;
}

/**
 * Where in the crop box the strongest evidence lies, in words, for people who cannot see the map;
 * undefined when no cell holds any evidence for the cell type (every term was negative).
 *
 * @example
 * strongestPlace([[0, 0, 0], [0, 1, 0], [0, 0, 0]]); // 'the centre'
 */
export function strongestPlace(grid: Grid): string | undefined {
  let [bestRow, bestColumn, best] = [0, 0, -Infinity];
  grid.forEach((row, r) =>
    row.forEach((value, c) => {
      if (value > best) [bestRow, bestColumn, best] = [r, c, value];
    }),
  );
  if (!(best > 0)) return undefined;
  const third = (index: number, count: number) => Math.min(2, Math.floor((3 * index) / Math.max(1, count)));
  const vertical = ['top', '', 'bottom'][third(bestRow, grid.length)]!;
  const horizontal = ['left', '', 'right'][third(bestColumn, grid[0]?.length ?? 0)]!;
  const place = [vertical, horizontal].filter(Boolean).join(' ');
  return place ? `the ${place}` : 'the centre';
}
