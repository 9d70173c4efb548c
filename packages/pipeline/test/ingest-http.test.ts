import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { zipSync } from 'fflate';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkArchiveUrl } from '../src/archive-source/index.js';
import { ingest } from '../src/ingest/index.js';
import { labelledFiles, writeFiles } from './fixtures.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('ingest of https-style archives (node:http on loopback)', () => {
  let work: string;
  let server: http.Server;
  let base: string;
  let zip: Uint8Array;
  let tgz: Uint8Array;
  const requests: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'bloodcell-http-'));
    const { files } = await labelledFiles('blood-cells/images/TRAIN/');
    zip = zipSync(Object.fromEntries([...files].map(([path, bytes]) => [path, bytes])));
    await writeFiles(join(work, 'tree'), files);
    await tar.c({ gzip: true, file: join(work, 'cells.tar.gz'), cwd: join(work, 'tree') }, ['blood-cells']);
    tgz = await readFile(join(work, 'cells.tar.gz'));

    let flaky = 0;
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/flaky.zip' && flaky++ < 2) {
        res.writeHead(503).end('busy');
        return;
      }
      const body =
        req.url === '/cells.tar.gz'
          ? tgz
          : req.url === '/cells.zip' || req.url === '/flaky.zip'
            ? zip
            : undefined;
      if (!body) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-length': body.byteLength }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server?.close();
  });

  const run = (
    name: string,
    sha: string | null,
    extra: { allowLoopbackHttp?: boolean; cacheDir?: string } = {},
  ) =>
    ingest({
      source: `${base}/${name}`,
      sha256: sha,
      root: work,
      outDir: join(work, `out-${name}`),
      cacheDir: extra.cacheDir ?? join(work, 'cache'),
      attempts: 3,
      baseDelayMs: 5,
      allowLoopbackHttp: extra.allowLoopbackHttp ?? true,
    });

  it('downloads, checks and extracts a .zip, then reuses the verified download', async () => {
    const manifest = await run('cells.zip', sha256(zip));
    expect(manifest.images).toHaveLength(7);
    expect(manifest.root).toBe('blood-cells/images/TRAIN');
    expect(manifest.images[0]!.origin).toBe(`${base}/cells.zip#blood-cells/images/TRAIN/EOSINOPHIL/e1.png`);
    expect(await readdir(join(work, 'out-cells.zip/images'))).toEqual([
      'EOSINOPHIL',
      'LYMPHOCYTE',
      'MONOCYTE',
      'NEUTROPHIL',
    ]);

    const before = requests.length;
    await run('cells.zip', sha256(zip));
    expect(requests.length).toBe(before);
  });

  it('extracts a .tar.gz', async () => {
    const manifest = await run('cells.tar.gz', sha256(tgz));
    expect(manifest.images.map((i) => i.path)).toContain('NEUTROPHIL/n1.png');
    expect(manifest.quarantined).toHaveLength(1);
  });

  it('refuses a download whose sha256 differs, and keeps nothing of it', async () => {
    const cacheDir = join(work, 'cache-mismatch');
    await expect(run('cells.zip', sha256(tgz), { cacheDir })).rejects.toThrow(
      new RegExp(
        `^Refusing ${base}/cells.zip: its sha256 is ${sha256(zip)} but ingest.sha256 is ${sha256(tgz)}`,
      ),
    );
    expect(await readdir(join(cacheDir, 'downloads'))).toEqual([]);
  });

  it('retries a busy server, and fails clearly on a missing file', async () => {
    const manifest = await run('flaky.zip', sha256(zip), { cacheDir: join(work, 'cache-flaky') });
    expect(manifest.images).toHaveLength(7);
    await expect(run('gone.zip', sha256(zip), { cacheDir: join(work, 'cache-gone') })).rejects.toThrow(
      `Download of ${base}/gone.zip failed: Error: HTTP 404 Not Found`,
    );
  });

  it('insists on https:// and a pinned sha256', async () => {
    await expect(run('cells.zip', sha256(zip), { allowLoopbackHttp: false })).rejects.toThrow(
      /archives are downloaded over https:\/\/ only \(set ingest.allowLoopbackHttp/,
    );
    expect(() => checkArchiveUrl('http://example.org/cells.zip', true)).toThrow('https:// only.');
    expect(() => checkArchiveUrl('https://example.org/cells.zip', false)).not.toThrow();
    await expect(run('cells.zip', null)).rejects.toThrow(/ingest.sha256 must be set for http:/);
  });
});
