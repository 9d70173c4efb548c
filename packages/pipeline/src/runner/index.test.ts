import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { replaceFolderAtomic } from '@bloodcell/node';
import { beforeEach, describe, expect, it } from 'vitest';

import { pathInput } from './inputs.js';
import { type StageDefinition, StageFailedError, paramChanges, pipelineStatus, repro } from './index.js';

const code = { version: '0.1.0', sha256: 'a'.repeat(64) };

describe('repro on a two-stage pipeline', () => {
  let root: string;
  let lockFile: string;
  let params: { double: { times: number }; sum: { plus: number } };
  let runs: string[];
  let failMidway: boolean;
  let gate: Promise<void> | undefined;

  // double: input.txt -> out/double/value.txt (x * times); sum: out/double -> out/sum/value.txt (+ plus)
  const stages = (): StageDefinition[] => [
    {
      name: 'double',
      params: params.double,
      deps: [pathInput(root, 'input.txt')],
      outs: [pathInput(root, 'out/double')],
      run: async () => {
        await gate;
        runs.push('double');
        const x = Number(await readFile(join(root, 'input.txt'), 'utf8'));
        await replaceFolderAtomic(join(root, 'out/double'), (dir) =>
          writeFile(join(dir, 'value.txt'), String(x * params.double.times)),
        );
      },
    },
    {
      name: 'sum',
      params: params.sum,
      deps: [pathInput(root, 'out/double')],
      outs: [pathInput(root, 'out/sum')],
      run: async () => {
        runs.push('sum');
        const x = Number(await readFile(join(root, 'out/double/value.txt'), 'utf8'));
        await replaceFolderAtomic(join(root, 'out/sum'), async (dir) => {
          await writeFile(join(dir, 'value.txt'), String(x + params.sum.plus));
          if (failMidway) throw new Error('killed half way');
        });
      },
    },
  ];
  const run = (options: { target?: string; force?: boolean } = {}) =>
    repro(stages(), { lockFile, code, ...options });
  const result = () => readFile(join(root, 'out/sum/value.txt'), 'utf8');

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'bloodcell-runner-'));
    lockFile = join(root, 'pipeline.lock');
    params = { double: { times: 2 }, sum: { plus: 1 } };
    runs = [];
    failMidway = false;
    gate = undefined;
    await writeFile(join(root, 'input.txt'), '5');
  });

  it('runs every stage once, then skips them while nothing changes', async () => {
    await run();
    expect(runs).toEqual(['double', 'sum']);
    expect(await result()).toBe('11');
    expect(await readFile(lockFile, 'utf8')).toMatch(/stages:\n  double:/);

    runs = [];
    const second = await run();
    expect(runs).toEqual([]);
    expect(second.map((s) => s.state)).toEqual(['up-to-date', 'up-to-date']);
  });

  it('reruns only the stage whose params changed, and says which key', async () => {
    await run();
    params.sum.plus = 3;
    const status = await pipelineStatus(stages(), { lockFile, code });
    expect(status[0]!.state).toBe('up-to-date');
    expect(status[1]).toMatchObject({ state: 'run', reasons: ['params changed: sum.plus 1 → 3'] });

    runs = [];
    await run();
    expect(runs).toEqual(['sum']);
    expect(await result()).toBe('13');
  });

  it('reruns downstream stages when an input file changes, and on a new code version', async () => {
    await run();
    await writeFile(join(root, 'input.txt'), '7');
    const status = await pipelineStatus(stages(), { lockFile, code });
    expect(status[0]).toMatchObject({ state: 'run', reasons: ['input input.txt changed'] });
    expect(status[1]!.state).toBe('after-upstream');

    runs = [];
    await run();
    expect(runs).toEqual(['double', 'sum']);
    expect(await result()).toBe('15');

    runs = [];
    await repro(stages(), { lockFile, code: { ...code, sha256: 'b'.repeat(64) } });
    expect(runs).toEqual(['double', 'sum']);
  });

  it('leaves the previous output and the lock untouched when a stage dies, and resumes', async () => {
    await run();
    const lockBefore = await readFile(lockFile, 'utf8');
    params.sum.plus = 100;
    failMidway = true;

    runs = [];
    await expect(run()).rejects.toThrow(StageFailedError);
    expect(runs).toEqual(['sum']);
    expect(await result()).toBe('11');
    expect(await readFile(lockFile, 'utf8')).toBe(lockBefore);

    failMidway = false;
    runs = [];
    await run();
    expect(runs).toEqual(['sum']);
    expect(await result()).toBe('110');
  });

  it('clears the temporary folders a killed run left beside an output', async () => {
    await run();
    await mkdir(join(root, 'out/.sum.staging-999999999-abcd1234'));
    await mkdir(join(root, 'out/.sum.staging-' + process.pid + '-abcd1234'));
    params.sum.plus = 2;
    const lines: string[] = [];
    await repro(stages(), { lockFile, code, log: (line) => lines.push(line) });
    expect(lines).toContain('sum: removed .sum.staging-999999999-abcd1234 left by a killed run');
    // A folder of a live process (here our own) may be another run's work in progress.
    expect((await readdir(join(root, 'out'))).sort()).toEqual([
      '.sum.staging-' + process.pid + '-abcd1234',
      'double',
      'sum',
    ]);
  });

  it('notices a deleted or edited output and runs only up to a target', async () => {
    await run();
    await writeFile(join(root, 'out/double/value.txt'), '999');
    const status = await pipelineStatus(stages(), { lockFile, code, target: 'double' });
    expect(status).toEqual([
      { stage: 'double', state: 'run', reasons: ['output out/double changed since the run'] },
    ]);
    runs = [];
    await run({ target: 'double' });
    expect(runs).toEqual(['double']);
    await expect(run({ target: 'nope' })).rejects.toThrow('No stage "nope"; the stages are double, sum.');
  });

  it('refuses a second run in the same folder while the first works, then runs again', async () => {
    let open = () => {};
    gate = new Promise((resolve) => (open = resolve));
    const first = run();
    while (!existsSync(`${lockFile}.running`)) await new Promise((resolve) => setTimeout(resolve, 1));
    await expect(run()).rejects.toThrow(/Another run \(process \d+/);
    open();
    await first;
    expect(runs).toEqual(['double', 'sum']);
    expect(await run()).toEqual([
      { stage: 'double', state: 'up-to-date', reasons: [] },
      { stage: 'sum', state: 'up-to-date', reasons: [] },
    ]);
  });
});

describe('paramChanges', () => {
  it('lists changed, added and removed keys with dotted paths', () => {
    expect(paramChanges('train', { epochs: 40, fit: 'a' }, { epochs: 10, fit: 'a', seed: 1 })).toEqual([
      'train.epochs 40 → 10',
      'train.seed (unset) → 1',
    ]);
  });
});
