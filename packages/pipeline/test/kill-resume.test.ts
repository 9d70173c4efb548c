import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CELL_TYPES } from '@bloodcell/core';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';

import {
  GROUPS_CSV,
  HAS_SHARED,
  MOBILENET_DIR,
  REPO_ROOT,
  SHARED_MISSING,
  TRAIN_DIR,
} from '../../../test-support/shared.js';
import { readLock } from '../src/lock/index.js';
import { labelledFiles } from './fixtures.js';

const CLI = join(REPO_ROOT, 'packages', 'pipeline', 'dist', 'cli.js');
const HAS_CLI = existsSync(CLI);
const S3_KEYS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

/** A `bloodcell-pipeline` child process, its stderr lines, and how it ended. */
interface PipelineRun {
  child: ChildProcess;
  lines: string[];
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function pipeline(args: string[], env: NodeJS.ProcessEnv = {}): PipelineRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, ended };
}

/** Runs to the end and expects success. */
async function completes(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const run = pipeline(args, env);
  const { code } = await run.ended;
  expect(code, run.lines.join('\n')).toBe(0);
  return run.lines;
}

/** Waits for `condition`, then kills the run with SIGKILL: no handler, no cleanup, like a power cut. */
async function killWhen(run: PipelineRun, condition: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void run.ended.then(() => (exited = true));
  while (!condition()) {
    if (exited) throw new Error(`the run ended before the moment to kill it:\n${run.lines.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting to kill:\n${run.lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  run.child.kill('SIGKILL');
  expect((await run.ended).signal).toBe('SIGKILL');
}

function countFiles(dir: string, suffix: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true }).filter((name) => String(name).endsWith(suffix)).length;
}

async function writeParams(root: string, params: object): Promise<string> {
  const file = join(root, 'params.yaml');
  await writeFile(file, stringifyYaml(params));
  return file;
}

describe.skipIf(!HAS_CLI)(
  `bloodcell-pipeline repro killed during ingest from S3, then rerun (${CLI})`,
  () => {
    let root: string;
    let s3rver: S3rver;
    let proxy: http.Server;
    let getsAllowed = Infinity;
    let gets = 0;

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'bloodcell-kill-ingest-'));
      s3rver = new S3rver({ port: 0, address: '127.0.0.1', directory: join(root, 's3'), silent: true });
      const { port } = await s3rver.run();
      const s3 = new S3Client({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${port}`,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      await s3.send(new CreateBucketCommand({ Bucket: 'cells' }));
      for (const [key, body] of (await labelledFiles('train/')).files)
        await s3.send(new PutObjectCommand({ Bucket: 'cells', Key: key, Body: body }));
      s3.destroy();

      // GetObject requests beyond `getsAllowed` hang, so a run is caught with its download half done.
      proxy = http.createServer((req, res) => {
        if (!req.url?.includes('list-type=2') && ++gets > getsAllowed) return;
        const upstream = http.request(
          { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            answer.pipe(res);
          },
        );
        req.pipe(upstream);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    });

    afterAll(async () => {
      proxy?.closeAllConnections();
      proxy?.close();
      await s3rver?.close();
      await rm(root, { recursive: true, force: true });
    });

    it('keeps the previous artifacts/ingest and lock, clears the leftovers, and finishes on rerun', async () => {
      const env = {
        ...S3_KEYS,
        AWS_ENDPOINT_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      };
      const ingest = { source: 's3://cells/train', groups: null, attempts: 2 };
      // Only ingest runs; base needs a path to be valid params, never read.
      const base = { path: 'no-base-needed' };
      const params = await writeParams(root, { ingest: { ...ingest, conflicts: 'drop' }, base });
      const repro = ['repro', 'ingest', '--params', params];
      await completes(repro, env);
      const manifest = await readFile(join(root, 'artifacts/ingest/manifest.json'), 'utf8');
      const lock = await readFile(join(root, 'pipeline.lock'), 'utf8');

      // A changed param reruns ingest; without the download cache it must fetch every object again.
      await writeParams(root, { ingest: { ...ingest, conflicts: 'keep-first' }, base });
      await rm(join(root, 'artifacts/cache/ingest'), { recursive: true, force: true });
      gets = 0;
      getsAllowed = 4;
      const killed = pipeline(repro, env);
      const staging = () =>
        readdirSync(join(root, 'artifacts')).filter((name) => name.startsWith('.ingest.staging-'));
      await killWhen(killed, () => staging().length > 0 && gets > getsAllowed);

      expect(await readFile(join(root, 'artifacts/ingest/manifest.json'), 'utf8')).toBe(manifest);
      expect(await readFile(join(root, 'pipeline.lock'), 'utf8')).toBe(lock);
      const [left] = staging();
      expect(staging()).toHaveLength(1);

      getsAllowed = Infinity;
      const lines = await completes(repro, env);
      expect(lines).toContain(`ingest: removed ${left} left by a killed run`);
      expect(staging()).toEqual([]);
      const rerun = JSON.parse(await readFile(join(root, 'artifacts/ingest/manifest.json'), 'utf8'));
      expect(rerun.crossClassDuplicates.length).toBeGreaterThan(0);
      expect((await readLock(join(root, 'pipeline.lock'))).stages.ingest!.params).toMatchObject({
        conflicts: 'keep-first',
      });
    });
  },
);

const TRAIN_TITLE = HAS_SHARED ? 'shared data found' : SHARED_MISSING;

describe.skipIf(!HAS_CLI || !HAS_SHARED)(
  `bloodcell-pipeline repro killed during train, then rerun (${TRAIN_TITLE})`,
  () => {
    let root: string;
    let params: Record<string, Record<string, unknown>>;
    const repro = () => ['repro', 'train', '--params', join(root, 'params.yaml'), '--verbose'];
    const cachedFeatures = () => countFiles(join(root, 'artifacts/cache/features'), '.f32');

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'bloodcell-kill-train-'));
      // Eight smears per cell type, copied out of the read-only shared set.
      for (const cellType of CELL_TYPES) {
        await mkdir(join(root, 'data', cellType), { recursive: true });
        for (const name of (await readdir(join(TRAIN_DIR, cellType))).sort().slice(0, 8)) {
          await copyFile(join(TRAIN_DIR, cellType, name), join(root, 'data', cellType, name));
        }
      }
      params = {
        ingest: { source: 'data', groups: GROUPS_CSV },
        base: { path: MOBILENET_DIR },
        train: { epochs: 3, validationShare: 0.5 },
      };
      await writeParams(root, params);
    });

    afterAll(() => rm(root, { recursive: true, force: true }));

    it('resumes feature extraction from the cache after a kill, skipping ingest and base', async () => {
      const killed = pipeline(repro());
      await killWhen(killed, () => cachedFeatures() >= 1);
      const lock = await readLock(join(root, 'pipeline.lock'));
      expect(Object.keys(lock.stages)).toEqual(['ingest', 'base']);
      expect(existsSync(join(root, 'artifacts/model'))).toBe(false);
      const cachedAtKill = cachedFeatures();
      expect(cachedAtKill).toBeLessThan(32);

      const lines = await completes(repro());
      expect(lines.some((line) => /^ingest: up to date/.test(line))).toBe(true);
      expect(lines.some((line) => /^base: up to date/.test(line))).toBe(true);
      const features = lines.find((line) => line.startsWith('features: '));
      expect(Number(/(\d+) from cache/.exec(features ?? '')?.[1])).toBeGreaterThanOrEqual(cachedAtKill);
      expect(Object.keys((await readLock(join(root, 'pipeline.lock'))).stages)).toEqual([
        'ingest',
        'base',
        'train',
      ]);
    });

    it('keeps the previous model and lock when killed while the head trains, then retrains', async () => {
      const bundle = await readFile(join(root, 'artifacts/model/bloodcell.json'), 'utf8');
      const lock = await readFile(join(root, 'pipeline.lock'), 'utf8');
      await writeParams(root, { ...params, train: { ...params.train, epochs: 4 } });

      const killed = pipeline(repro());
      await killWhen(killed, () => killed.lines.some((line) => line.startsWith('epoch 1:')));
      expect(await readFile(join(root, 'artifacts/model/bloodcell.json'), 'utf8')).toBe(bundle);
      expect(await readFile(join(root, 'pipeline.lock'), 'utf8')).toBe(lock);

      await completes(repro());
      const retrained = JSON.parse(await readFile(join(root, 'artifacts/model/bloodcell.json'), 'utf8'));
      expect(retrained.training.createdAt).not.toBe(JSON.parse(bundle).training.createdAt);
      expect((await readdir(join(root, 'artifacts'))).filter((name) => name.startsWith('.'))).toEqual([]);
    });
  },
);
