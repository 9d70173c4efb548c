import { describe, expect, it } from 'vitest';

import { CSV_HEADER, differential, formatDifferential, formatRecord, type ImageRecord } from './records.js';

const result = (file: string, cellType: 'MONOCYTE' | 'NEUTROPHIL'): ImageRecord => ({
  file,
  cellType,
  probability: 0.8,
  probabilities: { EOSINOPHIL: 0.05, LYMPHOCYTE: 0.05, MONOCYTE: cellType === 'MONOCYTE' ? 0.8 : 0.1, NEUTROPHIL: cellType === 'NEUTROPHIL' ? 0.8 : 0.1 },
  referForReview: false,
  reviewReasons: [],
  outlierScore: null,
  box: { x: 1, y: 2, width: 100, height: 100 },
  cellFound: true,
});

describe('CLI records', () => {
  const records: ImageRecord[] = [
    result('a.jpeg', 'MONOCYTE'),
    result('b.jpeg', 'MONOCYTE'),
    result('c.jpeg', 'NEUTROPHIL'),
    { file: 'bad.jpeg', error: { code: 'NOT_AN_IMAGE', message: 'not an image' } },
  ];

  it('tallies the differential over classified images only', () => {
    const tally = differential(records);
    expect(tally.total).toBe(3);
    expect(tally.MONOCYTE.count).toBe(2);
    expect(tally.MONOCYTE.percent).toBeCloseTo(66.667, 2);
    expect(tally.EOSINOPHIL.count).toBe(0);
    expect(formatDifferential(tally, 1)).toMatch(/1 file\(s\) could not be classified/);
  });

  it('writes CSV rows with as many fields as the header, quoting and defusing file names', () => {
    const columns = CSV_HEADER.split(',').length;
    const row = formatRecord(result('=cmd(),x.jpeg', 'MONOCYTE'), 'csv');
    expect(row.startsWith(`"'=cmd(),x.jpeg"`)).toBe(true);
    expect(formatRecord(records[0]!, 'csv').split(',')).toHaveLength(columns);
    expect(formatRecord(records[3]!, 'csv').split(',')).toHaveLength(columns);
  });

  it('names the review reasons in the table and the CSV', () => {
    const flagged: ImageRecord = { ...(records[0] as Extract<ImageRecord, { cellType: string }>), referForReview: true, reviewReasons: ['low-confidence', 'unlike-training'] };
    expect(formatRecord(flagged, 'table')).toMatch(/refer for review \(low-confidence, unlike-training\)$/);
    const header = CSV_HEADER.split(',');
    expect(formatRecord(flagged, 'csv').split(',')[header.indexOf('review_reasons')]).toBe('low-confidence unlike-training');
  });

  it('writes JSON that parses back to the record', () => {
    expect(JSON.parse(formatRecord(records[0]!, 'json'))).toEqual(records[0]);
  });
});
