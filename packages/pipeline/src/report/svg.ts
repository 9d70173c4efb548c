import { CELL_TYPES, type ConfusionMatrix } from '@bloodcell/core';

import type { ReliabilityBin } from '../evaluate/metrics.js';

/**
 * Escapes text for HTML and SVG.
 *
 * @example
 * escapeHtml('<a & b>'); // '&lt;a &amp; b&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * The confusion matrix as an SVG heatmap: each cell shaded by its share of the true class's row,
 * blue on the diagonal (right) and red off it (wrong), with the count and share written in.
 *
 * @example
 * const svg = confusionMatrixSvg([[5, 1, 0, 0], [0, 6, 0, 0], [0, 0, 4, 2], [0, 0, 1, 5]]);
 */
export function confusionMatrixSvg(matrix: ConfusionMatrix): string {
  const cell = 84;
  const left = 118;
  const top = 64;
  const size = left + cell * CELL_TYPES.length + 12;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${top + cell * CELL_TYPES.length + 8}" role="img" aria-label="Confusion matrix">`,
    `<text x="${left + (cell * CELL_TYPES.length) / 2}" y="16" text-anchor="middle" class="axis">predicted</text>`,
  ];
  CELL_TYPES.forEach((name, j) => {
    parts.push(
      `<text x="${left + cell * j + cell / 2}" y="${top - 10}" text-anchor="middle" class="tick">${name}</text>`,
    );
  });
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const y = top + cell * i;
    parts.push(
      `<text x="${left - 8}" y="${y + cell / 2 + 4}" text-anchor="end" class="tick">${CELL_TYPES[i]}</text>`,
    );
    row.forEach((count, j) => {
      const share = total === 0 ? 0 : count / total;
      const fill =
        i === j
          ? `rgba(37, 99, 235, ${(0.08 + 0.9 * share).toFixed(3)})`
          : `rgba(220, 38, 38, ${(share === 0 ? 0.03 : 0.12 + 0.88 * share).toFixed(3)})`;
      const ink = share > 0.55 ? '#fff' : '#111';
      const x = left + cell * j;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell - 2}" height="${cell - 2}" fill="${fill}"><title>true ${CELL_TYPES[i]}, predicted ${CELL_TYPES[j]}: ${count}</title></rect>`,
        `<text x="${x + cell / 2}" y="${y + cell / 2 - 2}" text-anchor="middle" class="count" fill="${ink}">${count}</text>`,
        `<text x="${x + cell / 2}" y="${y + cell / 2 + 16}" text-anchor="middle" class="share" fill="${ink}">${(share * 100).toFixed(1)}%</text>`,
      );
    });
  });
  parts.push(
    `<text x="14" y="${top + (cell * CELL_TYPES.length) / 2}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${top + (cell * CELL_TYPES.length) / 2})">true</text>`,
    '</svg>',
  );
  return parts.join('');
}

/**
 * A reliability diagram: accuracy against confidence per bin, after temperature as bars and
 * before it as a line, with the diagonal a perfectly calibrated model follows.
 *
 * @example
 * const svg = reliabilitySvg(card.calibration.reliabilityBefore, card.calibration.reliabilityAfter);
 */
export function reliabilitySvg(
  before: readonly ReliabilityBin[],
  after: readonly ReliabilityBin[],
): string {
  const width = 420;
  const height = 340;
  const pad = { left: 52, right: 16, top: 16, bottom: 48 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (v: number) => pad.left + v * plotW;
  const y = (v: number) => pad.top + (1 - v) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="Reliability diagram">`,
    `<rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>`,
  ];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${x(0)}" x2="${x(1)}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e5e5e5"/>`,
      `<text x="${pad.left - 6}" y="${y(tick) + 4}" text-anchor="end" class="tick">${tick}</text>`,
      `<text x="${x(tick)}" y="${height - pad.bottom + 16}" text-anchor="middle" class="tick">${tick}</text>`,
    );
  }
  for (const bin of after) {
    if (bin.images === 0) continue;
    const w = (bin.high - bin.low) * plotW;
    parts.push(
      `<rect x="${x(bin.low) + 1}" y="${y(bin.accuracy)}" width="${w - 2}" height="${y(0) - y(bin.accuracy)}" fill="rgba(37, 99, 235, 0.55)">` +
        `<title>${bin.low.toFixed(2)}–${bin.high.toFixed(2)}: ${bin.images} images, accuracy ${bin.accuracy.toFixed(3)}, confidence ${bin.confidence.toFixed(3)}</title></rect>`,
    );
  }
  parts.push(
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#555" stroke-dasharray="5 4"/>`,
  );
  const points = before
    .filter((bin) => bin.images > 0)
    .map((bin) => `${x(bin.confidence).toFixed(1)},${y(bin.accuracy).toFixed(1)}`);
  if (points.length > 0) {
    parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="#dc2626" stroke-width="2"/>`);
    for (const point of points) {
      const [cx, cy] = point.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="#dc2626"/>`);
    }
  }
  parts.push(
    `<text x="${pad.left + plotW / 2}" y="${height - 10}" text-anchor="middle" class="axis">confidence (top probability)</text>`,
    `<text x="14" y="${pad.top + plotH / 2}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${pad.top + plotH / 2})">accuracy</text>`,
    `<rect x="${pad.left + 10}" y="${pad.top + 10}" width="12" height="12" fill="rgba(37, 99, 235, 0.55)"/>`,
    `<text x="${pad.left + 28}" y="${pad.top + 20}" class="tick">after temperature</text>`,
    `<line x1="${pad.left + 10}" x2="${pad.left + 22}" y1="${pad.top + 36}" y2="${pad.top + 36}" stroke="#dc2626" stroke-width="2"/>`,
    `<text x="${pad.left + 28}" y="${pad.top + 40}" class="tick">before temperature</text>`,
    '</svg>',
  );
  return parts.join('');
}
