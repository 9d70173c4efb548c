import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { CELL_TYPES, type Classifier, explainClassification } from '@bloodcell/core';
import { decodeImage, onnxRuntimeAvailable } from '@bloodcell/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HAS_SHARED, SHARED_MISSING } from '../../../test-support/shared.js';
import { type RunningServer, startServer } from '../src/server.js';
import { SAMPLE_IMAGES, fixtureClassifier } from './fixture.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ORT = await onnxRuntimeAvailable();
const TITLE = 'web demo opening its bundle on the onnx engine';
const SKIP = !HAS_SHARED ? SHARED_MISSING : !ORT ? 'onnxruntime-node does not load here' : '';

describe.skipIf(SKIP !== '')(SKIP ? `${TITLE} (skipped: ${SKIP})` : TITLE, () => {
  let reference: Classifier;
  let server: RunningServer;
  const files: [string, Uint8Array<ArrayBuffer>][] = [];

  beforeAll(async () => {
    let modelDir: string;
    ({ classifier: reference, modelDir } = await fixtureClassifier());
    // With a preparation worker, the path that is not the default, so both are tested (api.test.ts has TF.js).
    server = await startServer({ modelDir, engine: 'onnx', prepareWorkers: 1, port: 0, log: false });
    for (const cellType of CELL_TYPES) {
      files.push([basename(SAMPLE_IMAGES[cellType]), new Uint8Array(await readFile(SAMPLE_IMAGES[cellType]))]);
    }
    for (let i = 0; i < 600 && (await fetch(`${server.url}/readyz`)).status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    reference?.dispose();
  });

  async function classify(query: string, only?: number): Promise<Json[]> {
    const form = new FormData();
    for (const [name, bytes] of only === undefined ? files : [files[only]!]) form.append('images', new Blob([bytes]), name);
    const response = await fetch(`${server.url}/api/v1/classify${query}`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    return ((await response.json()) as Json).results as Json[];
  }

  it('runs on onnx and answers as the TF.js library does, to 1e-4', async () => {
    expect(server.engine).toBe('onnx');
    expect(server.queue.maxConcurrent).toBe(4);
    // Concurrent single-image requests: merged preparation messages and forward passes.
    const results = (await Promise.all(files.map((_, i) => classify('', i)))).flat();
    const expected = await reference.classifyBatch(await Promise.all(files.map(([, bytes]) => decodeImage(bytes))));
    results.forEach((result, i) => {
      expect(result.box).toEqual(expected[i]!.box);
      expect(result.cellType).toBe(expected[i]!.cellType);
      for (const cellType of CELL_TYPES) {
        expect(Math.abs(result.probabilities[cellType] - expected[i]!.probabilities[cellType])).toBeLessThan(1e-4);
      }
    });
  });

  it('answers explain=1 with the TF.js model, loaded for it: the same map as the library', async () => {
    const [explained] = await classify('?explain=1', 0);
    const direct = await explainClassification(reference, await decodeImage(files[0]![1]));
    expect(explained!.activation.cellType).toBe(direct.activation.cellType);
    (explained!.activation.grid as number[][]).flat().forEach((value, i) => {
      expect(value).toBeCloseTo(direct.activation.grid.flat()[i]!, 6);
    });
  });
});
