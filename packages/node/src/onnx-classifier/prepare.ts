import {
  type Box,
  CAFFE_BGR_MEANS,
  type CropView,
  ImageInputError,
  OptionError,
  type PixelScaling,
  applyCropViewToPixels,
  zoomBox,
} from '@bloodcell/core';

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
 * corner-aligned points, then the backbone's scaling. With a training `view`, the crop is taken
 * through it first, as core's `FeatureExtractor.input` does. Plain JavaScript, so an inference
 * engine outside TF.js needs no tensor round trip.
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
  view?: CropView,
): void {
  const scale = scaleMap(scaling);
  const region = view?.zoom ? zoomBox(box, view.zoom, image.width, image.height) : box;
  if (!view || (!view.stain && !view.mirror && !view.quarterTurns)) {
    writeCrop(image, region, size, scale, out, offset);
    return;
  }

  // Stain shifts work on 0..255 colours: crop unscaled, apply the view, then scale.
  const raw = new Float32Array(size * size * 3);
  writeCrop(image, region, size, UNSCALED, raw, 0);
  const viewed = applyCropViewToPixels(raw, size, view);
  const { multiplier, addend, source } = scale;
  for (let p = 0, o = offset; p < viewed.length; p += 3, o += 3) {
    out[o] = viewed[p + source[0]!]! * multiplier + addend[0]!;
    out[o + 1] = viewed[p + source[1]!]! * multiplier + addend[1]!;
    out[o + 2] = viewed[p + source[2]!]! * multiplier + addend[2]!;
  }
}

/** How sampled channels become backbone inputs: out[c] = sample[source[c]] * multiplier + addend[c]. */
interface ScaleMap {
  multiplier: number;
  addend: readonly number[];
  source: readonly number[];
}

const UNSCALED: ScaleMap = { multiplier: 1, addend: [0, 0, 0], source: [0, 1, 2] };

function writeCrop(image: RawPixels, box: Box, size: number, scale: ScaleMap, out: Float32Array, offset: number): void {
  const { data, width, height, channels } = image;
  if (box.width <= 0 || box.height <= 0) {
    throw new ImageInputError('BAD_BOX', `Crop box ${JSON.stringify(box)} is empty.`);
  }

  // As TF.js's cpu kernel: corners rounded to float32 (they pass through a tensor), positions in
  // float64. Float32 backends sample a far edge 2^-20 inside instead (core's insideFarEdge).
  const y1 = Math.fround(height > 1 ? box.y / (height - 1) : 0);
  const x1 = Math.fround(width > 1 ? box.x / (width - 1) : 0);
  const y2 = Math.fround(height > 1 ? (box.y + box.height - 1) / (height - 1) : 0);
  const x2 = Math.fround(width > 1 ? (box.x + box.width - 1) / (width - 1) : 0);
  const ys = samplePoints(y1, y2, height, size);
  const xs = samplePoints(x1, x2, width, size);
  const { multiplier, addend, source } = scale;

  // Column offsets and weights are the same on every row: computed once.
  const left = new Int32Array(size);
  const right = new Int32Array(size);
  const xLerp = new Float64Array(size);
  xs.forEach((inX, x) => {
    left[x] = Math.floor(inX) * channels;
    right[x] = Math.ceil(inX) * channels;
    xLerp[x] = inX - Math.floor(inX);
  });

  const [s0, s1, s2] = source as [number, number, number];
  const [a0, a1, a2] = addend as [number, number, number];
  let o = offset;
  for (const inY of ys) {
    const top = Math.floor(inY) * width * channels;
    const bottom = Math.ceil(inY) * width * channels;
    const yLerp = inY - Math.floor(inY);
    for (let x = 0; x < size; x++, o += 3) {
      if (Number.isNaN(inY) || Number.isNaN(xs[x]!)) {
        // Outside the image TF.js samples 0 (its extrapolation value) before scaling.
        out[o] = a0;
        out[o + 1] = a1;
        out[o + 2] = a2;
        continue;
      }
      const t = xLerp[x]!;
      const tl = top + left[x]!;
      const tr = top + right[x]!;
      const bl = bottom + left[x]!;
      const br = bottom + right[x]!;
      // Unrolled over the three channels: this loop runs 50,176 times per 224x224 image.
      out[o] = bilinear(data, tl + s0, tr + s0, bl + s0, br + s0, t, yLerp) * multiplier + a0;
      out[o + 1] = bilinear(data, tl + s1, tr + s1, bl + s1, br + s1, t, yLerp) * multiplier + a1;
      out[o + 2] = bilinear(data, tl + s2, tr + s2, bl + s2, br + s2, t, yLerp) * multiplier + a2;
    }
  }
}

/** TF's bilinear sample: along x on the upper and lower rows, then along y. */
function bilinear(data: ArrayLike<number>, tl: number, tr: number, bl: number, br: number, xLerp: number, yLerp: number): number {
  const upper = data[tl]! + (data[tr]! - data[tl]!) * xLerp;
  const lower = data[bl]! + (data[br]! - data[bl]!) * xLerp;
  return upper + (lower - upper) * yLerp;
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

function scaleMap(scaling: PixelScaling): ScaleMap {
  // tf: [-1, 1]; caffe: RGB to BGR minus the ImageNet means.
  if (scaling === 'tf') return { multiplier: 1 / 127.5, addend: [-1, -1, -1], source: [0, 1, 2] };
  if (scaling === 'caffe') return { multiplier: 1, addend: CAFFE_BGR_MEANS.map((mean) => -mean), source: [2, 1, 0] };
  throw new OptionError('BAD_SCALING', `Unknown pixel scaling "${String(scaling)}"; valid choices: tf, caffe.`);
}
