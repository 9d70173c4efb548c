import '@tensorflow/tfjs-backend-cpu';
import { connect } from 'node:net';

import { Classifier } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  HOSTILE_FILE_NAMES,
  type HostileInput,
  goodJpeg,
  hostileInputs,
} from '../../../test-support/hostile-inputs.js';
import { tinyBundle } from '../../../test-support/tiny-bundle.js';
import { type RunningServer, startServer } from '../src/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LIMITS = { maxFiles: 8, uploadTimeoutMs: 1_000, maxWaiting: 2, maxBodyBytes: 256 * 1024 };

let corpus: HostileInput[];
let good: Uint8Array<ArrayBuffer>;
let classifier: Classifier;
let server: RunningServer;

beforeAll(async () => {
  await tf.setBackend('cpu');
  corpus = await hostileInputs();
  good = new Uint8Array(await goodJpeg());
  const { model, metadata } = tinyBundle({ fit: 'cell-crop', seed: 5 });
  classifier = Classifier.fromModel(model, metadata);
  server = await startServer({ classifier, port: 0, host: '127.0.0.1', log: false, limits: LIMITS });
  await until(async () => (await fetch(`${server.url}/readyz`)).status === 200);
});

afterAll(async () => {
  await server?.close();
  classifier?.dispose();
});

function form(files: [string, Uint8Array][]): FormData {
  const data = new FormData();
  for (const [name, bytes] of files) data.append('images', new Blob([new Uint8Array(bytes)]), name);
  return data;
}

async function post(
  body: BodyInit,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json; type: string }> {
  const response = await fetch(`${server.url}/api/v1/classify`, { method: 'POST', body, headers });
  return {
    status: response.status,
    json: (await response.json()) as Json,
    type: response.headers.get('content-type') ?? '',
  };
}

/** A good request after hostile ones: the server must still answer it. */
async function expectStillServing(): Promise<void> {
  const { status, json } = await post(form([['control.jpeg', good]]));
  expect(status).toBe(200);
  expect(json.results[0].cellType).toMatch(/^(EOSINOPHIL|LYMPHOCYTE|MONOCYTE|NEUTROPHIL)$/);
}

