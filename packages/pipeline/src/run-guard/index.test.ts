import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PipelineBusyError, claimRun } from './index.js';

describe('claimRun', () => {
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'bloodcell-guard-'));
  });

  afterAll(() => rm(work, { recursive: true, force: true }));

  it('refuses a second claim while the first is held, and allows one after release', async () => {
    const lockFile = join(work, 'pipeline.lock');
    const release = await claimRun(lockFile);
    const refused = claimRun(lockFile);
    await expect(refused).rejects.toBeInstanceOf(PipelineBusyError);
    await expect(claimRun(lockFile)).rejects.toThrow(new RegExp(`process ${process.pid}.*delete .*pipeline\\.lock\\.running`));

    await release();
    expect(existsSync(`${lockFile}.running`)).toBe(false);
    await (await claimRun(lockFile))();
  });

  it('takes over a claim whose process has ended, or that cannot be read', async () => {
    const lockFile = join(work, 'other.lock');
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await writeFile(`${lockFile}.running`, JSON.stringify({ pid: Number(ended), startedAt: 'earlier' }));
    await (await claimRun(lockFile))();

    await writeFile(`${lockFile}.running`, '{"pid": ');
    await (await claimRun(lockFile))();
  });
});
