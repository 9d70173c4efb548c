import { readFile } from 'node:fs/promises';

import { BloodcellError } from '@bloodcell/core';
import { writeFileAtomic } from '@bloodcell/node';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

import type { CodeVersion } from '../fingerprint/index.js';

/** Default lock file name, beside params.yaml (in the spirit of dvc.lock). */
export const LOCK_FILE = 'pipeline.lock';

/** What a stage's last successful run consumed and produced. */
export interface StageRecord {
  code: CodeVersion;
  /** The stage's params section as it was. */
  params: Record<string, unknown>;
  /** Fingerprint of each input, by path or URL. */
  deps: Record<string, string>;
  /** Fingerprint of each output, by path. */
  outs: Record<string, string>;
  completedAt: string;
  seconds: number;
}

/** The lock file: one record per stage that has completed. */
export interface PipelineLock {
  schema: 1;
  stages: Record<string, StageRecord>;
}

/**
 * Reads the lock file; a missing file is an empty lock (nothing has run yet).
 *
 * @example
 * const lock = await readLock('pipeline.lock');
 * lock.stages.train?.completedAt;
 */
export async function readLock(path: string): Promise<PipelineLock> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { schema: 1, stages: {} };
    throw error;
  }
  const lock = parseYaml(text) as Partial<PipelineLock> | null;
  if (!lock || lock.schema !== 1 || typeof lock.stages !== 'object' || lock.stages === null) {
    throw new BloodcellError(
      'BAD_LOCK',
      `${path} is not a bloodcell pipeline lock (schema 1). Delete it to rerun every stage.`,
    );
  }
  return lock as PipelineLock;
}

/**
 * Writes the lock file atomically (temp file + rename), so a crash leaves the old lock or the new.
 *
 * @example
 * await writeLock('pipeline.lock', { schema: 1, stages: { ingest: record } });
 */
export async function writeLock(path: string, lock: PipelineLock): Promise<void> {
  const header =
    "# Written by bloodcell-pipeline repro: the inputs and outputs of each stage's last run.\n";
  await writeFileAtomic(path, header + stringifyYaml(lock, { lineWidth: 0 }));
}
