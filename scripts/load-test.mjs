#!/usr/bin/env node
// Load test of the built web demo (pnpm build first), on 127.0.0.1 only, for a fixed duration.
//
//   node scripts/load-test.mjs [--model DIR] [--duration SECONDS] [--connections N] [--out FILE]
//
// Starts the built server (packages/web-demo/dist) with BLOODCELL_DEBUG=1 (for /api/v1/debug/memory), measures
// the latency of single good requests, runs autocannon with a mix of good JPEGs, non-images,
// oversized bodies, oversized images and GIFs, then measures again. Fails (exit 1) when a status other than
// 200/400/413/415/503 appears, when p50 latency afterwards is over twice the p50 before, when live
// tensors grew, or when RSS stayed well above its baseline. See docs/reliability.md.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { crc32 } from 'node:zlib';

import autocannon from 'autocannon';
import sharp from 'sharp';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_ENTRY = join(ROOT, 'packages', 'web-demo', 'dist', 'index.js');
const EXPECTED_STATUSES = ['200', '400', '413', '415', '503'];
/** RSS may settle this far above its baseline: V8 and the allocator keep some freed memory. */
const RSS_SLACK = { ratio: 1.25, bytes: 96 * 1024 * 1024 };
const MAX_BODY_BYTES = 256 * 1024;

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    duration: { type: 'string', default: '150' },
    connections: { type: 'string', default: '16' },
    samples: { type: 'string', default: '40' },
    out: { type: 'string' },
  },
});

const say = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** The model: --model, $BLOODCELL_MODEL, artifacts/model, or the newest cached test bundle. */
function findModel() {
  const named = values.model ?? process.env.BLOODCELL_MODEL;
  if (named) return resolve(named);
  if (existsSync(join(ROOT, 'artifacts', 'model', 'bloodcell.json'))) return join(ROOT, 'artifacts', 'model');
  const cache = join(tmpdir(), 'bloodcell-test-bundles');
  const cached = existsSync(cache)
    ? readdirSync(cache)
        .map((name) => join(cache, name, 'model'))
        .filter((dir) => existsSync(join(dir, 'bloodcell.json')))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  if (cached[0]) return cached[0];
  throw new Error(
    'no model: pass --model DIR, set BLOODCELL_MODEL, or run `pnpm train` (or the test suite) first.',
  );
}

/** A real smear when ../shared is there, else a synthetic field of the same size. */
async function goodImage() {
  const shared = process.env.BLOODCELL_SHARED ?? resolve(ROOT, '..', 'shared');
  const real = join(shared, 'data', 'blood-cells', 'TRAIN', 'EOSINOPHIL', '_0_1169.jpeg');
  if (existsSync(real)) return readFileSync(real);
  const field = Buffer.alloc(320 * 240 * 3);
  for (let i = 0; i < field.length; i += 3) field.set([235, 200, 205], i);
  return sharp(field, { raw: { width: 320, height: 240, channels: 3 } })
    .jpeg()
    .toBuffer();
}

