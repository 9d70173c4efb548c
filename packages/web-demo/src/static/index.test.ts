import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assetTable, bundleTable, serveTable } from './index.js';

describe('static files', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bloodcell-static-'));
    await mkdir(join(dir, 'assets', 'wasm'), { recursive: true });
    await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(dir, 'assets', 'wasm', 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
    await mkdir(join(dir, 'model'));
    const manifest = [{ paths: ['weights.bin', '../secret', '.hidden'], weights: [] }];
    await writeFile(join(dir, 'model', 'model.json'), JSON.stringify({ weightsManifest: manifest }));
    await writeFile(join(dir, 'model', 'weights.bin'), new Uint8Array(8));
    await writeFile(join(dir, 'model', 'bloodcell.json'), '{}');
    await writeFile(join(dir, 'secret'), 'do not serve');
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists assets recursively with / separators', async () => {
    expect([...assetTable(join(dir, 'assets')).keys()].sort()).toEqual(['app.js', 'wasm/x.wasm']);
    expect(assetTable(join(dir, 'absent')).size).toBe(0);
  });

  it('serves only the bundle files model.json names, with wasm and JSON content types', async () => {
    const app = new Hono();
    app.get('/assets/*', serveTable('/assets/', assetTable(join(dir, 'assets'))));
    app.get('/model/*', serveTable('/model/', bundleTable(join(dir, 'model'))));

    const wasm = await app.request('/assets/wasm/x.wasm');
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect((await app.request('/model/model.json')).headers.get('content-type')).toBe('application/json');
    expect((await app.request('/model/weights.bin')).status).toBe(200);
    expect((await app.request('/model/bloodcell.json')).status).toBe(200);
    for (const path of ['/model/../secret', '/model/%2e%2e%2fsecret', '/model/.hidden', '/assets/%2e%2e/secret']) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
    }
    expect(await (await app.request('/model/nope')).json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No file /model/nope here.' } });
  });
});
