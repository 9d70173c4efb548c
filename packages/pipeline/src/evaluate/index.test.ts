import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CELL_TYPES } from '@bloodcell/core';
import { selectBackend, writeBundle } from '@bloodcell/node';
import { beforeAll, describe, expect, it } from 'vitest';

import { tinyBundle } from '../../../../test-support/tiny-bundle.js';
import { smearImage, writeFiles } from '../../test/fixtures.js';
import { type Evaluation, evaluateModel } from './index.js';

describe('evaluateModel with a tiny bundle', () => {
  let work: string;
  let evaluation: Evaluation;
  const lines: string[] = [];

  beforeAll(async () => {
    await selectBackend({ prefer: 'cpu' });
    work = await mkdtemp(join(tmpdir(), 'bloodcell-evaluate-'));
    const { model, metadata } = tinyBundle();
    metadata.calibration = { temperature: 2, reviewThreshold: 0.3 };
    metadata.training.validationGroups = ['G1'];
    await writeBundle(join(work, 'model'), model, metadata);
    model.dispose();

    const files = new Map<string, Uint8Array>();
    const rows: string[] = [];
    let seed = 1;
    for (const cellType of CELL_TYPES) {
      for (let k = 0; k < 3; k++) {
        files.set(`${cellType}/${k}.jpeg`, await smearImage(seed++, 'jpeg', 64));
        rows.push(`TRAIN,${cellType},${k}.jpeg,photo-${cellType}-${k % 2}.jpg,${k < 2 ? 'G1' : 'G2'}`);
      }
    }
    files.set('MONOCYTE/broken.jpeg', new Uint8Array([0xff, 0xd8, 0xff, 0x00]));
    await writeFiles(join(work, 'data'), files);
    await writeFile(
      join(work, 'groups.csv'),
      `split,class,file,source_frame,field_group\n${rows.join('\n')}\n`,
    );

    evaluation = await evaluateModel({
      modelDir: join(work, 'model'),
      dataDir: join(work, 'data'),
      groupsCsv: join(work, 'groups.csv'),
      validationOnly: true,
      outDir: join(work, 'evaluate'),
      mistakes: 3,
      log: (line) => lines.push(line),
    });
  });

  it('scores only the held-out groups, with every headline figure', () => {
    expect(evaluation.images).toBe(8);
    expect(evaluation.data).toMatchObject({ validationOnly: true, heldOutGroups: 1 });
    expect(evaluation.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(8);
    for (const value of [evaluation.accuracy, evaluation.balancedAccuracy, evaluation.macroF1]) {
      expect(value).toBeGreaterThanOrEqual(0);
    }
    expect(Object.keys(evaluation.precision)).toEqual([...CELL_TYPES]);
    expect(evaluation.sourcePhotos?.photos).toBe(8);
    expect(evaluation.review.threshold).toBe(0.3);
    expect(lines[0]).toMatch(
      /^evaluate: 8 images, accuracy [\d.]+, balanced [\d.]+, macro-F1 [\d.]+, ECE [\d.]+ → [\d.]+/,
    );
  });

  it('undoes the bundle temperature for the "before" calibration', () => {
    const { reliabilityBefore, reliabilityAfter, temperature } = evaluation.calibration;
    expect(temperature).toBe(2);
    const meanConfidence = (bins: typeof reliabilityBefore) =>
      bins.reduce((t, b) => t + (b.images ? b.confidence * b.images : 0), 0) / 8;
    // T = 2 flattens the probabilities, so undoing it makes the model look more confident.
    expect(meanConfidence(reliabilityBefore)).toBeGreaterThan(meanConfidence(reliabilityAfter));
  });

  it('writes metrics.json and a self-contained report with plots and thumbnails', async () => {
    const metrics = JSON.parse(await readFile(join(work, 'evaluate/metrics.json'), 'utf8')) as Evaluation;
    expect(metrics.accuracy).toBe(evaluation.accuracy);
    expect(metrics.mistakes.length).toBeLessThanOrEqual(3);
    const html = await readFile(join(work, 'evaluate/report.html'), 'utf8');
    expect(html).toContain('aria-label="Confusion matrix"');
    expect(html).toContain('aria-label="Reliability diagram"');
    expect(html.match(/data:image\/jpeg;base64,/g)?.length ?? 0).toBe(metrics.mistakes.length);
    // Nothing to fetch: no URL but the SVG namespace.
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
  });

  it('lists unreadable images and refuses --validation-only without groups', async () => {
    const all = await evaluateModel({
      modelDir: join(work, 'model'),
      dataDir: join(work, 'data'),
      outDir: join(work, 'all'),
      mistakes: 0,
    });
    expect(all.images).toBe(12);
    expect(all.unreadable).toEqual([expect.objectContaining({ path: 'MONOCYTE/broken.jpeg' })]);
    expect(all.sourcePhotos).toBeNull();
    await expect(
      evaluateModel({
        modelDir: join(work, 'model'),
        dataDir: join(work, 'data'),
        outDir: join(work, 'x'),
        validationOnly: true,
      }),
    ).rejects.toThrow(/--validation-only, evaluate.validationOnly\) needs a groups.csv/);
  });
});
