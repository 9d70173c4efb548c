import { CELL_TYPES } from '@bloodcell/core';

import type { ModelSummary } from '../api/model.js';
import { titleCase } from '../page/index.js';
import { type CellActivation, type Differential, type ImageOutcome, isCellResult } from '../report/index.js';
import { heatMapLegend, overlayHeatMap } from './heat-map.js';

/** Widest thumbnail drawn, in CSS pixels. */
const THUMB_WIDTH = 240;

/**
 * Creates an element with a class and text; the only way this page puts data in the DOM, so no
 * file name or message is ever parsed as HTML.
 *
 * @example
 * el('p', 'hint', 'No images yet');
 */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = ''): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

/**
 * A percentage with one decimal, as shown on the page.
 *
 * @example
 * percent(0.9213); // '92.1%'
 */
export function percent(share: number | null | undefined): string {
  return typeof share === 'number' && Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : 'n/a';
}

/**
 * One result card: thumbnail with the model's crop box, prediction, review flag, probability bars.
 * The exact probabilities ride along in data-probabilities for tools and tests.
 *
 * @example
 * list.append(renderOutcome(outcome, 'server', reviewThreshold));
 */
export function renderOutcome(outcome: ImageOutcome, mode: 'server' | 'browser', reviewThreshold: number) {
  const item = el('li', 'result');
  item.dataset.file = outcome.file;
  item.dataset.mode = mode;
  const heading = el('h3', 'file-name', outcome.file);

  if (!isCellResult(outcome)) {
    item.classList.add('failed');
    item.append(heading, el('p', 'error', `Not classified: ${outcome.error.message} (${outcome.error.code})`));
    return { item, canvas: undefined };
  }

  item.dataset.cellType = outcome.cellType;
  item.dataset.probabilities = JSON.stringify(outcome.probabilities);
  item.dataset.box = JSON.stringify(outcome.box);
  const canvas = el('canvas', 'thumb');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${outcome.file}, with the square the model examined outlined`);
  const column = el('div', 'thumb-column');
  column.append(el('div', 'thumb-frame'));
  column.firstElementChild!.append(canvas);
  if (outcome.activation) {
    item.dataset.activation = JSON.stringify(outcome.activation);
    const label = `${outcome.file}, with the square the model examined outlined and its heat map`;
    canvas.setAttribute('aria-label', label);
    column.append(heatMapLegend(outcome.activation));
  }

  const details = el('div', 'details');
  const prediction = el('p', 'prediction');
  prediction.append(el('span', 'cell-type', titleCase(outcome.cellType)), ' ', el('span', 'probability', percent(outcome.probability)));
  details.append(heading, prediction);
  if (outcome.referForReview) details.append(reviewFlag(outcome.reviewReasons, reviewThreshold));
  details.append(probabilityBars(outcome.probabilities), el('p', 'hint mode', mode === 'server' ? 'Classified on the server' : 'Classified in this browser'));

  item.append(column, details);
  return { item, canvas };
}

/** Each review reason in words a person at the microscope would use. */
const REASON_TEXT: Record<string, (threshold: number) => string> = {
  'low-confidence': (threshold) => `low confidence (under ${percent(threshold)}): refer for review`,
  'unlike-training': () => 'unlike the training images: refer for review',
  'no-cell-found': () => 'no white cell found: the whole image was classified',
};

function reviewFlag(reasons: readonly string[], threshold: number): HTMLElement {
  const flag = el('div', 'review');
  const list = el('ul', 'review-reasons');
  list.setAttribute('aria-label', 'Why');
  for (const reason of reasons.length > 0 ? reasons : ['']) {
    const line = el('li', '', REASON_TEXT[reason]?.(threshold) ?? (reason || 'flagged by the model'));
    if (reason) line.dataset.reason = reason;
    list.append(line);
  }
  flag.append(el('p', 'flag review', 'Refer for review'), list);
  return flag;
}

function probabilityBars(probabilities: Record<string, number>): HTMLElement {
  const list = el('ul', 'bars');
  list.setAttribute('aria-label', 'Probability of each cell type');
  for (const cellType of CELL_TYPES) {
    const row = el('li', 'bar-row');
    const track = el('span', 'bar-track');
    track.setAttribute('aria-hidden', 'true');
    const fill = el('span', 'bar-fill');
    // CSSOM writes are allowed by the CSP; style attributes in markup would not be.
    fill.style.width = `${Math.max(0, Math.min(1, probabilities[cellType] ?? 0)) * 100}%`;
    track.append(fill);
    row.append(el('span', 'bar-label', titleCase(cellType)), track, el('span', 'bar-value', percent(probabilities[cellType])));
    list.append(row);
  }
  return list;
}

/**
 * Draws an image scaled into a result's canvas, with the model's crop box on top and, when given,
 * the activation map laid over that box.
 *
 * @example
 * drawThumbnail(canvas, bitmap, outcome.image, outcome.box, outcome.activation);
 */
export function drawThumbnail(
  canvas: HTMLCanvasElement,
  picture: CanvasImageSource | undefined,
  image: { width: number; height: number },
  box: { x: number; y: number; width: number; height: number },
  activation?: CellActivation,
): void {
  const scale = Math.min(1, THUMB_WIDTH / image.width);
  const [width, height] = [Math.round(image.width * scale), Math.round(image.height * scale)];
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  // Height follows the width, so a thumbnail shrunk to a narrow screen keeps its proportions.
  canvas.style.width = `${width}px`;

  const context = canvas.getContext('2d')!;
  context.scale(ratio, ratio);
  context.fillStyle = '#e8ebee';
  context.fillRect(0, 0, width, height);
  if (picture) context.drawImage(picture, 0, 0, width, height);
  else {
    context.fillStyle = '#3d4650';
    context.font = '14px system-ui, sans-serif';
    context.fillText('No preview for this format', 12, height / 2);
  }

  const [x, y, w, h] = [box.x * scale, box.y * scale, box.width * scale, box.height * scale];
  // A dark halo under a bright line stays visible on pale backgrounds and on dark stain alike.
  context.lineWidth = 4;
  context.strokeStyle = 'rgba(0, 0, 0, 0.7)';
  context.strokeRect(x, y, w, h);
  context.lineWidth = 2;
  context.strokeStyle = '#ffd400';
  context.strokeRect(x, y, w, h);
  if (activation) overlayHeatMap(canvas, image, box, activation.grid);
}

/**
 * Fills the differential table and its notes.
 *
 * @example
 * renderDifferential(document.getElementById('summary')!, differential(outcomes));
 */
export function renderDifferential(section: HTMLElement, summary: Differential): void {
  section.hidden = summary.classified + summary.failed === 0;
  for (const cellType of CELL_TYPES) {
    const row = section.querySelector(`tr[data-cell-type="${cellType}"]`);
    row!.querySelector('.count')!.textContent = String(summary.counts[cellType]);
    row!.querySelector('.percent')!.textContent = `${summary.percent[cellType].toFixed(1)}%`;
  }
  const images = summary.classified === 1 ? 'image' : 'images';
  section.querySelector('caption')!.textContent = `Over ${summary.classified} classified ${images}`;
  const notes = [`${summary.referForReview} referred for review`];
  if (summary.failed > 0) notes.push(`${summary.failed} could not be classified`);
  section.querySelector('#summary-notes')!.textContent = notes.join(' · ');
}

/**
 * Shows the model's validation figures, so a user can judge how far to trust a result.
 *
 * @example
 * renderModelInfo(document.getElementById('model-info')!, await fetchModelSummary());
 */
export function renderModelInfo(container: HTMLElement, model: ModelSummary): void {
  const { validation, training, calibration } = model;
  const figures = el('dl', 'figures');
  const figure = (label: string, value: string) => {
    const group = el('div', 'figure');
    group.append(el('dt', '', label), el('dd', '', value));
    figures.append(group);
  };
  figure('Balanced accuracy', percent(validation.balancedAccuracy));
  figure('Accuracy', percent(validation.accuracy));
  figure('Macro F1', percent(validation.macroF1));
  if (validation.expectedCalibrationError !== undefined) {
    figure('Calibration error (ECE)', percent(validation.expectedCalibrationError));
  }
  figure('Review threshold', percent(calibration.reviewThreshold));
  figure('Unusual-image check', calibration.outlierThreshold === null ? 'off' : 'on');

  const table = el('table', 'per-type');
  table.append(el('caption', '', 'Per cell type, on validation images'));
  const head = el('tr');
  ['Cell type', 'Recall', 'Precision'].forEach((title) => {
    const th = el('th', '', title);
    th.scope = 'col';
    head.append(th);
  });
  table.append(el('thead'), el('tbody'));
  table.tHead!.append(head);
  for (const cellType of CELL_TYPES) {
    const row = el('tr');
    const th = el('th', '', titleCase(cellType));
    th.scope = 'row';
    row.append(th, el('td', '', percent(validation.recall[cellType])), el('td', '', percent(validation.precision[cellType])));
    table.tBodies[0]!.append(row);
  }

  const note = el(
    'p',
    'hint',
    `Measured on ${validation.images} validation images from ${training.validationGroups} microscope fields ` +
      `held out of training (${training.trainImages} training images). Model trained with bloodcell ` +
      `${model.version} on ${training.createdAt.slice(0, 10)}.`,
  );
  container.replaceChildren(figures, table, note);
}
