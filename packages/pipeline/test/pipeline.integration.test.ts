import { copyFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CELL_TYPES } from '@bloodcell/core';
import { selectBackend } from '@bloodcell/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

import {
  GROUPS_CSV,
  HAS_SHARED,
  MOBILENET_DIR,
  REPO_ROOT,
  SHARED_MISSING,
  TRAIN_DIR,
} from '../../../test-support/shared.js';
import { PIPELINE_COMMANDS } from '../src/commands/index.js';
import { readLock } from '../src/lock/index.js';
import { STAGE_NAMES, validateParams } from '../src/params/index.js';
import { pipelineStatus, repro } from '../src/runner/index.js';
import { pipelineStages } from '../src/stages/index.js';

describe('dvc.yaml', () => {
  it('has the four stages, each calling the CLI with its own params section', async () => {
    const dvc = parseYaml(await readFile(join(REPO_ROOT, 'dvc.yaml'), 'utf8')) as {
      stages: Record<string, { cmd: string; params: string[]; deps: string[] }>;
    };
    expect(Object.keys(dvc.stages)).toEqual([...STAGE_NAMES]);
    for (const [name, stage] of Object.entries(dvc.stages)) {
      expect(stage.cmd).toBe(`node packages/pipeline/dist/cli.js ${name} --params params.yaml`);
      expect(['train', ...PIPELINE_COMMANDS]).toContain(name);
      expect(stage.params).toEqual([name]);
      expect(stage.deps).toContain('packages/pipeline/dist');
    }
  });
});

describe.skipIf(!HAS_SHARED)(
  `the four stages on a few real smears (${HAS_SHARED ? 'shared data found' : SHARED_MISSING})`,
  () => {
    let root: string;
    let params: ReturnType<typeof validateParams>;
    const code = { version: '0.0.0-test', sha256: '0'.repeat(64) };
    const lines: string[] = [];
    const run = () =>
      repro(pipelineStages(params, { root, log: (l) => lines.push(l) }), {
        lockFile: join(root, 'pipeline.lock'),
        code,
      });

    beforeAll(async () => {
      await selectBackend();
      root = await mkdtemp(join(tmpdir(), 'bloodcell-pipeline-'));
      // Ten smears per cell type, copied out of the read-only shared set.
      for (const cellType of CELL_TYPES) {
        await mkdir(join(root, 'data', cellType), { recursive: true });
        for (const name of (await readdir(join(TRAIN_DIR, cellType))).sort().slice(0, 10)) {
          await copyFile(join(TRAIN_DIR, cellType, name), join(root, 'data', cellType, name));
        }
      }
      params = validateParams({
        ingest: { source: 'data', groups: GROUPS_CSV },
        base: { path: MOBILENET_DIR },
        train: { epochs: 3, validationShare: 0.5, fit: 'whole-image' },
        evaluate: { mistakes: 2 },
      });
      await writeFile(join(root, 'params.yaml'), stringifyYaml(params));
      await run();
    });

    it('runs ingest → base → train → evaluate and records each in the lock', async () => {
      const lock = await readLock(join(root, 'pipeline.lock'));
      expect(Object.keys(lock.stages)).toEqual([...STAGE_NAMES]);
      expect(lock.stages.train!.deps).toHaveProperty(['artifacts/ingest/manifest.json']);
      const metrics = JSON.parse(await readFile(join(root, 'artifacts/evaluate/metrics.json'), 'utf8'));
      expect(metrics.data.validationOnly).toBe(true);
      expect(metrics.images).toBeGreaterThan(0);
      expect(lines.some((l) => l.startsWith('ingest: 40 images'))).toBe(true);
    });

    it('skips every stage on a second run, and reruns only evaluate after its params change', async () => {
      lines.length = 0;
      const second = await run();
      expect(second.map((s) => s.state)).toEqual(['up-to-date', 'up-to-date', 'up-to-date', 'up-to-date']);

      params = { ...params, evaluate: { ...params.evaluate, mistakes: 1 } };
      const status = await pipelineStatus(pipelineStages(params, { root }), {
        lockFile: join(root, 'pipeline.lock'),
        code,
      });
      expect(status.map((s) => s.state)).toEqual(['up-to-date', 'up-to-date', 'up-to-date', 'run']);
      expect(status[3]!.reasons).toEqual(['params changed: evaluate.mistakes 2 → 1']);
      const third = await run();
      expect(third.map((s) => s.state)).toEqual(['up-to-date', 'up-to-date', 'up-to-date', 'run']);
    });
  },
);
