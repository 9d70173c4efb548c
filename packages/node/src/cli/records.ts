import { CELL_TYPES, type CellType, type ClassifyResult } from '@bloodcell/core';

/** One line of the CLI's output: a classified image or the reason it could not be. */
export type ImageRecord =
  | ({ file: string } & ClassifyResult)
  | { file: string; error: { code: string; message: string } };

export type OutputFormat = 'table' | 'json' | 'csv';

/** Count and share of each cell type among the images that were classified. */
export type Differential = Record<CellType, { count: number; percent: number }> & { total: number };

/**
 * Tallies the differential: how many cells of each type, as counts and percentages.
 *
 * @example
 * differential(records).MONOCYTE; // { count: 3, percent: 12.5 }
 */
export function differential(records: readonly ImageRecord[]): Differential {
  const classified = records.filter((record): record is { file: string } & ClassifyResult => !('error' in record));
  const total = classified.length;
  const entries = CELL_TYPES.map((cellType) => {
    const count = classified.filter((record) => record.cellType === cellType).length;
    return [cellType, { count, percent: total === 0 ? 0 : (100 * count) / total }];
  });
  return { ...(Object.fromEntries(entries) as Record<CellType, { count: number; percent: number }>), total };
}

export const CSV_HEADER = [
  'file',
  'cell_type',
  'probability',
  ...CELL_TYPES.map((cellType) => `p_${cellType.toLowerCase()}`),
  'refer_for_review',
  'review_reasons',
  'outlier_score',
  'cell_found',
  'box_x',
  'box_y',
  'box_width',
  'box_height',
  'error',
].join(',');

/**
 * Renders one record in the chosen format (no trailing newline).
 *
 * @example
 * formatRecord(record, 'csv'); // 'a.jpeg,MONOCYTE,0.9412,…'
 */
export function formatRecord(record: ImageRecord, format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(record);
  if (format === 'csv') return csvRow(record);
  const file = printable(record.file);
  if ('error' in record) return `${file}\tERROR ${record.error.code}: ${printable(record.error.message)}`;
  const flag = record.referForReview ? `\trefer for review (${record.reviewReasons.join(', ')})` : '';
  return `${file}\t${record.cellType}\t${record.probability.toFixed(4)}${flag}`;
}

/**
 * Text with its control characters written as `\\uXXXX`, so a file name can neither break a
 * table line nor send escape sequences to the terminal.
 *
 * @example
 * printable('a\u0007\n.jpg'); // 'a\\u0007\\u000a.jpg'
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Renders the differential as a few human lines.
 *
 * @example
 * formatDifferential(differential(records)); // 'differential of 24 cells: EOSINOPHIL 5 (20.8%) …'
 */
export function formatDifferential(tally: Differential, failed: number): string {
  const parts = CELL_TYPES.map((c) => `  ${c.padEnd(11)} ${String(tally[c].count).padStart(5)}  ${tally[c].percent.toFixed(1).padStart(5)}%`);
  const failures = failed > 0 ? `\n  ${failed} file(s) could not be classified` : '';
  return `differential of ${tally.total} cell(s):\n${parts.join('\n')}${failures}`;
}

function csvRow(record: ImageRecord): string {
  if ('error' in record) {
    return [csvField(record.file), ...new Array<string>(CELL_TYPES.length + 10).fill(''), csvField(`${record.error.code}: ${record.error.message}`)].join(',');
  }
  const { box } = record;
  return [
    csvField(record.file),
    record.cellType,
    record.probability.toFixed(6),
    ...CELL_TYPES.map((cellType) => record.probabilities[cellType].toFixed(6)),
    String(record.referForReview),
    record.reviewReasons.join(' '),
    record.outlierScore === null ? '' : record.outlierScore.toFixed(4),
    String(record.cellFound),
    box.x,
    box.y,
    box.width,
    box.height,
    '',
  ].join(',');
}

function csvField(value: string): string {
  // Quote per RFC 4180; a leading formula character is defused so spreadsheets show, not run, it.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
