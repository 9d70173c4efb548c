import { open, readFile, rm } from 'node:fs/promises';

import { BloodcellError } from '@bloodcell/core';

import { isRunning } from '../runner/inputs.js';

/** Another run already holds the folder. */
export class PipelineBusyError extends BloodcellError {}

/**
 * Claims `<lockFile>.running` for this process so two `repro` runs never work in one folder at
 * once. A claim left by a process that no longer exists is taken over. Resolves with a function
 * that releases the claim.
 *
 * @throws PipelineBusyError naming the other run's process id and start time.
 * @example
 * const release = await claimRun('pipeline.lock');
 * try { await runStages(); } finally { await release(); }
 */
export async function claimRun(lockFile: string): Promise<() => Promise<void>> {
  const path = `${lockFile}.running`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() })}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const holder = await readHolder(path);
    if (holder && isRunning(holder.pid)) {
      throw new PipelineBusyError(
        'PIPELINE_BUSY',
        `Another run (process ${holder.pid}, started ${holder.startedAt}) is working in this folder. ` +
          `Wait for it to finish; if no such run exists, delete ${path}.`,
      );
    }
    // Its owner died without releasing it.
    await rm(path, { force: true });
  }
  throw new PipelineBusyError('PIPELINE_BUSY', `Could not claim ${path}: another run keeps taking it.`);
}

async function readHolder(path: string): Promise<{ pid: number; startedAt: string } | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown; startedAt?: unknown };
    return typeof holder.pid === 'number' ? { pid: holder.pid, startedAt: String(holder.startedAt) } : undefined;
  } catch {
    // Half-written or unreadable: treated as abandoned.
    return undefined;
  }
}
