import '@tensorflow/tfjs-backend-cpu';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { CELL_TYPES, Classifier, type ClassifyResult } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  HOSTILE_FILE_NAMES,
  type HostileInput,
  goodJpeg,
  hostileInputs,
} from '../../../test-support/hostile-inputs.js';
import { REPO_ROOT } from '../../../test-support/shared.js';
import { tinyBundle } from '../../../test-support/tiny-bundle.js';
import { writeBundle } from '../src/bundle-store/index.js';
import { decodeImage } from '../src/decode/index.js';

const CLI = join(REPO_ROOT, 'packages', 'node', 'dist', 'cli.js');
const run = promisify(execFile);

let corpus: HostileInput[];
let classifier: Classifier;
let work: string;
let modelDir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  corpus = await hostileInputs();
  const { model, metadata } = tinyBundle({ fit: 'cell-crop', seed: 5 });
  classifier = Classifier.fromModel(model, metadata);
  work = await mkdtemp(join(tmpdir(), 'bloodcell-hostile-'));
  modelDir = join(work, 'model');
  await writeBundle(modelDir, model, metadata);
});

afterAll(() => rm(work, { recursive: true, force: true }));

/** What the library answers: `classified` with the result, or the error's code. */
async function libraryAnswer(bytes: Uint8Array): Promise<{ answer: string; result?: ClassifyResult }> {
  try {
    const result = await classifier.classify(await decodeImage(bytes));
    return { answer: 'classified', result };
  } catch (error) {
    return { answer: (error as { code?: string }).code ?? `UNCODED ${String(error)}` };
  }
}

describe('hostile inputs through decodeImage + classify', () => {
  it('gives every input its defined answer, with a well-formed result when classified', async () => {
    const answers: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const input of corpus) {
      const { answer, result } = await libraryAnswer(input.bytes);
      answers[input.id] = answer;
      expected[input.id] = input.answer;
      if (!result) continue;
      const total = CELL_TYPES.reduce((sum, cellType) => sum + result.probabilities[cellType], 0);
      expect(total, input.id).toBeCloseTo(1, 5);
      expect(result.box.width, input.id).toBeGreaterThan(0);
    }
    expect(answers).toEqual(expected);
  });

  it('answers a polyglot exactly as the clean JPEG in front of it', async () => {
    const clean = await libraryAnswer(await goodJpeg());
    const polyglot = corpus.find((input) => input.id === 'jpeg+zip-polyglot')!;
    expect((await libraryAnswer(polyglot.bytes)).result).toEqual(clean.result);
  });

  it('keeps no tensors behind, whatever the input', async () => {
    await libraryAnswer(corpus[0]!.bytes);
    const before = tf.memory().numTensors;
    for (const input of corpus) await libraryAnswer(input.bytes);
    expect(tf.memory().numTensors).toBe(before);
  });
});

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function bloodcell(args: string[], cwd = REPO_ROOT): Promise<CliRun> {
  // --engine tfjs: the same TF.js classifier as above; ONNX conversion is tested elsewhere.
  const argv = [CLI, ...args, '--model', modelDir, '--engine', 'tfjs', '--workers', '0'];
  try {
    const { stdout, stderr } = await run('node', argv, { cwd, env: { ...process.env, BLOODCELL_MODEL: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe.skipIf(!existsSync(CLI))(`hostile inputs through the CLI (${CLI}; run \`pnpm build\` first)`, () => {
  let folder: string;
  const hostileNames = HOSTILE_FILE_NAMES.filter((name) => !name.includes('/'));

  beforeAll(async () => {
    folder = join(work, 'smears');
    await mkdir(folder);
    for (const input of corpus) await writeFile(join(folder, input.fileName), input.bytes);
    for (const name of hostileNames) await writeFile(join(folder, name), await goodJpeg());
  });

  it('writes one JSON record per file with the defined answer, names intact, and exits 1', async () => {
    // Named one by one: a folder walk would pass over .gif and .svg without a word.
    const names = [...corpus.map((input) => input.fileName), ...hostileNames];
    const result = await bloodcell(['classify', ...names, '--json'], folder);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(corpus.length + hostileNames.length);
    const records = new Map(
      lines.map((line) => JSON.parse(line) as Record<string, any>).map((r) => [r.file, r]),
    ); // eslint-disable-line @typescript-eslint/no-explicit-any

    for (const input of corpus) {
      const record = records.get(input.fileName);
      expect(record, input.id).toBeDefined();
      expect(record!.error?.code ?? 'classified', input.id).toBe(input.answer);
    }
    for (const name of hostileNames) expect(records.get(name)?.cellType, JSON.stringify(name)).toBeDefined();
  });

  it('shows control characters in names escaped in the table, and defuses formulas in CSV', async () => {
    const table = await bloodcell(['classify', folder]);
    expect(table.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(table.stdout).toContain('a\\u0007\\u000a.jpg\t');
    expect(table.stdout).toContain('\\u001b]0;owned\\u0007\\u001b[2J.jpg\t');

    const csv = await bloodcell(['classify', '=cmd|calc,"x".jpg', '--csv'], folder);
    expect(csv.stdout.split('\n')[1]).toMatch(
      /^"'=cmd\|calc,""x""\.jpg",(EOSINOPHIL|LYMPHOCYTE|MONOCYTE|NEUTROPHIL),/,
    );
  });

  it('reads a traversal-looking path only as the path given, and echoes it as given', async () => {
    const deep = join(work, 'a', 'b');
    await mkdir(deep, { recursive: true });
    await mkdir(join(work, 'etc'), { recursive: true });
    await writeFile(join(work, 'etc', 'passwd.jpg'), await goodJpeg());
    const result = await bloodcell(['classify', '../../etc/passwd.jpg', '--json'], deep);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).file).toBe('../../etc/passwd.jpg');
  });
});
