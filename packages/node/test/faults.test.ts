import '@tensorflow/tfjs-backend-cpu';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { REPO_ROOT } from '../../../test-support/shared.js';
import { syntheticSmear, tinyBundle } from '../../../test-support/tiny-bundle.js';
import { loadClassifier, writeBundle } from '../src/bundle-store/index.js';

/** Paths whose writeFile fails with ENOSPC: the injected full disk, for machines without tmpfs. */
const fullDisk = vi.hoisted(() => ({ matching: undefined as RegExp | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const writeFile: typeof actual.writeFile = async (path, ...rest) => {
    if (fullDisk.matching?.test(String(path))) {
      throw Object.assign(new Error(`ENOSPC: no space left on device, write '${String(path)}'`), {
        code: 'ENOSPC',
      });
    }
    return actual.writeFile(path, ...rest);
  };
  return { ...actual, writeFile, default: { ...actual, writeFile } };
});

const CLI = join(REPO_ROOT, 'packages', 'node', 'dist', 'cli.js');
const run = promisify(execFile);
let work: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = await mkdtemp(join(tmpdir(), 'bloodcell-faults-'));
});

afterAll(() => rm(work, { recursive: true, force: true }));

type Damage = (metadata: Record<string, any>, dir: string) => Promise<void> | void; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A fresh tiny bundle, damaged in one way. */
async function damagedBundle(name: string, damage: Damage): Promise<string> {
  const { model, metadata } = tinyBundle({ fit: 'cell-crop' });
  const dir = join(work, name);
  await writeBundle(dir, model, metadata);
  const json = JSON.parse(await readFile(join(dir, 'bloodcell.json'), 'utf8'));
  await damage(json, dir);
  await writeFile(join(dir, 'bloodcell.json'), JSON.stringify(json));
  return dir;
}

const DAMAGES: [string, string, Damage][] = [
  ['a newer bundle format', 'BUNDLE_TOO_NEW', (m) => void (m.formatVersion = 2)],
  ['a format version that is not a number', 'BAD_METADATA', (m) => void (m.formatVersion = '1')],
  ['cell types in another order', 'CELL_TYPES_MISMATCH', (m) => void m.cellTypes.reverse()],
  [
    'a feature shape the model does not give',
    'FEATURE_SHAPE_MISMATCH',
    (m) => void (m.backbone.featureShape = [7, 7, 1280]),
  ],
  [
    'an output layer the model lacks',
    'OUTPUT_LAYER_MISSING',
    (m) => void (m.backbone.outputLayer = 'block_16_project'),
  ],
  [
    'a model.json TF.js cannot build',
    'MODEL_JSON_INVALID',
    (_, dir) =>
      writeFile(join(dir, 'model.json'), '{"modelTopology": {"garbage": 1}, "weightsManifest": []}'),
  ],
];

describe('bundles that do not belong to this version or to their own files', () => {
  it.each(DAMAGES)('refuses %s with %s', async (name, code, damage) => {
    const dir = await damagedBundle(name.replace(/\W+/g, '-'), damage);
    await expect(loadClassifier(dir)).rejects.toMatchObject({ name: 'BundleError', code });
  });

  it('refuses to answer from NaN weights instead of naming the first cell type', async () => {
    const dir = await damagedBundle('nan-weights', async (_, folder) => {
      const weights = await readFile(join(folder, 'weights.bin'));
      await writeFile(join(folder, 'weights.bin'), weights.fill(0xff));
    });
    const classifier = await loadClassifier(dir);
    await expect(classifier.classify(syntheticSmear(50, 40))).rejects.toMatchObject({
      code: 'MODEL_OUTPUT_NOT_FINITE',
    });
    classifier.dispose();
  });

  it.skipIf(!existsSync(CLI))('makes the CLI exit 2 with the reason, not a stack trace', async () => {
    const newer = join(work, 'a-newer-bundle-format');
    const image = join(work, 'smear.png');
    await writeFile(image, new Uint8Array(0));
    const failure = await run('node', [CLI, 'classify', image, '--model', newer, '--engine', 'tfjs']).catch(
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toMatch(
      /^bloodcell: This bundle has format version 2.*Upgrade/,
    );
    expect((failure as { stderr: string }).stderr).not.toMatch(/\n\s+at /);
  });
});

/** A 1 MiB tmpfs, when this process may mount one (root on Linux); else undefined. */
function mountTinyDisk(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const mountPoint = execFileSync('mktemp', ['-d', join(tmpdir(), 'bloodcell-full-disk-XXXXXX')])
    .toString()
    .trim();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return mountPoint;
  } catch {
    return undefined;
  }
}

describe('a full disk while a bundle is replaced', () => {
  const tinyDisk = mountTinyDisk();

  afterAll(async () => {
    if (!tinyDisk) return;
    execFileSync('umount', [tinyDisk]);
    await rm(tinyDisk, { recursive: true, force: true });
  });

  async function expectPreviousBundleIntact(dir: string, expected: number[]): Promise<void> {
    const classifier = await loadClassifier(dir);
    const { probabilities } = await classifier.classify(syntheticSmear(50, 40));
    expect(Object.values(probabilities)).toEqual(expected);
    classifier.dispose();
  }

  async function firstBundle(dir: string): Promise<number[]> {
    const { model, metadata } = tinyBundle({ fit: 'cell-crop', seed: 1 });
    await writeBundle(dir, model, metadata);
    const classifier = await loadClassifier(dir);
    const { probabilities } = await classifier.classify(syntheticSmear(50, 40));
    classifier.dispose();
    return Object.values(probabilities);
  }

  it.skipIf(!tinyDisk)(
    'on a real 1 MiB tmpfs: DISK_FULL, the previous bundle intact, no leftovers',
    async () => {
      const dir = join(tinyDisk!, 'model');
      const before = await firstBundle(dir);
      const { bavail, bsize } = await statfs(tinyDisk!);
      await writeFile(join(tinyDisk!, 'filler'), new Uint8Array(Math.max(0, bavail * bsize - 2048)));

      const second = tinyBundle({ fit: 'cell-crop', seed: 2 });
      await expect(writeBundle(dir, second.model, second.metadata)).rejects.toMatchObject({
        code: 'DISK_FULL',
      });
      await expectPreviousBundleIntact(dir, before);
      expect((await readdir(tinyDisk!)).sort()).toEqual(['filler', 'model']);

      await rm(join(tinyDisk!, 'filler'));
      await writeBundle(dir, second.model, second.metadata);
      expect((await readdir(dir)).sort()).toEqual(['bloodcell.json', 'model.json', 'weights.bin']);
    },
  );

  it('with ENOSPC injected into writeFile: the same answer, on any machine', async () => {
    const root = await mkdtemp(join(work, 'injected-'));
    const dir = join(root, 'model');
    const before = await firstBundle(dir);

    const second = tinyBundle({ fit: 'cell-crop', seed: 2 });
    for (const file of ['weights.bin', 'model.json', 'bloodcell.json']) {
      fullDisk.matching = new RegExp(`${file.replace('.', '\\.')}$`);
      try {
        await expect(writeBundle(dir, second.model, second.metadata), file).rejects.toMatchObject({
          code: 'DISK_FULL',
        });
      } finally {
        fullDisk.matching = undefined;
      }
      await expectPreviousBundleIntact(dir, before);
      expect(await readdir(root)).toEqual(['model']);
    }
  });
});