describe('hostile uploads to the API on 127.0.0.1', () => {
  it('answers each hostile file with its defined status and code, then still serves', async () => {
    const answers: Record<string, [number, string]> = {};
    const expected: Record<string, [number, string]> = {};
    for (const input of corpus) {
      const { status, json, type } = await post(form([[input.fileName, input.bytes]]));
      expect(type, input.id).toMatch(/^application\/json/);
      answers[input.id] = [status, json.error?.code ?? (json.results?.[0]?.cellType ? 'classified' : '?')];
      expected[input.id] = [input.status, input.answer];
    }
    expect(answers).toEqual(expected);
    await expectStillServing();
  });

  it('answers the same for a raw body, an empty one included', async () => {
    for (const input of corpus.filter((i) =>
      ['empty', 'svg-with-script', 'png-50000x50000'].includes(i.id),
    )) {
      const { status, json } = await post(new Uint8Array(input.bytes), { 'Content-Type': 'image/jpeg' });
      expect([status, json.error?.code], input.id).toEqual([input.status, input.answer]);
    }
  });

  it('reports a zero-byte part in place among good ones', async () => {
    const { status, json } = await post(
      form([
        ['good.jpeg', good],
        ['zero.jpeg', new Uint8Array(0)],
        ['also.jpeg', good],
      ]),
    );
    expect(status).toBe(200);
    expect(json.results.map((r: Json) => r.error?.code ?? 'classified')).toEqual([
      'classified',
      'NOT_AN_IMAGE',
      'classified',
    ]);
    expect(json.differential.failed).toBe(1);
  });

  it('refuses more files than the limit with 413 TOO_MANY_FILES', async () => {
    const files = Array.from(
      { length: LIMITS.maxFiles + 1 },
      (_, i) => [`f${i}.jpeg`, good] as [string, Uint8Array],
    );
    const { status, json } = await post(form(files));
    expect([status, json.error.code]).toEqual([413, 'TOO_MANY_FILES']);
    await expectStillServing();
  });

  it('answers every body over the limit 413, never with a reset socket', async () => {
    const answers: (number | string)[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await fetch(`${server.url}/api/v1/classify`, {
        method: 'POST',
        body: new Uint8Array(LIMITS.maxBodyBytes + 1),
        headers: { 'Content-Type': 'image/jpeg' },
      }).catch((error: Error) => error);
      answers.push(
        response instanceof Response ? response.status : `${(response.cause as { code?: string })?.code}`,
      );
    }
    expect(answers).toEqual(new Array(12).fill(413));
    await expectStillServing();
  });

  it('echoes hostile file names only as JSON strings, exactly as sent', async () => {
    const names = [...HOSTILE_FILE_NAMES];
    const { status, json, type } = await post(form(names.map((name) => [name, good])));
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/json/);
    expect(json.results.map((r: Json) => r.file)).toEqual(names);

    const response = await fetch(`${server.url}/api/v1/classify?filename=${encodeURIComponent(names[3]!)}`, {
      method: 'POST',
      body: corpus.find((i) => i.id === 'text-named-jpg')!.bytes as Uint8Array<ArrayBuffer>,
      headers: { 'Content-Type': 'image/jpeg' },
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const raw = await response.text();
    expect((JSON.parse(raw) as Json).error.code).toBe('NOT_AN_IMAGE');
    expect(raw).not.toMatch(/[\u0000-\u001f]/);
  });

  it('keeps raw control characters in a hand-made multipart file name inside the JSON string', async () => {
    const name = 'a\u0007\u001b[2J.jpg';
    const boundary = 'hostile-boundary';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${name}"\r\n` +
          'Content-Type: image/jpeg\r\n\r\n',
      ),
      Buffer.from(good),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const response = await fetch(`${server.url}/api/v1/classify`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    });
    const raw = await response.text();
    expect(response.status).toBe(200);
    expect(raw).not.toMatch(/[\u0000-\u001f]/);
    expect((JSON.parse(raw) as Json).results[0].file).toBe(name);
  });
});

describe('a slowloris upload that never finishes', () => {
  it('is answered 408 UPLOAD_TIMEOUT and closed, freeing its queue place for good requests', async () => {
    const places = 1 + LIMITS.maxWaiting;
    const slow = Array.from({ length: places }, () => slowUpload(server.url));
    await until(() => server.queue.size === places);

    // Every place is held: a deliberate 503 with Retry-After, not a hang, and not a reset socket
    // for a body the server never reads.
    for (const body of [good, new Uint8Array(200 * 1024), new Uint8Array(200 * 1024)]) {
      const refused = await fetch(`${server.url}/api/v1/classify`, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'image/jpeg' },
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    }

    const answers = await Promise.all(slow);
    for (const answer of answers) {
      expect(answer.statusLine).toBe('HTTP/1.1 408 Request Timeout');
      expect(answer.body).toContain('"UPLOAD_TIMEOUT"');
      expect(answer.closedAfterMs).toBeLessThan(LIMITS.uploadTimeoutMs + 3_000);
    }
    expect(server.queue.size).toBe(0);
    await expectStillServing();
  });
});

/** Sends headers promising 100 kB (under the limit) and 10 bytes of it, then nothing; resolves when the server closes. */
function slowUpload(url: string): Promise<{ statusLine: string; body: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        'POST /api/v1/classify HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/jpeg\r\n' +
          'Content-Length: 100000\r\n\r\n0123456789',
      );
    });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n');
      resolve({ statusLine: head.split('\r\n')[0] ?? '', body, closedAfterMs: Date.now() - started });
    });
  });
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
