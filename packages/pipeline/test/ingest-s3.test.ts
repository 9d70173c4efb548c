import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HAS_SHARED, TRAIN_DIR } from '../../../test-support/shared.js';
import { ingest } from '../src/ingest/index.js';
import { createS3Client, parseS3Url, s3Source } from '../src/s3-source/index.js';
import { labelledFiles } from './fixtures.js';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const PREFIX = 'kaggle/dataset2-master/images/TRAIN/';

/** A proxy in front of the S3 server that can answer 503 SlowDown or hang, per request. */
function faultyProxy(target: number, fault: (req: http.IncomingMessage) => 'slow-down' | 'hang' | 'pass') {
  const server = http.createServer((req, res) => {
    const kind = fault(req);
    if (kind === 'hang') return;
    if (kind === 'slow-down') {
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      );
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  return new Promise<{ server: http.Server; port: number }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })),
  );
}

describe('ingest from S3 (s3rver on loopback)', () => {
  let work: string;
  let s3rver: S3rver;
  let port: number;
  let realImages = 0;

  const client = (endpointPort: number, timeout = 5_000) =>
    new S3Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${endpointPort}`,
      forcePathStyle: true,
      credentials,
      maxAttempts: 1,
      requestHandler: { requestTimeout: timeout, throwOnRequestTimeout: true },
    });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'bloodcell-s3-'));
    s3rver = new S3rver({ port: 0, address: '127.0.0.1', directory: join(work, 's3'), silent: true });
    ({ port } = await s3rver.run());
    const s3 = client(port);
    await s3.send(new CreateBucketCommand({ Bucket: 'cells' }));
    const { files } = await labelledFiles(PREFIX);
    if (HAS_SHARED) {
      // A few real smears beside the generated ones.
      for (const cellType of ['EOSINOPHIL', 'MONOCYTE'] as const) {
        const name = (await readdir(join(TRAIN_DIR, cellType))).sort()[0]!;
        files.set(`${PREFIX}${cellType}/real-${name}`, await readFile(join(TRAIN_DIR, cellType, name)));
        realImages += 1;
      }
    }
    files.set(
      'kaggle/dataset2-master/images/TEST/MONOCYTE/t.jpeg',
      files.get(`${PREFIX}MONOCYTE/m0.jpeg`)!,
    );
    for (const [key, body] of files)
      await s3.send(new PutObjectCommand({ Bucket: 'cells', Key: key, Body: body }));
    s3.destroy();
  });

  afterAll(async () => {
    await s3rver?.close();
  });

  it('parses s3:// locations', () => {
    expect(parseS3Url('s3://cells/kaggle/')).toEqual({ bucket: 'cells', prefix: 'kaggle/' });
    expect(parseS3Url('s3://cells')).toEqual({ bucket: 'cells', prefix: '' });
    expect(() => parseS3Url('s3:///x')).toThrow('expected s3://bucket/prefix');
  });

  it('ingests the Kaggle layout through AWS_ENDPOINT_URL with path-style requests', async () => {
    const env = {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const manifest = await ingest({
        source: 's3://cells/kaggle',
        root: work,
        outDir: join(work, 'out'),
        cacheDir: join(work, 'cache'),
        attempts: 2,
      });
      expect(manifest.root).toBe('dataset2-master/images/TRAIN');
      expect(manifest.images).toHaveLength(7 + realImages);
      expect(manifest.quarantined.map((q) => q.path)).toEqual(['LYMPHOCYTE/broken.jpeg']);
      expect(manifest.images[0]!.origin).toMatch(/^s3:\/\/cells\/kaggle\/dataset2-master\/images\/TRAIN\//);
      if (realImages > 0) {
        expect(manifest.images.find((i) => i.path.startsWith('EOSINOPHIL/real-'))).toMatchObject({
          width: 320,
          height: 240,
        });
      }
      const copied = await readFile(join(work, 'out/images/NEUTROPHIL/n0.jpeg'));
      expect(copied.byteLength).toBe(manifest.images.find((i) => i.path === 'NEUTROPHIL/n0.jpeg')!.size);
    } finally {
      process.env = saved;
    }
    expect(createS3Client({ env: {} }).config.forcePathStyle).toBe(false);
  });

  it('retries throttling and timeouts with backoff, then succeeds', async () => {
    let gets = 0;
    let lists = 0;
    const proxy = await faultyProxy(port, (req) => {
      if (req.url?.includes('list-type=2')) return lists++ === 0 ? 'hang' : 'pass';
      return gets++ < 2 ? 'slow-down' : 'pass';
    });
    const retries: string[] = [];
    try {
      const source = s3Source('s3://cells/kaggle/dataset2-master/images/TRAIN', {
        attempts: 4,
        baseDelayMs: 5,
        cacheDir: join(work, 'cache-retry'),
        client: client(proxy.port, 300),
        log: (line) => retries.push(line),
      });
      const files = await source.list();
      const bytes = await files.find((f) => f.key === 'NEUTROPHIL/n1.png')!.read();
      expect(bytes.byteLength).toBeGreaterThan(100);
      expect(retries).toHaveLength(3);
      expect(retries[0]).toMatch(/ListObjectsV2 .*attempt 1 failed \(TimeoutError\)/);
      expect(retries[1]).toMatch(/GetObject .*attempt 1 failed \(SlowDown\)/);
      // The second read comes from the download cache: no request at all.
      const before = gets;
      await files.find((f) => f.key === 'NEUTROPHIL/n1.png')!.read();
      expect(gets).toBe(before);
    } finally {
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
  });

  it('fails clearly once the attempts are used up, and on a missing bucket', async () => {
    const proxy = await faultyProxy(port, () => 'slow-down');
    try {
      const source = s3Source('s3://cells/kaggle', {
        attempts: 3,
        baseDelayMs: 5,
        cacheDir: join(work, 'c2'),
        client: client(proxy.port),
      });
      await expect(source.list()).rejects.toThrow(
        /^S3 ListObjectsV2 s3:\/\/cells\/kaggle\/ failed after 3 attempts over [\d.]+s: SlowDown: Please reduce your request rate\. Check the bucket/,
      );
    } finally {
      proxy.server.close();
    }
    const missing = s3Source('s3://no-such-bucket/x', {
      attempts: 3,
      baseDelayMs: 5,
      cacheDir: join(work, 'c3'),
      client: client(port),
    });
    await expect(missing.list()).rejects.toThrow(
      /^S3 ListObjectsV2 s3:\/\/no-such-bucket\/x\/ failed: NoSuchBucket/,
    );
  });

  it('fails at once, without retrying, when access is denied', async () => {
    let requests = 0;
    const proxy = await faultyProxy(port, () => 'pass');
    proxy.server.removeAllListeners('request');
    proxy.server.on('request', (_req, res) => {
      requests += 1;
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?>' +
          '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
      );
    });
    try {
      const source = s3Source('s3://cells/kaggle', {
        attempts: 5,
        baseDelayMs: 5,
        cacheDir: join(work, 'c4'),
        client: client(proxy.port),
      });
      const error = await source.list().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'REQUEST_FAILED' });
      expect((error as Error).message).toMatch(
        /^S3 ListObjectsV2 s3:\/\/cells\/kaggle\/ failed: AccessDenied: Access Denied\. Check the bucket/,
      );
      expect(requests).toBe(1);
    } finally {
      proxy.server.close();
    }
  });

  it('retries a 500 and a body cut off half way, then reads the object whole', async () => {
    let gets = 0;
    const proxy = await faultyProxy(port, (req) => {
      if (req.url?.includes('list-type=2')) return 'pass';
      gets += 1;
      return gets === 1 ? 'slow-down' : 'pass';
    });
    // The second GetObject promises the full length, sends half and drops the connection.
    const forward = proxy.server.listeners('request')[0] as http.RequestListener;
    proxy.server.removeAllListeners('request');
    proxy.server.on('request', (req, res) => {
      if (gets === 1 && !req.url?.includes('list-type=2')) {
        gets += 1;
        http.get({ host: '127.0.0.1', port, path: req.url, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.once('data', (chunk: Buffer) => {
            res.write(chunk.subarray(0, chunk.length >> 1));
            res.socket?.destroy();
          });
        });
        return;
      }
      forward(req, res);
    });
    const retries: string[] = [];
    try {
      const source = s3Source('s3://cells/kaggle/dataset2-master/images/TRAIN', {
        attempts: 4,
        baseDelayMs: 5,
        cacheDir: join(work, 'cache-cut'),
        client: client(proxy.port),
        log: (line) => retries.push(line),
      });
      const file = (await source.list()).find((f) => f.key === 'EOSINOPHIL/e1.png')!;
      const bytes = await file.read();
      expect(bytes.byteLength).toBe(file.size);
      expect(retries).toHaveLength(2);
    } finally {
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
  });

  it('gives up on a store that never answers within attempts x timeout', async () => {
    const proxy = await faultyProxy(port, () => 'hang');
    const started = Date.now();
    try {
      const source = s3Source('s3://cells/kaggle', {
        attempts: 2,
        baseDelayMs: 5,
        cacheDir: join(work, 'c5'),
        client: client(proxy.port, 250),
      });
      await expect(source.list()).rejects.toThrow(/failed after 2 attempts over [\d.]+s: TimeoutError/);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
  });

  it('leaves the previous artifacts/ingest as it was when S3 fails mid-ingest', async () => {
    const saved = { ...process.env };
    const outDir = join(work, 'out-kept');
    const options = { source: 's3://cells/kaggle', root: work, outDir, attempts: 2, baseDelayMs: 5 };
    let gets = 0;
    // Listing and the first three objects arrive; every later GetObject is throttled for good.
    const proxy = await faultyProxy(port, (req) =>
      req.url?.includes('list-type=2') || ++gets <= 3 ? 'pass' : 'slow-down',
    );
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    });
    try {
      await ingest({ ...options, cacheDir: join(work, 'cache-kept-1') });
      const manifest = await readFile(join(outDir, 'manifest.json'), 'utf8');

      process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${proxy.port}`;
      await expect(ingest({ ...options, cacheDir: join(work, 'cache-kept-2') })).rejects.toThrow(
        /GetObject .* failed after 2 attempts/,
      );
      expect(await readFile(join(outDir, 'manifest.json'), 'utf8')).toBe(manifest);
      expect((await readdir(work)).filter((name) => name.startsWith('.out-kept.'))).toEqual([]);
    } finally {
      process.env = saved;
      proxy.server.close();
    }
  });
});