/** The built server in a child process, with a 256 KiB body limit so oversized bodies stay cheap to send. */
function startServer(modelDir) {
  const entry = pathToFileURL(join(ROOT, 'packages', 'web-demo', 'dist', 'index.js')).href;
  const program = `
    import { startServer } from ${JSON.stringify(entry)};
    const limits = { maxBodyBytes: ${MAX_BODY_BYTES} };
    const server = await startServer({ modelDir: process.env.BLOODCELL_MODEL, port: 0, log: false, limits });
    process.stderr.write('serving at ' + server.url + '\\n');
    process.once('SIGTERM', () => server.close().then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', program], {
    env: { ...process.env, BLOODCELL_DEBUG: '1', BLOODCELL_MODEL: modelDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const url = new Promise((found, failed) => {
    child.stderr.on('data', (chunk) => {
      log += chunk.toString();
      const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (match) found(match[1]);
    });
    child.once('exit', (code) => failed(new Error(`the server exited (${code}) before listening:\n${log}`)));
  });
  return { child, url };
}

async function waitUntilReady(url) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const status = await fetch(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(200);
  }
  throw new Error('the server did not become ready within 120 s');
}

async function memory(url) {
  return (await fetch(`${url}/api/v1/debug/memory`)).json();
}

/** Median latency of `count` good requests sent one after another. */
async function singleRequestP50(url, image, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(`${url}/api/v1/classify`, {
      method: 'POST',
      body: image,
      headers: { 'content-type': 'image/jpeg' },
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`a single good request got ${response.status}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main() {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`pnpm build\` first.`);
  const modelDir = findModel();
  const image = await goodImage();
  // 50,000 x 50,000 declared in a ~100-byte PNG: refused from its header (IMAGE_TOO_LARGE).
  const hugePng = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();
  hugePng.writeUInt32BE(50_000, 16);
  hugePng.writeUInt32BE(50_000, 20);
  hugePng.writeUInt32BE(crc32(hugePng.subarray(12, 29)), 29);
  const gif = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#a05070' } })
    .gif()
    .toBuffer();
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const samples = Number(values.samples);

  say(`load-test: model ${modelDir}, ${duration} s, ${connections} connections`);
  const server = startServer(modelDir);
  try {
    const url = await server.url;
    await waitUntilReady(url);
    await singleRequestP50(url, image, 10);
    const p50Before = await singleRequestP50(url, image, samples);
    await sleep(1_000);
    const memoryBefore = await memory(url);
    say(
      `before: p50 ${p50Before.toFixed(1)} ms, ${memoryBefore.tensors} tensors, RSS ${mib(memoryBefore.rssBytes)}`,
    );

    const classify = (type, body) => ({
      method: 'POST',
      path: '/api/v1/classify',
      headers: { 'content-type': type },
      body,
    });
    // Oversized bodies are sent by fetch, one at a time, beside autocannon: the server answers 413
    // from Content-Length and closes the connection unread, which autocannon would count (and
    // buffer) as a failed socket.
    const loadEnds = Date.now() + duration * 1000;
    const [load, oversized] = await Promise.all([
      autocannon({
        url,
        connections,
        duration,
        timeout: 30,
        requests: [
          classify('image/jpeg', image),
          classify('image/jpeg', 'EOSINOPHIL,not a picture'),
          classify('image/png', hugePng),
          classify('image/gif', gif),
        ],
      }),
      oversizedBodies(url, loadEnds),
    ]);
    const statuses = countStatuses(load);
    const oversizedStatuses = oversized.statuses;
    say(
      `load: ${load.requests.total} requests, ${JSON.stringify(statuses)}, p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms`,
    );
    say(`oversized bodies: ${JSON.stringify(oversizedStatuses)}, ${oversized.failures} failed`);

    await sleep(5_000);
    const p50After = await singleRequestP50(url, image, samples);
    await sleep(5_000);
    const memoryAfter = await memory(url);
    say(
      `after: p50 ${p50After.toFixed(1)} ms, ${memoryAfter.tensors} tensors, RSS ${mib(memoryAfter.rssBytes)}`,
    );

    const rssLimit = Math.max(
      memoryBefore.rssBytes * RSS_SLACK.ratio,
      memoryBefore.rssBytes + RSS_SLACK.bytes,
    );
    const checks = {
      'only 200/400/413/415/503': Object.keys(statuses).every((code) => EXPECTED_STATUSES.includes(code)),
      'oversized bodies: only 413 (or 503)': Object.keys(oversizedStatuses).every((code) =>
        ['413', '503'].includes(code),
      ),
      'no timeouts or socket errors': load.timeouts === 0 && load.errors === 0 && oversized.failures === 0,
      'good requests served under load': (statuses['200'] ?? 0) > 0,
      'p50 after within 2x of before': p50After <= 2 * p50Before,
      'no tensor growth': memoryAfter.tensors === memoryBefore.tensors,
      [`RSS back under ${mib(rssLimit)}`]: memoryAfter.rssBytes <= rssLimit,
    };
    const summary = {
      model: modelDir,
      durationSeconds: duration,
      connections,
      requests: load.requests.total,
      requestsPerSecond: load.requests.average,
      statuses,
      oversizedBodies: { statuses: oversizedStatuses, failures: oversized.failures },
      errors: load.errors,
      timeouts: load.timeouts,
      latencyUnderLoadMs: {
        p50: load.latency.p50,
        p90: load.latency.p90,
        p99: load.latency.p99,
        max: load.latency.max,
      },
      singleRequestP50Ms: { before: round(p50Before), after: round(p50After) },
      tensors: { before: memoryBefore.tensors, after: memoryAfter.tensors },
      rssMiB: {
        before: round(memoryBefore.rssBytes / 2 ** 20),
        after: round(memoryAfter.rssBytes / 2 ** 20),
      },
      checks,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (values.out) writeFileSync(values.out, `${JSON.stringify(summary, null, 2)}\n`);
    const failed = Object.entries(checks)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    say(failed.length === 0 ? 'load-test: passed' : `load-test: FAILED: ${failed.join('; ')}`);
    return failed.length === 0 ? 0 : 1;
  } finally {
    server.child.kill('SIGTERM');
  }
}

/** Sends bodies one byte over the limit until `until`, counting the answers. */
async function oversizedBodies(url, until) {
  const body = Buffer.alloc(MAX_BODY_BYTES + 1, 7);
  const statuses = {};
  let failures = 0;
  while (Date.now() < until) {
    try {
      const response = await fetch(`${url}/api/v1/classify`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'image/jpeg' },
      });
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    } catch {
      failures += 1;
    }
    await sleep(50);
  }
  return { statuses, failures };
}

function countStatuses(result) {
  return Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
}

function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function round(value) {
  return Math.round(value * 10) / 10;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    say(`load-test: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
