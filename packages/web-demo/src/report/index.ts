import { CELL_TYPES, type CellType, type ClassifyResult } from '@bloodcell/core';

/** The pixel size and container format of an uploaded image, so a box can be drawn on it. */
export interface ImageInfo {
  width: number;
  height: number;
  format: string;
}

/** Where in the crop box the model found evidence for `cellType` (see explainClassification). */
export interface CellActivation {
  cellType: CellType;
  /** Rows x columns over the crop box (7x7 for MobileNetV2), each in [0, 1], the strongest 1. */
  grid: number[][];
}

/** One classified image, as the API returns it and the page shows it. */
export interface CellResult extends ClassifyResult {
  file: string;
  image: ImageInfo;
  /** Only when asked for (`?explain=1`, or the page's "show what the model looked at"). */
  activation?: CellActivation;
}

/** One image that could not be classified, with a stable error code. */
export interface FailedImage {
  file: string;
  error: { code: string; message: string };
}

export type ImageOutcome = CellResult | FailedImage;

/** Counts and shares of each cell type over the images that were classified. */
export interface Differential {
  classified: number;
  failed: number;
  referForReview: number;
  counts: Record<CellType, number>;
  /** Share of the classified images, 0..100; all zero when none were classified. */
  percent: Record<CellType, number>;
}

/**
 * Tells a classified image from a failed one.
 *
 * @example
 * const classified = outcomes.filter(isCellResult);
 */
export function isCellResult(outcome: ImageOutcome): outcome is CellResult {
  return !('error' in outcome);
}

/**
 * The differential count of a batch of smear images: how many of each white cell type.
 *
 * @example
 * const { counts, percent } = differential(results);
 * console.log(`${counts.NEUTROPHIL} neutrophils (${percent.NEUTROPHIL.toFixed(1)}%)`);
 */
export function differential(outcomes: readonly ImageOutcome[]): Differential {
  const classified = outcomes.filter(isCellResult);
  const counts = Object.fromEntries(CELL_TYPES.map((cellType) => [cellType, 0])) as Record<CellType, number>;
  classified.forEach((result) => (counts[result.cellType] += 1));

  const percent = Object.fromEntries(
    CELL_TYPES.map((cellType) => [cellType, classified.length ? (100 * counts[cellType]) / classified.length : 0]),
  ) as Record<CellType, number>;
  return {
    classified: classified.length,
    failed: outcomes.length - classified.length,
    referForReview: classified.filter((result) => result.referForReview).length,
    counts,
    percent,
  };
}

const CSV_COLUMNS = [
  'file',
  'cellType',
  'probability',
  ...CELL_TYPES.map((cellType) => `p_${cellType}`),
  'referForReview',
  'reviewReasons',
  'outlierScore',
  'cellFound',
  'boxX',
  'boxY',
  'boxWidth',
  'boxHeight',
  'errorCode',
  'error',
];

/**
 * One CSV row per image (RFC 4180 quoting), failed images included with their error.
 *
 * @example
 * const blob = new Blob([toCsv(outcomes)], { type: 'text/csv' });
 */
export function toCsv(outcomes: readonly ImageOutcome[]): string {
  const rows = outcomes.map((outcome) => {
    if (!isCellResult(outcome)) {
      const blanks = new Array<string>(CSV_COLUMNS.length - 3).fill('');
      return [outcome.file, ...blanks, outcome.error.code, outcome.error.message];
    }
    const { box } = outcome;
    return [
      outcome.file,
      outcome.cellType,
      outcome.probability.toFixed(6),
      ...CELL_TYPES.map((cellType) => outcome.probabilities[cellType].toFixed(6)),
      String(outcome.referForReview),
      outcome.reviewReasons.join(';'),
      outcome.outlierScore === null ? '' : outcome.outlierScore.toFixed(4),
      String(outcome.cellFound),
      ...[box.x, box.y, box.width, box.height].map((n) => String(Math.round(n))),
      '',
      '',
    ];
  });
  return [CSV_COLUMNS, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function csvField(value: string): string {
  // A leading = + - @ makes spreadsheets run the cell as a formula; file names are user input.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
