import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { CELL_TYPES, type Classifier, explainClassification } from '@bloodcell/core';
import { decodeImage } from '@bloodcell/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HAS_SHARED, SHARED_MISSING } from '../../../test-support/shared.js';
import { type RunningServer, startServer } from '../src/server.js';
import { SAMPLE_IMAGES, fixtureClassifier } from './fixture.js';
import { openApiValidator } from './openapi-validator.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.skipIf(!HAS_SHARED)(`web demo API on a real server (${HAS_SHARED ? 'shared data found' : SHARED_MISSING})`, () => {
  let classifier: Classifier;
  let modelDir: string;
  let server: RunningServer;
  let conforms: ReturnType<typeof openApiValidator>;
  const jpeg: Record<string, Uint8Array<ArrayBuffer>> = {};

  beforeAll(async () => {
    ({ classifier, modelDir } = await fixtureClassifier());
    server = await startServer({ classifier, modelDir, port: 0, log: false });
    for (const [cellType, path] of Object.entries(SAMPLE_IMAGES)) jpeg[cellType] = new Uint8Array(await readFile(path));
    await waitUntilReady(server.url);
    conforms = openApiValidator(await (await fetch(`${server.url}/api/v1/openapi.json`)).json());
  });

  afterAll(async () => {
    await server?.close();
    classifier?.dispose();
  });

  async function post(path: string, body: BodyInit, headers: Record<string, string> = {}, base = server.url) {
    const response = await fetch(`${base}${path}`, { method: 'POST', body, headers });
    const json = (await response.json()) as Json;
    expect(conforms(path.split('?')[0]!, 'post', response.status, json)).toBe('');
    return { response, json };
  }

  function form(files: [string, Uint8Array<ArrayBuffer>][], field = 'images'): FormData {
    const data = new FormData();
    for (const [name, bytes] of files) data.append(field, new Blob([bytes]), name);
    return data;
  }

  it('classifies one multipart image exactly as the library does', async () => {
    const { response, json } = await post('/api/v1/classify', form([['lymphocyte.jpeg', jpeg.LYMPHOCYTE!]], 'image'));
    expect(response.status).toBe(200);
    const [result] = json.results;
    const direct = await classifier.classify(await decodeImage(jpeg.LYMPHOCYTE!));
    expect(result.file).toBe('lymphocyte.jpeg');
    expect(result.cellType).toBe(direct.cellType);
    for (const cellType of CELL_TYPES) expect(result.probabilities[cellType]).toBeCloseTo(direct.probabilities[cellType], 6);
    expect(result.box).toEqual(direct.box);
    expect(result.image).toEqual({ width: 320, height: 240, format: 'jpeg' });
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('classifies many images in order, reports a bad one in place, and counts the differential', async () => {
    const files = CELL_TYPES.map((cellType) => [basename(SAMPLE_IMAGES[cellType]), jpeg[cellType]!] as [string, Uint8Array<ArrayBuffer>]);
    files.splice(2, 0, ['notes.txt', new TextEncoder().encode('not an image')]);
    const { response, json } = await post('/api/v1/classify', form(files));
    expect(response.status).toBe(200);
    expect(json.results.map((r: Json) => r.file)).toEqual(files.map(([name]) => name));
    expect(json.results[2].error.code).toBe('NOT_AN_IMAGE');
    expect(json.results[2].error.message).toContain('"notes.txt"');
    expect(json.differential.classified).toBe(4);
    expect(json.differential.failed).toBe(1);
    const counted = CELL_TYPES.reduce((sum, cellType) => sum + json.differential.counts[cellType], 0);
    expect(counted).toBe(4);
  });

  it('adds an activation map with explain=1: 7x7 in [0, 1], strongest 1, for the result\'s cell type', async () => {
    const files = form([['eosinophil.jpeg', jpeg.EOSINOPHIL!], ['neutrophil.jpeg', jpeg.NEUTROPHIL!]]);
    const { response, json } = await post('/api/v1/classify?explain=1', files);
    expect(response.status).toBe(200);
    const plain = await post('/api/v1/classify', form([['eosinophil.jpeg', jpeg.EOSINOPHIL!]]));
    expect(plain.json.results[0].activation).toBeUndefined();

    for (const result of json.results as Json[]) {
      const { cellType, grid } = result.activation as { cellType: string; grid: number[][] };
      expect(cellType).toBe(result.cellType);
      expect(grid).toHaveLength(7);
      for (const row of grid) expect(row).toHaveLength(7);
      const values = grid.flat();
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...values)).toBeCloseTo(1, 6);
    }
    const [eosinophil] = json.results as Json[];
    for (const cellType of CELL_TYPES) {
      expect(eosinophil!.probabilities[cellType]).toBeCloseTo(plain.json.results[0].probabilities[cellType], 6);
    }
    const direct = await explainClassification(classifier, await decodeImage(jpeg.EOSINOPHIL!));
    eosinophil!.activation.grid.flat().forEach((value: number, i: number) => {
      expect(value).toBeCloseTo(direct.activation.grid.flat()[i]!, 6);
    });
  });

  it('classifies a raw image body named by ?filename=', async () => {
    const { response, json } = await post('/api/v1/classify?filename=field.jpeg', jpeg.NEUTROPHIL!, {
      'Content-Type': 'image/jpeg',
    });
    expect(response.status).toBe(200);
    expect(json.results[0].file).toBe('field.jpeg');
  });

  it('makes a PNG preview of a TIFF, which browsers cannot show', async () => {
    const tiff = await sharp(jpeg.LYMPHOCYTE!).tiff().toBuffer();
    const response = await fetch(`${server.url}/api/v1/preview`, {
      method: 'POST',
      body: new Uint8Array(tiff),
      headers: { 'Content-Type': 'image/tiff' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(await sharp(new Uint8Array(await response.arrayBuffer())).metadata()).toMatchObject({ width: 320, height: 240 });
  });

  it('answers 400 NOT_AN_IMAGE, 415 for a GIF or a JSON body, 400 NO_IMAGE for an empty form', async () => {
    const text = await post('/api/v1/classify', 'hello', { 'Content-Type': 'image/png' });
    expect([text.response.status, text.json.error.code]).toEqual([400, 'NOT_AN_IMAGE']);

    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#a05070' } }).gif().toBuffer();
    const gifAnswer = await post('/api/v1/classify', form([['cell.gif', new Uint8Array(gif)]]));
    expect([gifAnswer.response.status, gifAnswer.json.error.code]).toEqual([415, 'UNSUPPORTED_IMAGE_TYPE']);

    const json = await post('/api/v1/classify', '{}', { 'Content-Type': 'application/json' });
    expect([json.response.status, json.json.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);

    const empty = await post('/api/v1/classify', new FormData());
    expect([empty.response.status, empty.json.error.code]).toEqual([400, 'NO_IMAGE']);
  });

  it('answers 413 for a body over the limit, with or without Content-Length', async () => {
    const small = await startServer({ classifier, port: 0, log: false, limits: { maxBodyBytes: 4096 } });
    try {
      const declared = await post('/api/v1/classify', jpeg.EOSINOPHIL!, { 'Content-Type': 'image/jpeg' }, small.url);
      expect([declared.response.status, declared.json.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);

      const stream = new Blob([jpeg.EOSINOPHIL!]).stream();
      const chunked = await fetch(`${small.url}/api/v1/classify`, {
        method: 'POST',
        body: stream,
        headers: { 'Content-Type': 'image/jpeg' },
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(((await chunked.json()) as Json).error.code).toBe('PAYLOAD_TOO_LARGE');
    } finally {
      await small.close();
    }
  });

  it('is unready while warming up, answers 503 with Retry-After when the queue is full, then recovers', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = {
      metadata: classifier.metadata,
      classifyBatch: async (...args: Parameters<Classifier['classifyBatch']>) => {
        await gate;
        return classifier.classifyBatch(...args);
      },
    };
    const busy = await startServer({ classifier: held, port: 0, log: false, limits: { maxWaiting: 1 } });
    try {
      const notReady = await fetch(`${busy.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as Json).error.code).toBe('NOT_READY');

      // The warm-up holds the one inference slot; this request takes the one waiting place.
      const waiting = post('/api/v1/classify', jpeg.MONOCYTE!, { 'Content-Type': 'image/jpeg' }, busy.url);
      await until(() => busy.queue.size === 2);
      const refused = await post('/api/v1/classify', jpeg.MONOCYTE!, { 'Content-Type': 'image/jpeg' }, busy.url);
      expect([refused.response.status, refused.json.error.code]).toEqual([503, 'OVERLOADED']);
      expect(refused.response.headers.get('retry-after')).toMatch(/^\d+$/);

      open();
      expect((await waiting).response.status).toBe(200);
      await waitUntilReady(busy.url);
    } finally {
      open();
      await busy.close();
    }
  });

  it('drains on close: the request in flight finishes, then the port is closed', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let calls = 0;
    const held = {
      metadata: classifier.metadata,
      classifyBatch: async (...args: Parameters<Classifier['classifyBatch']>) => {
        if (++calls > 1) await gate;
        return classifier.classifyBatch(...args);
      },
    };
    const draining = await startServer({ classifier: held, port: 0, log: false });
    await waitUntilReady(draining.url);

    const inFlight = post('/api/v1/classify', jpeg.EOSINOPHIL!, { 'Content-Type': 'image/jpeg' }, draining.url);
    await until(async () => calls > 1);
    const closed = draining.close();
    expect(draining.lifecycle.state).toBe('draining');
    open();

    expect((await inFlight).response.status).toBe(200);
    await closed;
    await expect(fetch(`${draining.url}/healthz`)).rejects.toThrow();
  });

  it('describes the model, conforming to the OpenAPI document, and serves the bundle for the browser', async () => {
    const response = await fetch(`${server.url}/api/v1/model`);
    const model = (await response.json()) as Json;
    expect(conforms('/api/v1/model', 'get', 200, model)).toBe('');
    expect(model.cellTypes).toEqual([...CELL_TYPES]);
    expect(model.validation.images).toBeGreaterThan(0);
    expect(model.browserModel).toBe('/model/');
    for (const file of ['model.json', 'weights.bin', 'bloodcell.json']) {
      expect((await fetch(`${server.url}/model/${file}`)).status, file).toBe(200);
    }
  });

  it('answers /healthz and /readyz as documented', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(conforms(path, 'get', 200, await response.json())).toBe('');
    }
  });

  it('sends security headers on the page and the API', async () => {
    for (const path of ['/', '/api/v1/model']) {
      const headers = (await fetch(`${server.url}${path}`)).headers;
      expect(headers.get('content-security-policy')).toContain("script-src 'self' 'wasm-unsafe-eval'");
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
    }
  });
});

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitUntilReady(url: string): Promise<void> {
  await until(async () => (await fetch(`${url}/readyz`)).status === 200, 60_000);
}
