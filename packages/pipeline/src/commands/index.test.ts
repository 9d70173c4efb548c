import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fileSystemModelSource, selectBackend } from '@bloodcell/node';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { tinyBundle } from '../../../../test-support/tiny-bundle.js';
import { runPipelineCommand } from './index.js';

describe('pipeline commands', () => {
  let root: string;
  let stdout: string[];

  beforeAll(async () => {
    await selectBackend({ prefer: 'cpu' });
    root = await mkdtemp(join(tmpdir(), 'bloodcell-commands-'));
    const { model } = tinyBundle();
    await model.save(fileSystemModelSource(join(root, 'models/tiny')));
    model.dispose();
    await writeFile(join(root, 'params.yaml'), 'ingest:\n  source: data\nbase:\n  path: models/tiny\n');
  });

  afterEach(() => vi.restoreAllMocks());

  const capture = () => {
    stdout = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((text) => stdout.push(String(text)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  };

  it('status says every stage would run before anything ran', async () => {
    capture();
    expect(await runPipelineCommand('status', ['--params', join(root, 'params.yaml')])).toBe(0);
    expect(stdout[0]).toBe('ingest: would run (input data is missing; never ran)\n');
    expect(stdout).toHaveLength(4);
  });

  it('base cuts the model named in params.yaml into artifacts/base', async () => {
    capture();
    expect(await runPipelineCommand('base', ['--params', join(root, 'params.yaml')])).toBe(0);
    const description = JSON.parse(await readFile(join(root, 'artifacts/base/base.json'), 'utf8'));
    expect(description).toMatchObject({ name: 'mobilenet_v2', featureShape: [4, 4, 4] });
  });

  it('names bad option values and params errors', async () => {
    capture();
    await expect(
      runPipelineCommand('base', ['--params', join(root, 'params.yaml'), '--name', 'resnet']),
    ).rejects.toThrow('--name must be mobilenet_v2 or vgg16; got "resnet".');
    await writeFile(
      join(root, 'bad.yaml'),
      'ingest:\n  source: data\nbase:\n  path: m\ntrain:\n  epochs: ten\n',
    );
    await expect(runPipelineCommand('status', ['--params', join(root, 'bad.yaml')])).rejects.toThrow(
      'train.epochs must be a positive integer, got "ten"',
    );
  });
});
