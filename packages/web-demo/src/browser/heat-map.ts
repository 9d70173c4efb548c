import { heatColour, heatMapPixels, strongestPlace } from '../heat-map/index.js';
import { titleCase } from '../page/index.js';
import type { CellActivation } from '../report/index.js';

/** Legend bar size in CSS pixels (the stylesheet shows it at this size). */
const [LEGEND_WIDTH, LEGEND_HEIGHT] = [120, 11];

/**
 * Lays the activation grid, bilinear-upsampled, as a translucent canvas exactly over the crop box
 * of a drawn thumbnail. Placed in percentages of the thumbnail, so it stays on the box when the
 * thumbnail is shrunk to fit a narrow screen.
 *
 * @example
 * overlayHeatMap(thumbnail, outcome.image, outcome.box, outcome.activation.grid);
 */
export function overlayHeatMap(
  thumbnail: HTMLCanvasElement,
  image: { width: number; height: number },
  box: { x: number; y: number; width: number; height: number },
  grid: number[][],
): HTMLCanvasElement {
  const overlay = document.createElement('canvas');
  overlay.className = 'heat-map';
  overlay.setAttribute('aria-hidden', 'true');
  overlay.style.left = `${(100 * box.x) / image.width}%`;
  overlay.style.top = `${(100 * box.y) / image.height}%`;
  overlay.style.width = `${(100 * box.width) / image.width}%`;
  overlay.style.height = `${(100 * box.height) / image.height}%`;

  // As many pixels as the thumbnail gives the box, so the map is as sharp as the image under it.
  overlay.width = Math.max(1, Math.round((thumbnail.width * box.width) / image.width));
  overlay.height = Math.max(1, Math.round((thumbnail.height * box.height) / image.height));
  const pixels = heatMapPixels(grid, overlay.width, overlay.height);
  overlay.getContext('2d')!.putImageData(new ImageData(pixels, overlay.width, overlay.height), 0, 0);

  thumbnail.parentElement!.querySelector('.heat-map')?.remove();
  thumbnail.after(overlay);
  return overlay;
}

/**
 * The key to a result's heat map: the colour scale, what it shows evidence for, and where the
 * strongest evidence is, in words.
 *
 * @example
 * column.append(heatMapLegend(outcome.activation));
 */
export function heatMapLegend(activation: CellActivation): HTMLElement {
  const legend = document.createElement('div');
  legend.className = 'heat-legend';

  const bar = document.createElement('canvas');
  bar.className = 'legend-bar';
  bar.setAttribute('aria-hidden', 'true');
  bar.width = LEGEND_WIDTH;
  bar.height = LEGEND_HEIGHT;
  const context = bar.getContext('2d')!;
  for (let x = 0; x < LEGEND_WIDTH; x++) {
    const [r, g, b, a] = heatColour(x / (LEGEND_WIDTH - 1));
    context.fillStyle = `rgba(${r}, ${g}, ${b}, ${a / 255})`;
    context.fillRect(x, 0, 1, LEGEND_HEIGHT);
  }

  const scale = document.createElement('p');
  scale.className = 'legend-scale';
  scale.append(text('span', 'none'), bar, text('span', 'strongest'));
  const cellType = titleCase(activation.cellType);
  const place = strongestPlace(activation.grid);
  const caption = text(
    'p',
    place
      ? `Evidence for ${cellType} inside the yellow square; strongest at ${place} of it.`
      : `No part of the yellow square gave evidence for ${cellType}.`,
  );
  legend.append(scale, caption);
  return legend;
}

function text<K extends keyof HTMLElementTagNameMap>(tag: K, content: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.textContent = content;
  return element;
}
