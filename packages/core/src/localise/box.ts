/** A rectangle in an image's own pixels: integers, `x`/`y` its top-left corner. */
export interface CellBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The square of side `side` centred on (`centreX`, `centreY`), rounded to whole pixels. It may
 * reach past the image's edges; `fitSquare` brings it inside.
 *
 * @example
 * squareAround(10, 10, 8); // { x: 6, y: 6, width: 8, height: 8 }
 */
export function squareAround(centreX: number, centreY: number, side: number): CellBox {
  const size = Math.max(1, Math.round(side));
  return {
    x: Math.round(centreX - size / 2),
    y: Math.round(centreY - size / 2),
    width: size,
    height: size,
  };
}

/**
 * Brings a square inside a `width` x `height` image. A square that fits is shifted inside whole
 * (the crop stays square and keeps all of the cell that the image shows, off-centre); one larger
 * than the image's shorter side is first shrunk to that side, about its centre.
 *
 * @example
 * fitSquare({ x: -10, y: 5, width: 50, height: 50 }, 320, 240);
 * // { x: 0, y: 5, width: 50, height: 50 }
 */
export function fitSquare(square: CellBox, width: number, height: number): CellBox {
  const size = Math.min(square.width, width, height);
  const shrink = (square.width - size) / 2;
  const x = Math.round(square.x + shrink);
  const y = Math.round(square.y + shrink);
  return {
    x: Math.min(Math.max(0, x), width - size),
    y: Math.min(Math.max(0, y), height - size),
    width: size,
    height: size,
  };
}

/**
 * Whether `outer` contains `inner`, allowing `tolerance` pixels on every side.
 *
 * @example
 * const frame = { x: 0, y: 0, width: 10, height: 10 };
 * boxContains(frame, { x: 2, y: 2, width: 9, height: 5 }, 1); // true
 */
export function boxContains(outer: CellBox, inner: CellBox, tolerance = 0): boolean {
  return (
    inner.x >= outer.x - tolerance &&
    inner.y >= outer.y - tolerance &&
    inner.x + inner.width <= outer.x + outer.width + tolerance &&
    inner.y + inner.height <= outer.y + outer.height + tolerance
  );
}
