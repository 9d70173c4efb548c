import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Classifier } from '@bloodcell/core';
import type { OpenClassifierOptions, OpenedClassifier } from '@bloodcell/node';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { fakeClassifier } from '../test/fake-classifier.js';
import { startServer } from './server.js';

// Stands in for the engines: what startServer asks of @bloodcell/node is what these tests check.
const opened = vi.hoisted(() => ({
  calls: [] as { modelDir: string; options: unknown }[],
  closed: 0,
  loaded: 0,
  disposed: 0,
  explainedWith: [] as unknown[],
}));

vi.mock('@bloodcell/core', async (importOriginal) => {
  const original = await importOriginal<typeof import('@bloodcell/core')>();
  return {
    ...original,
    explainClassification: async (model: unknown) => {
      opened.explainedWith.push(model);
      const [result] = await (await import('../test/fake-classifier.js')).fakeClassifier().classifyBatch([null as never]);
      return { result, activation: { cellType: 'NEUTROPHIL', grid: [[1]] } };
    },
  };
});

vi.mock('@bloodcell/node', async (importOriginal) => {
  const original = await importOriginal<typeof import('@bloodcell/node')>();
  const { fakeClassifier: fake } = await import('../test/fake-classifier.js');
  return {
    ...original,
    openClassifier: async (modelDir: string, options: OpenClassifierOptions = {}): Promise<OpenedClassifier> => {
      opened.calls.push({ modelDir, options });
      const engine = options.engine ?? 'onnx';
      const classifier = fake();
      const close = async () => void (opened.closed += 1);
      return { metadata: classifier.metadata, classifyBatch: classifier.classifyBatch, engine, workers: 0, close };
    },
    // The TF.js copy explain=1 falls back to on the onnx engine.
    loadClassifier: async () => {
      opened.loaded += 1;
      return { copy: 'tfjs', dispose: () => void (opened.disposed += 1) } as unknown as Classifier;
    },
  };
});

// The server serves the bundle's files for privacy mode: a model.json is all it reads of them.
let modelDir: string;
beforeAll(async () => {
  modelDir = await mkdtemp(join(tmpdir(), 'bloodcell-server-'));
  await writeFile(join(modelDir, 'model.json'), JSON.stringify({ weightsManifest: [] }));
});
afterAll(() => rm(modelDir, { recursive: true, force: true }));

afterEach(() => {
  opened.calls.length = 0;
  opened.explainedWith.length = 0;
  opened.closed = opened.loaded = opened.disposed = 0;
});

async function post(url: string, query = ''): Promise<Response> {
  const jpeg = await sharp({ create: { width: 16, height: 12, channels: 3, background: '#d0a0b0' } }).jpeg().toBuffer();
  return fetch(`${url}/api/v1/classify${query}`, { method: 'POST', body: new Uint8Array(jpeg), headers: { 'Content-Type': 'image/jpeg' } });
}

describe('startServer opening its own model', () => {
  it('opens modelDir on the chosen engine, runs 4 at once on onnx, and closes it', async () => {
    const server = await startServer({ modelDir, engine: 'onnx', prepareWorkers: 1, port: 0, log: false });
    expect(opened.calls).toEqual([{ modelDir, options: { engine: 'onnx', backend: undefined, prepareWorkers: 1 } }]);
    expect(server.engine).toBe('onnx');
    expect(server.queue.maxConcurrent).toBe(4);
    expect((await post(server.url)).status).toBe(200);
    await server.close();
    expect(opened.closed).toBe(1);
    // Never asked for an activation map: the TF.js copy was never loaded.
    expect(opened.loaded).toBe(0);
  });

  it('loads the TF.js model for explain=1 on onnx once, and frees it on close', async () => {
    const server = await startServer({ modelDir, port: 0, log: false, limits: { maxConcurrent: 2 } });
    expect(server.queue.maxConcurrent).toBe(2);
    for (let i = 0; i < 2; i++) {
      const response = await post(server.url, '?explain=1');
      expect(response.status).toBe(200);
      expect(((await response.json()) as { results: { activation: unknown }[] }).results[0]!.activation).toBeDefined();
    }
    expect(opened.loaded).toBe(1);
    expect(opened.explainedWith).toEqual([{ copy: 'tfjs', dispose: expect.any(Function) }, expect.anything()]);
    await server.close();
    expect([opened.closed, opened.disposed]).toEqual([1, 1]);
  });

  it('keeps one TF.js job at a time on tfjs, and leaves a classifier it was given open', async () => {
    const tfjs = await startServer({ modelDir, engine: 'tfjs', port: 0, log: false });
    expect(opened.calls[0]!.options).toMatchObject({ engine: 'tfjs', prepareWorkers: 0 });
    expect(tfjs.queue.maxConcurrent).toBe(1);
    await tfjs.close();
    expect(opened.closed).toBe(1);

    const given = await startServer({ classifier: fakeClassifier(), port: 0, log: false });
    expect(given.engine).toBeUndefined();
    await given.close();
    expect(opened.closed).toBe(1);
  });

  it('closes the model it opened when it cannot listen, after its warm-up, and says to pick a port', async () => {
    const first = await startServer({ modelDir, port: 0, log: false });
    const port = Number(new URL(first.url).port);
    const lines: string[] = [];
    await expect(startServer({ modelDir, port, log: (line) => lines.push(line) })).rejects.toThrow(
      new RegExp(`Port ${port} on 127.0.0.1 is already in use: choose another with --port`),
    );
    expect(opened.closed).toBe(1);
    expect(lines.filter((line) => line.includes('warm-up failed'))).toEqual([]);
    await first.close();
  });
});
