/** A connected region of a mask, in grid cells; `x1`/`y1` are exclusive. */
export interface Component {
  label: number;
  area: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Grows (`grow` true) or shrinks a 0/1 mask by a square of side 2 * radius + 1, as two
 * separable passes so the cost does not depend on the radius squared.
 *
 * @example
 * const thicker = morph(mask, 160, 120, 1, true);
 */
export function morph(
  mask: Uint8Array,
  width: number,
  height: number,
  radius: number,
  grow: boolean,
): Uint8Array {
  if (radius < 1) return mask.slice();
  const hit = grow ? 1 : 0;
  const rows = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let value = 1 - hit;
      for (let dx = -radius; dx <= radius && value !== hit; dx++) {
        // Outside the image counts as foreground when shrinking, so cells at the edge survive.
        const nx = Math.min(width - 1, Math.max(0, x + dx));
        if (mask[y * width + nx] === hit) value = hit;
      }
      rows[y * width + x] = value;
    }
  }

  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let value = 1 - hit;
      for (let dy = -radius; dy <= radius && value !== hit; dy++) {
        const ny = Math.min(height - 1, Math.max(0, y + dy));
        if (rows[ny * width + x] === hit) value = hit;
      }
      out[y * width + x] = value;
    }
  }
  return out;
}

/**
 * Morphological closing: bridges gaps narrower than about 2 * radius (between the lobes of a
 * segmented nucleus) and fills small holes, without growing the outline.
 *
 * @example
 * const nucleus = closeMask(mask, 160, 120, 1);
 */
export function closeMask(mask: Uint8Array, width: number, height: number, radius: number) {
  return morph(morph(mask, width, height, radius, true), width, height, radius, false);
}

/**
 * Labels the 8-connected regions of a mask; `labels` holds 0 for background, else label + 1.
 *
 * @example
 * const { components } = labelComponents(mask, 160, 120);
 * components.sort((a, b) => b.area - a.area)[0]; // the largest region
 */
export function labelComponents(
  mask: Uint8Array,
  width: number,
  height: number,
): { labels: Int32Array; components: Component[] } {
  const labels = new Int32Array(mask.length);
  const components: Component[] = [];
  const stack = new Int32Array(mask.length);

  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const label = components.length;
    const region: Component = { label, area: 0, x0: width, y0: height, x1: 0, y1: 0 };
    let top = 0;
    stack[top++] = start;
    labels[start] = label + 1;

    while (top > 0) {
      const at = stack[--top]!;
      const x = at % width;
      const y = (at - x) / width;
      region.area++;
      region.x0 = Math.min(region.x0, x);
      region.y0 = Math.min(region.y0, y);
      region.x1 = Math.max(region.x1, x + 1);
      region.y1 = Math.max(region.y1, y + 1);
      for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
          const next = ny * width + nx;
          if (mask[next] === 1 && labels[next] === 0) {
            labels[next] = label + 1;
            stack[top++] = next;
          }
        }
      }
    }
    components.push(region);
  }

  return { labels, components };
}

/**
 * The gap, in grid cells, between two boxes (0 when they touch or overlap).
 *
 * @example
 * boxGap({ x0: 0, y0: 0, x1: 2, y1: 2 }, { x0: 5, y0: 0, x1: 6, y1: 2 }); // 3
 */
export function boxGap(
  a: Pick<Component, 'x0' | 'y0' | 'x1' | 'y1'>,
  b: Pick<Component, 'x0' | 'y0' | 'x1' | 'y1'>,
): number {
  const gapX = Math.max(0, Math.max(a.x0, b.x0) - Math.min(a.x1, b.x1));
  const gapY = Math.max(0, Math.max(a.y0, b.y0) - Math.min(a.y1, b.y1));
  return Math.hypot(gapX, gapY);
}

/**
 * Geodesic growth: spreads `seed` through cells where `allowed` is 1, one ring per step, for at
 * most `steps` steps. Bounded so that pale cytoplasm is followed but stain that touches the
 * cell (erythrocyte rims) cannot carry the region across the field.
 *
 * @example
 * const cell = growWithin(nucleus, cytoplasmMask, 160, 120, 8);
 */
export function growWithin(
  seed: Uint8Array,
  allowed: Uint8Array,
  width: number,
  height: number,
  steps: number,
): Uint8Array {
  const region = seed.slice();
  let frontier: number[] = [];
  for (let i = 0; i < region.length; i++) if (region[i] === 1) frontier.push(i);

  for (let step = 0; step < steps && frontier.length > 0; step++) {
    const next: number[] = [];
    for (const at of frontier) {
      const x = at % width;
      const y = (at - x) / width;
      for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
          const cell = ny * width + nx;
          if (region[cell] === 0 && allowed[cell] === 1) {
            region[cell] = 1;
            next.push(cell);
          }
        }
      }
    }
    frontier = next;
  }
  return region;
}
