import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';

import { requestLog } from './index.js';

describe('requestLog', () => {
  it('writes method, path without query, status and milliseconds once per request', async () => {
    const lines: string[] = [];
    const app = new Hono();
    app.use('*', requestLog((line) => lines.push(line)));
    app.get('/ok', (c) => c.text('fine'));

    await app.request('/ok?name=patient-42.jpeg');
    await app.request('/missing');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^GET \/ok 200 \d+ms$/);
    expect(lines[1]).toMatch(/^GET \/missing 404 \d+ms$/);
  });

  it('stays quiet when turned off', async () => {
    const app = new Hono();
    app.use('*', requestLog(false));
    app.get('/', (c) => c.text('ok'));
    expect((await app.request('/')).status).toBe(200);
  });
});
