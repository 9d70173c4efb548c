import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../../../../test-support/shared.js';
import { loadParams, ParamsError, validateParams } from './index.js';

const minimal = { ingest: { source: 'data' }, base: { path: 'models/base' } };

describe('validateParams', () => {
  it('fills in defaults for the sections and keys left out', () => {
    const params = validateParams(minimal);
    expect(params.train).toMatchObject({
      fit: 'cell-crop',
      head: 'pooled',
      seed: 7,
      epochs: 40,
      maxPerGroup: null,
    });
    expect(params.ingest).toMatchObject({ sha256: null, attempts: 5, conflicts: 'drop' });
    expect(params.evaluate.validationOnly).toBe(true);
  });

  it('names the bad key, the rule and the value', () => {
    expect(() => validateParams({ ...minimal, train: { epochs: 'ten' } })).toThrow(
      'train.epochs must be a positive integer, got "ten"',
    );
    expect(() => validateParams({ ...minimal, train: { fit: 'crop' } })).toThrow(
      'train.fit must be one of cell-crop, whole-image, got "crop"',
    );
    expect(() => validateParams({ ...minimal, train: { views: ['mirror', 'upside-down'] } })).toThrow(
      'train.views.1 must be one of mirror, turn-90',
    );
    expect(() => validateParams({ ...minimal, ingest: { source: 'x', sha256: 'abc' } })).toThrow(
      'ingest.sha256 must be 64 hex digits or null, got "abc"',
    );
  });

  it('names unknown and missing keys', () => {
    expect(() => validateParams({ ...minimal, train: { epoch: 3 } })).toThrow(
      /train\.epoch is not a known key \(known: fit, head, views, seed, .*epochs/,
    );
    expect(() => validateParams({ ingest: { source: 'x' } })).toThrow('base is missing');
    const error = (() => {
      try {
        validateParams({ ...minimal, train: { seed: -1, epochs: 0 } });
      } catch (caught) {
        return caught as ParamsError;
      }
    })();
    expect(error).toBeInstanceOf(ParamsError);
    expect(error?.message).toContain('train.seed must be a non-negative integer, got -1');
    expect(error?.message).toContain('train.epochs must be a positive integer, got 0');
  });
});

describe('loadParams', () => {
  it('reads the repository params.yaml', async () => {
    const params = await loadParams(join(REPO_ROOT, 'params.yaml'));
    expect(params.base.name).toBe('mobilenet_v2');
    expect(params.ingest.source).toContain('blood-cells');
  });

  it('reports YAML syntax errors and missing files with the file name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bloodcell-params-'));
    await writeFile(join(dir, 'params.yaml'), 'train: [unclosed\n');
    await expect(loadParams(join(dir, 'params.yaml'))).rejects.toThrow(/params\.yaml is not valid YAML/);
    await expect(loadParams(join(dir, 'nope.yaml'))).rejects.toThrow(/Cannot read .*nope\.yaml/);
  });
});
