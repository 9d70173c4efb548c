import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { fakeClassifier } from '../test/fake-classifier.js';
import { createApp } from './app.js';
import { Lifecycle } from './lifecycle/index.js';

const quiet = { log: false as const, assetsDir: '/nonexistent' };

async function ready(lifecycle: Lifecycle): Promise<void> {
  for (let i = 0; i < 100 && lifecycle.state === 'starting'; i++) await new Promise((r) => setTimeout(r, 5));
}

describe('createApp', () => {
  it('serves the page with its CSP, and JSON 404s elsewhere', async () => {
    const app = createApp({ classifier: fakeClassifier(), ...quiet });
    const page = await app.request('/');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<script type="module" src="/assets/app.js"></script>');
    const missing = await app.request('/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('answers another method on a POST-only route with 405 and Allow: POST', async () => {
    const app = createApp({ classifier: fakeClassifier(), ...quiet });
    const wrong = await app.request('/api/v1/classify');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(await wrong.json()).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
  });

  it('is ready after the warm-up classification, and unready once draining', async () => {
    const lifecycle = new Lifecycle();
    const classifier = fakeClassifier();
    const app = createApp({ classifier, lifecycle, ...quiet });
    await ready(lifecycle);
    expect(classifier.calls).toBe(1);
    expect(await (await app.request('/readyz')).json()).toEqual({ status: 'ready' });

    lifecycle.startDraining();
    const draining = await app.request('/readyz');
    expect(draining.status).toBe(503);
    expect(draining.headers.get('retry-after')).toBeTruthy();
    expect(await draining.json()).toMatchObject({ error: { code: 'SHUTTING_DOWN' } });
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('stays unready with WARMUP_FAILED when the model cannot classify', async () => {
    const lifecycle = new Lifecycle();
    const lines: string[] = [];
    createApp({ classifier: fakeClassifier({ probabilities: [0, 0, 0, 0] }), lifecycle, ...quiet, log: (l) => lines.push(l) });
    await ready(lifecycle);
    expect(lifecycle.state).toBe('failed');
    expect(lines.some((line) => line.startsWith('warm-up failed'))).toBe(true);
  });

  it('answers an unexpected failure with INTERNAL and no stack trace, and logs it', async () => {
    const lines: string[] = [];
    const classifier = fakeClassifier();
    const app = createApp({ classifier, ...quiet, log: (line) => lines.push(line) });
    classifier.classifyBatch = () => Promise.reject(new Error('secret at /srv/model/weights.bin'));

    const png = new Uint8Array(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toBuffer());
    const response = await app.request('/api/v1/classify', { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } });
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'INTERNAL' } });
    expect(text).not.toMatch(/secret|\/srv|at /);
    expect(lines.some((line) => line.includes('secret at /srv/model/weights.bin'))).toBe(true);
  });

  it('turns privacy mode off without a model folder, and reports the request limits', async () => {
    const app = createApp({ classifier: fakeClassifier(), ...quiet, limits: { maxFiles: 3 } });
    const model = (await (await app.request('/api/v1/model')).json()) as { browserModel: unknown; limits: { maxFiles: number } };
    expect(model.browserModel).toBeNull();
    expect(model.limits.maxFiles).toBe(3);
    expect((await app.request('/model/model.json')).status).toBe(404);
  });

  it('refuses a bad explain value with 400, and explain=1 without a real model with 501', async () => {
    const app = createApp({ classifier: fakeClassifier(), ...quiet });
    const png = new Uint8Array(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toBuffer());
    const send = (query: string) =>
      app.request(`/api/v1/classify${query}`, { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } });

    const bad = await send('?explain=maybe');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_QUERY', message: expect.stringContaining('1, true, 0 or false') } });
    const unavailable = await send('?explain=1');
    expect(unavailable.status).toBe(501);
    expect(await unavailable.json()).toMatchObject({ error: { code: 'EXPLAIN_UNAVAILABLE' } });
    expect((await send('?explain=0')).status).toBe(200);
  });

  it('refuses more files than maxFiles with 413 TOO_MANY_FILES', async () => {
    const app = createApp({ classifier: fakeClassifier(), ...quiet, limits: { maxFiles: 1 } });
    const form = new FormData();
    form.append('images', new Blob([new Uint8Array(4)]), 'a.png');
    form.append('images', new Blob([new Uint8Array(4)]), 'b.png');
    const response = await app.request('/api/v1/classify', { method: 'POST', body: form });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'TOO_MANY_FILES' } });
  });
});
