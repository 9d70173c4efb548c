// The web demo's throughput and latency under a bounded loopback load, next to the CLI's.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Per engine: autocannon with `amount` POSTs of real JPEGs, and the CLI on the same images. */
export async function measureServing({ root, nodeDist, autocannon, bundleDir, files, amount, tries, variants, cliPath, log }) {
  const images = files.slice(0, 16);
  const bodies = images.map((file) => readFileSync(file));
  const requested = Array.from({ length: amount }, (_, i) => images[i % images.length]);
  const rows = [];
  for (const variant of variants) {
    // Best of `tries`, server and CLI alternating, so both meet the same share of other jobs' load.
    let best;
    for (let attempt = 0; attempt < tries; attempt++) {
      const measured = { ...(await serveOnce(root, nodeDist, autocannon, bundleDir, bodies, amount, variant, log)) };
      log(`CLI: ${variant.name}, ${amount} images`);
      measured.cliImagesPerSecond = await cliThroughput(cliPath, bundleDir, variant.cli, requested);
      best = {
        ...(best?.serverImagesPerSecond > measured.serverImagesPerSecond ? best : measured),
        cliImagesPerSecond: Math.max(best?.cliImagesPerSecond ?? 0, measured.cliImagesPerSecond),
      };
    }
    rows.push({ engine: variant.name, requests: amount, tries, ...best, serverShareOfCli: best.serverImagesPerSecond / best.cliImagesPerSecond });
  }
  return rows;
}

async function serveOnce(root, nodeDist, autocannon, bundleDir, bodies, amount, variant, log) {
  log(`web demo: ${variant.name}, ${amount} requests`);
  const server = await startChild({ root, nodeDist, bundleDir, open: variant.open, maxConcurrent: variant.maxConcurrent });
  await waitReady(server.url);
  // The load generator shares the 2 cores with the server: its CPU time is reported beside.
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let lastResponse = started;
  const result = await new Promise((resolve, reject) => {
    const options = {
      url: server.url,
      amount,
      connections: 4,
      requests: bodies.map((body) => ({ method: 'POST', path: '/api/v1/classify', headers: { 'content-type': 'image/jpeg' }, body })),
    };
    const instance = autocannon(options, (error, outcome) => (error ? reject(error) : resolve(outcome)));
    // autocannon notices the end of an `amount` run on its 1-second tick: time the responses instead.
    instance.on('response', () => (lastResponse = performance.now()));
  });
  const seconds = (lastResponse - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await server.stop();
  return {
    loadGeneratorCpuShare: (cpu.user + cpu.system) / 1e6 / seconds,
    ok: result['2xx'],
    failed: result.non2xx + result.errors,
    serverImagesPerSecond: result['2xx'] / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}

/** Starts server-child.mjs; resolves with its URL and a stop function once it listens. */
async function startChild(config) {
  const script = join(config.root, 'scripts', 'bench', 'server-child.mjs');
  const child = spawn(process.execPath, [script, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const [url] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`the web demo exited with ${code} before listening`))),
  ]);
  const stop = async () => {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  };
  return { url, stop };
}

async function waitReady(url) {
  for (let i = 0; i < 600; i++) {
    const response = await fetch(`${url}/readyz`).catch(() => undefined);
    if (response?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the web demo at ${url} did not become ready`);
}

/**
 * Steady images per second of the CLI: records after the first batch of 8 over the time from that
 * batch's last record to the final one, so start-up (loading the model) is left out as it is for
 * the server, which is measured once ready.
 */
async function cliThroughput(cliPath, bundleDir, flags, files) {
  const child = spawn(process.execPath, [cliPath, 'classify', ...files, '--model', bundleDir, '--json', ...flags], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const stamps = [];
  createInterface({ input: child.stdout }).on('line', () => stamps.push(performance.now()));
  const [code] = await once(child, 'exit');
  if (code !== 0 || stamps.length !== files.length) throw new Error(`the CLI exited with ${code} after ${stamps.length} records`);
  return (files.length - 8) / ((stamps.at(-1) - stamps[7]) / 1000);
}
