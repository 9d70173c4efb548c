import { type Box, CAFFE_BGR_MEANS, ImageInputError, OptionError, type PixelScaling } from '@bloodcell/core';

/** Pixels as 0..255 numbers, row-major HWC: decoded bytes, or a tensor's values. */
export interface RawPixels {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: 3 | 4;
}

/**
 * Crops `box`, resizes it to size x size and scales it into `out` at `offset`, as core's
 * `cropAndResize` + `scalePixels` do on a tensor: TF's crop_and_resize with bilinear sampling at
 * corner-aligned points, then the backbone's scaling. Plain JavaScript, so an inference engine
 * outside TF.js needs no tensor round trip.
 *
 * @example
 * const input = new Float32Array(224 * 224 * 3);
 * writeBackboneInput(pixels, { x: 40, y: 20, width: 120, height: 120 }, 224, 'tf', input, 0);
 */
export function writeBackboneInput(
  image: RawPixels,
  box: Box,
  size: number,
  scaling: PixelScaling,
  out: Float32Array,
  offset: number,
): void {
  const { data, width, height, channels } = image;
  if (box.width <= 0 || box.height <= 0) {
    throw new ImageInputError('BAD_BOX', `Crop box ${JSON.stringify(box)} is empty.`);
  }

  // The box goes through a float32 tensor in TF.js; rounding it the same way keeps samples equal.
  const y1 = Math.fround(height > 1 ? box.y / (height - 1) : 0);
  const x1 = Math.fround(width > 1 ? box.x / (width - 1) : 0);
  const y2 = Math.fround(height > 1 ? (box.y + box.height - 1) / (height - 1) : 0);
  const x2 = Math.fround(width > 1 ? (box.x + box.width - 1) / (width - 1) : 0);
  const ys = samplePoints(y1, y2, height, size);
  const xs = samplePoints(x1, x2, width, size);
  const write = writer(scaling);
  const rgb = new Float64Array(3);

  let o = offset;
  for (const inY of ys) {
    const top = Math.floor(inY);
    const bottom = Math.ceil(inY);
    const yLerp = inY - top;
    for (const inX of xs) {
      // Outside the image TF.js samples 0 (its extrapolation value) before scaling.
      rgb.fill(0);
      if (!Number.isNaN(inY) && !Number.isNaN(inX)) {
        const left = Math.floor(inX);
        const right = Math.ceil(inX);
        const xLerp = inX - left;
        const tl = (top * width + left) * channels;
        const tr = (top * width + right) * channels;
        const bl = (bottom * width + left) * channels;
        const br = (bottom * width + right) * channels;
        for (let c = 0; c < 3; c++) {
          const upper = data[tl + c]! + (data[tr + c]! - data[tl + c]!) * xLerp;
          const lower = data[bl + c]! + (data[br + c]! - data[bl + c]!) * xLerp;
          rgb[c] = upper + (lower - upper) * yLerp;
        }
      }
      write(rgb, out, o);
      o += 3;
    }
  }
}

/** Source coordinates of each output row (or column); NaN where TF.js would extrapolate. */
function samplePoints(from: number, to: number, extent: number, size: number): Float64Array {
  const points = new Float64Array(size);
  const step = size > 1 ? ((to - from) * (extent - 1)) / (size - 1) : 0;
  for (let i = 0; i < size; i++) {
    const at = size > 1 ? from * (extent - 1) + i * step : 0.5 * (from + to) * (extent - 1);
    points[i] = at < 0 || at > extent - 1 ? Number.NaN : at;
  }
  return points;
}

/** Writes one sampled RGB pixel scaled for the backbone. */
function writer(scaling: PixelScaling): (rgb: Float64Array, out: Float32Array, at: number) => void {
  if (scaling === 'tf') {
    return (rgb, out, at) => {
      for (let c = 0; c < 3; c++) out[at + c] = rgb[c]! / 127.5 - 1;
    };
  }
  if (scaling === 'caffe') {
    const [b, g, r] = CAFFE_BGR_MEANS;
    return (rgb, out, at) => {
      out[at] = rgb[2]! - b;
      out[at + 1] = rgb[1]! - g;
      out[at + 2] = rgb[0]! - r;
    };
  }
  throw new OptionError('BAD_SCALING', `Unknown pixel scaling "${String(scaling)}"; valid choices: tf, caffe.`);
}
