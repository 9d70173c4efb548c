import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { resolveModelDir } from './index.js';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'bloodcell-location-'));
  for (const dir of ['artifacts/model', 'elsewhere']) {
    await mkdir(join(work, dir), { recursive: true });
    await writeFile(join(work, dir, 'bloodcell.json'), '{}');
  }
});

afterAll(() => rm(work, { recursive: true, force: true }));

describe('resolveModelDir', () => {
  it('prefers the flag, then BLOODCELL_MODEL, then artifacts/model under the working directory', () => {
    expect(resolveModelDir('elsewhere', { BLOODCELL_MODEL: 'x' }, work)).toBe(join(work, 'elsewhere'));
    expect(resolveModelDir(undefined, { BLOODCELL_MODEL: 'elsewhere' }, work)).toBe(join(work, 'elsewhere'));
    expect(resolveModelDir(undefined, {}, work)).toBe(join(work, 'artifacts', 'model'));
  });

  it('says where it looked and how to get a model', () => {
    expect(() => resolveModelDir(undefined, { BLOODCELL_MODEL: 'missing' }, work)).toThrow(/from BLOODCELL_MODEL/);
    expect(() => resolveModelDir('missing', {}, work)).toThrow(/pnpm train/);
  });
});
