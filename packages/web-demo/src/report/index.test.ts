import { describe, expect, it } from 'vitest';

import { type CellResult, type FailedImage, differential, toCsv } from './index.js';

function result(file: string, cellType: CellResult['cellType'], referForReview = false): CellResult {
  const probabilities = { EOSINOPHIL: 0.1, LYMPHOCYTE: 0.1, MONOCYTE: 0.1, NEUTROPHIL: 0.1 };
  probabilities[cellType] = 0.7;
  return {
    file,
    cellType,
    probability: 0.7,
    probabilities,
    referForReview,
    reviewReasons: referForReview ? ['low-confidence'] : [],
    outlierScore: 1.25,
    box: { x: 10.4, y: 20, width: 100, height: 100 },
    cellFound: true,
    image: { width: 320, height: 240, format: 'jpeg' },
  };
}

const failed: FailedImage = { file: 'notes.txt', error: { code: 'NOT_AN_IMAGE', message: 'not, "an" image' } };

describe('differential', () => {
  it('counts each cell type over the classified images only', () => {
    const summary = differential([result('a', 'NEUTROPHIL'), result('b', 'NEUTROPHIL', true), result('c', 'MONOCYTE'), failed]);
    expect(summary).toEqual({
      classified: 3,
      failed: 1,
      referForReview: 1,
      counts: { EOSINOPHIL: 0, LYMPHOCYTE: 0, MONOCYTE: 1, NEUTROPHIL: 2 },
      percent: { EOSINOPHIL: 0, LYMPHOCYTE: 0, MONOCYTE: 100 / 3, NEUTROPHIL: 200 / 3 },
    });
  });

  it('gives zero shares, not NaN, when nothing was classified', () => {
    expect(differential([failed]).percent.EOSINOPHIL).toBe(0);
  });
});

describe('toCsv', () => {
  it('writes a header, one row per image, and quotes fields that need it', () => {
    const lines = toCsv([result('a.jpeg', 'EOSINOPHIL'), failed]).split('\r\n');
    expect(lines[0]).toBe(
      'file,cellType,probability,p_EOSINOPHIL,p_LYMPHOCYTE,p_MONOCYTE,p_NEUTROPHIL,referForReview,' +
        'reviewReasons,outlierScore,cellFound,boxX,boxY,boxWidth,boxHeight,errorCode,error',
    );
    expect(lines[1]).toBe('a.jpeg,EOSINOPHIL,0.700000,0.700000,0.100000,0.100000,0.100000,false,,1.2500,true,10,20,100,100,,');
    expect(lines[2]).toBe('notes.txt,,,,,,,,,,,,,,,NOT_AN_IMAGE,"not, ""an"" image"');
    expect(lines[3]).toBe('');
  });

  it('defuses file names a spreadsheet would run as formulas', () => {
    expect(toCsv([{ ...failed, file: '=HYPERLINK("x")' }]).split('\r\n')[1]).toMatch(/^"'=HYPERLINK\(""x""\)"/);
  });
});
