import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { validateParams } from '../params/index.js';
import { evaluateOptions, pipelineStages, trainOptions } from './index.js';

const params = validateParams({
  ingest: { source: 'data/TRAIN', groups: 'data/groups.csv' },
  base: { path: 'models/mobilenet' },
  train: { epochs: 5, maxPerGroup: 2, views: ['mirror'] },
});

describe('pipelineStages', () => {
  it('declares the stages in order with their params, inputs and outputs', () => {
    const stages = pipelineStages(params, { root: '/repo' });
    expect(stages.map((s) => s.name)).toEqual(['ingest', 'base', 'train', 'evaluate']);
    const io = stages.map((s) => [s.deps.map((d) => d.name), s.outs.map((o) => o.name)]);
    expect(io).toEqual([
      [['data/TRAIN', 'data/groups.csv'], ['artifacts/ingest']],
      [['models/mobilenet'], ['artifacts/base']],
      [['artifacts/ingest/manifest.json', 'artifacts/base'], ['artifacts/model']],
      [['artifacts/model', 'artifacts/ingest/manifest.json'], ['artifacts/evaluate']],
    ]);
    expect(stages[2]!.params).toBe(params.train);
  });

  it('names remote sources by URL', () => {
    const remote = (source: string, sha256: string | null = null) =>
      pipelineStages(validateParams({ ...params, ingest: { source, sha256 } }), { root: '/repo' })[0]!.deps;
    expect(remote('s3://cells/kaggle').map((d) => d.name)).toEqual(['s3://cells/kaggle']);
    expect(remote('https://example.org/cells.zip', 'a'.repeat(64))[0]!.path).toBeUndefined();
  });
});

describe('stage options', () => {
  it('gives the trainer the ingested images, the cut base and the train section', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bloodcell-stages-'));
    expect(trainOptions(params, { root })).toMatchObject({
      dataDir: join(root, 'artifacts/ingest/images'),
      baseModelDir: join(root, 'artifacts/base'),
      outDir: join(root, 'artifacts/model'),
      cacheDir: join(root, 'artifacts/cache/features'),
      epochs: 5,
      maxPerGroup: 2,
      views: ['mirror'],
    });
    expect(trainOptions(params, { root })).not.toHaveProperty('groupsCsv');
    expect(trainOptions(params, { root })).not.toHaveProperty('learningRate');

    await mkdir(join(root, 'artifacts/ingest'), { recursive: true });
    await writeFile(join(root, 'artifacts/ingest/groups.csv'), 'class,file,source_frame,field_group\n');
    expect(trainOptions(params, { root }).groupsCsv).toBe(join(root, 'artifacts/ingest/groups.csv'));
    expect(evaluateOptions(params, { root })).toMatchObject({
      modelDir: join(root, 'artifacts/model'),
      dataDir: join(root, 'artifacts/ingest/images'),
      groupsCsv: join(root, 'artifacts/ingest/groups.csv'),
      validationOnly: true,
      outDir: join(root, 'artifacts/evaluate'),
    });
  });
});
