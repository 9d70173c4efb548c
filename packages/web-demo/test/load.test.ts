import '@tensorflow/tfjs-backend-cpu';

import { Classifier } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { goodJpeg, pngDeclaring } from '../../../test-support/hostile-inputs.js';
import { tinyBundle } from '../../../test-support/tiny-bundle.js';
import type { MemoryReport } from '../src/debug/index.js';
import { type RunningServer, startServer } from '../src/server.js';

/** Small enough that the oversized request is refused from its Content-Length alone. */
const MAX_BODY_BYTES = 64 * 1024;

let classifier: Classifier;
let server: RunningServer;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const { model, metadata } = tinyBundle({ fit: 'cell-crop', seed: 9 });
  classifier = Classifier.fromModel(model, metadata);
  server = await startServer({
    classifier,
    port: 0,
    host: '127.0.0.1',
    log: false,
    debug: true,
    limits: { maxBodyBytes: MAX_BODY_BYTES, maxWaiting: 4 },
  });
  const deadline = Date.now() + 20_000;
  while ((await fetch(`${server.url}/readyz`)).status !== 200 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});

afterAll(async () => {
  await server?.close();
  classifier?.dispose();
});

async function memory(): Promise<MemoryReport> {
  return (await (await fetch(`${server.url}/api/v1/debug/memory`)).json()) as MemoryReport;
}

describe('a short burst of mixed requests (in-suite load check)', () => {
  it('answers only defined statuses (no 5xx but deliberate 503s) and leaks no tensors', async () => {
    const good = Buffer.from(await goodJpeg());
    const gif = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#a05070' } })
      .gif()
      .toBuffer();
    const mix = [
      { method: 'POST', path: '/api/v1/classify', headers: { 'content-type': 'image/jpeg' }, body: good },
      {
        method: 'POST',
        path: '/api/v1/classify',
        headers: { 'content-type': 'image/png' },
        body: 'not an image',
      },
      {
        method: 'POST',
        path: '/api/v1/classify',
        headers: { 'content-type': 'image/png' },
        body: Buffer.from(pngDeclaring(50_000, 50_000)),
      },
      { method: 'POST', path: '/api/v1/classify', headers: { 'content-type': 'image/gif' }, body: gif },
    ];
    await fetch(`${server.url}/api/v1/classify`, {
      method: 'POST',
      body: good,
      headers: { 'content-type': 'image/jpeg' },
    });
    const before = await memory();

    // Oversized bodies go by fetch beside autocannon, which counts a connection closed after a 413
    // (the body left unread) as a socket error.
    let loading = true;
    const [result, oversized] = await Promise.all([
      // autocannon answers a thenable without finally.
      Promise.resolve(
        autocannon({ url: server.url, connections: 8, amount: 400, timeout: 10, requests: mix }),
      ).finally(() => (loading = false)),
      (async () => {
        const answers: Record<string, number> = {};
        while (loading) {
          const response = await fetch(`${server.url}/api/v1/classify`, {
            method: 'POST',
            body: new Uint8Array(MAX_BODY_BYTES + 1024),
            headers: { 'content-type': 'image/jpeg' },
          }).catch((error: Error) => error);
          const key = response instanceof Response ? String(response.status) : 'failed';
          answers[key] = (answers[key] ?? 0) + 1;
        }
        return answers;
      })(),
    ]);

    const statuses = Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
    );
    console.info(
      `load burst: ${JSON.stringify(statuses)}, ${result.errors} socket errors, p50 ${result.latency.p50} ms; oversized ${JSON.stringify(oversized)}`,
    );
    const unexpected = Object.keys(statuses).filter(
      (code) => !['200', '400', '413', '415', '503'].includes(code),
    );
    expect(unexpected, JSON.stringify(statuses)).toEqual([]);
    expect(statuses['200'], JSON.stringify(statuses)).toBeGreaterThan(0);
    expect([result.errors, result.timeouts]).toEqual([0, 0]);
    expect(Object.keys(oversized).filter((key) => key !== '413' && key !== '503')).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.queue.size).toBe(0);
    const after = await memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.tensors).toBe(tf.memory().numTensors);
  });
});
