import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { type PipelineLock, readLock, writeLock } from './index.js';

describe('pipeline.lock', () => {
  it('reads a missing lock as empty and round-trips a written one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bloodcell-lock-'));
    const path = join(dir, 'pipeline.lock');
    expect(await readLock(path)).toEqual({ schema: 1, stages: {} });

    const lock: PipelineLock = {
      schema: 1,
      stages: {
        train: {
          code: { version: '0.1.0', sha256: 'c'.repeat(64) },
          params: { epochs: 40, maxPerGroup: null },
          deps: { 'artifacts/ingest/manifest.json': 'a'.repeat(64) },
          outs: { 'artifacts/model': 'b'.repeat(64) },
          completedAt: '2026-01-01T00:00:00.000Z',
          seconds: 12.5,
        },
      },
    };
    await writeLock(path, lock);
    expect(await readLock(path)).toEqual(lock);
    expect(await readFile(path, 'utf8')).toContain('artifacts/ingest/manifest.json: aaaa');
  });

  it('refuses a file that is not a lock, saying how to recover', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'bloodcell-lock-')), 'pipeline.lock');
    await writeFile(path, 'hello: world\n');
    await expect(readLock(path)).rejects.toThrow('is not a bloodcell pipeline lock (schema 1). Delete it');
  });
});
