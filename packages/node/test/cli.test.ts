import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HAS_SHARED, REPO_ROOT, SHARED_MISSING, TRAIN_DIR } from '../../../test-support/shared.js';
import { smallTrainedBundle } from '../../../test-support/trained-bundle.js';

const CLI = join(REPO_ROOT, 'packages', 'node', 'dist', 'cli.js');
const run = promisify(execFile);

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function bloodcell(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run('node', [CLI, ...args], { env: { ...process.env, ...env }, cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('bloodcell CLI without a model', () => {
  it('is built (run `pnpm build` first)', () => {
    expect(existsSync(CLI), `${CLI} is missing: run \`pnpm build\` before the tests`).toBe(true);
  });

  it('explains how to get a model and exits 2', async () => {
    const result = await bloodcell(['classify', 'x.jpeg', '--model', '/nonexistent/model']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/No model bundle at \/nonexistent\/model/);
    expect(result.stderr).toMatch(/pnpm train/);
  });

  it('prints usage for --help and refuses unknown commands', async () => {
    expect((await bloodcell(['--help'])).stdout).toMatch(/bloodcell classify <files or folders/);
    const unknown = await bloodcell(['train']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "train"/);
  });
});

describe.skipIf(!HAS_SHARED)(`bloodcell classify on real images (${HAS_SHARED ? 'shared data found' : SHARED_MISSING})`, () => {
  let model: string;
  let work: string;
  const images = [
    join(TRAIN_DIR, 'EOSINOPHIL', '_0_1169.jpeg'),
    join(TRAIN_DIR, 'LYMPHOCYTE', '_0_1063.jpeg'),
    join(TRAIN_DIR, 'MONOCYTE', '_0_1173.jpeg'),
  ];

  beforeAll(async () => {
    model = await smallTrainedBundle();
    work = await mkdtemp(join(tmpdir(), 'bloodcell-cli-'));
    await writeFile(join(work, 'corrupt.jpeg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    await copyFile(images[0]!, join(work, 'good.jpeg'));
  });

  afterAll(() => rm(work, { recursive: true, force: true }));

  it('writes one JSON record per image and the differential on stderr', async () => {
    const result = await bloodcell(['classify', ...images, '--model', model, '--json']);
    expect(result.code).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(records).toHaveLength(3);
    for (const [i, record] of records.entries()) {
      expect(record.file).toBe(images[i]);
      expect(['EOSINOPHIL', 'LYMPHOCYTE', 'MONOCYTE', 'NEUTROPHIL']).toContain(record.cellType);
      expect(Object.keys(record.probabilities)).toHaveLength(4);
      expect(record.box.width).toBeGreaterThan(20);
    }
    expect(result.stderr).toMatch(/differential of 3 cell\(s\)/);
  });

  it('gives a corrupt file an error record, finishes the batch, and exits 1', async () => {
    const result = await bloodcell(['classify', work, '--model', model, '--csv']);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^file,cell_type,probability,p_eosinophil/);
    expect(lines).toHaveLength(3);
    expect(lines.find((line) => line.includes('corrupt.jpeg'))).toMatch(/NOT_AN_IMAGE/);
    expect(lines.find((line) => line.includes('good.jpeg'))).toMatch(/,(EOSINOPHIL|LYMPHOCYTE|MONOCYTE|NEUTROPHIL),/);
  });

  it('finds the model through BLOODCELL_MODEL', async () => {
    const result = await bloodcell(['classify', images[1]!], { BLOODCELL_MODEL: model });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('_0_1063.jpeg\t');
  });
});
