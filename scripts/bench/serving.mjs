#!/usr/bin/env node
// `node scripts/bench/serving.mjs [--engines onnx,tfjs] [--onnx 0,1] [--amount N] [--tries N]
// [--rounds N]`: only the web demo against the CLI (measureServing), without the training and
// inference tables of scripts/bench.mjs; --onnx lists the onnx servers to try, as preparation
// workers[:ONNX Runtime threads]. Runs the built packages: `pnpm -r build` first. Rows on stdout.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { measureServing } from './serve.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = process.env.BLOODCELL_SHARED ?? resolve(ROOT, '..', 'shared');
const { values } = parseArgs({
  options: {
    engines: { type: 'string', default: 'onnx,tfjs' },
    amount: { type: 'string', default: '256' },
    tries: { type: 'string', default: '2' },
    // Repeats of the whole comparison; with more than one, the median ratio of each is reported too.
    rounds: { type: 'string', default: '1' },
    // Servers to try on the onnx engine: preparation workers[:ONNX Runtime threads], comma-separated.
    onnx: { type: 'string', default: '0,1' },
    model: { type: 'string', default: join(ROOT, 'artifacts', 'model') },
  },
});
const log = (line) => process.stderr.write(`bench: ${line}\n`);
const nodeDist = resolve(process.env.BLOODCELL_NODE_DIST ?? join(ROOT, 'packages', 'node', 'dist'));
if (!existsSync(join(nodeDist, 'cli.js'))) throw new Error(`${nodeDist}/cli.js is missing: run \`pnpm -r build\` first.`);
if (!existsSync(join(values.model, 'bloodcell.json'))) throw new Error(`no bundle in ${values.model}: pass --model DIR.`);
const trainDir = join(SHARED, 'data', 'blood-cells', 'TRAIN');
const { default: autocannon } = await import('autocannon');

const all = {
  tfjs: { name: 'tfjs wasm', open: { engine: 'tfjs', backend: 'wasm' }, cli: ['--engine', 'tfjs', '--backend', 'wasm', '--workers', '0'], maxConcurrent: 1 },
  onnx: { name: 'onnx', open: { engine: 'onnx' }, cli: ['--engine', 'onnx'], maxConcurrent: 4 },
};
const variants = values.engines.split(',').flatMap((name) => {
  if (!all[name]) throw new Error(`--engines takes ${Object.keys(all).join(', ')}; got "${name}".`);
  if (name !== 'onnx') return [all[name]];
  return values.onnx.split(',').map((setting) => {
    const [prepareWorkers, threads] = setting.split(':').map(Number);
    return {
      ...all.onnx,
      name: `onnx, ${prepareWorkers} prep${threads ? `, ${threads} ort threads` : ''}`,
      open: { ...all.onnx.open, prepareWorkers, ...(threads ? { threads } : {}) },
    };
  });
});

const rounds = [];
for (let round = 0; round < Number(values.rounds); round++) {
  const rows = await measureServing({
    root: ROOT,
    nodeDist,
    autocannon,
    bundleDir: values.model,
    files: interleavedImages(trainDir),
    variants,
    amount: Number(values.amount),
    tries: Number(values.tries),
    cliPath: join(nodeDist, 'cli.js'),
    log,
  });
  rounds.push(rows);
  for (const row of rows) process.stdout.write(`${formatRow(row)}\n`);
}
if (rounds.length > 1) {
  process.stdout.write('median over rounds of server/CLI (min..max):\n');
  variants.forEach((variant, v) => {
    const ratios = rounds.map((rows) => rows[v].serverShareOfCli).sort((a, b) => a - b);
    const median = ratios[Math.floor(ratios.length / 2)];
    const percent = (x) => `${(100 * x).toFixed(0)}%`;
    process.stdout.write(`  ${variant.name.padEnd(24)} ${percent(median)} (${percent(ratios[0])}..${percent(ratios.at(-1))})\n`);
  });
}

function formatRow(row) {
  return [
    row.engine.padEnd(24),
    `server ${row.serverImagesPerSecond.toFixed(1)} img/s`,
    `CLI ${row.cliImagesPerSecond.toFixed(1)} img/s`,
    `${(100 * row.serverShareOfCli).toFixed(0)}%`,
    `p50 ${row.p50Ms} ms`,
    `p99 ${row.p99Ms} ms`,
    `failed ${row.failed}`,
    `autocannon ${(100 * row.loadGeneratorCpuShare).toFixed(0)}% of a core`,
  ].join('  ');
}

/** Every image of the four classes, alternating classes, so any prefix mixes them. */
function interleavedImages(dir) {
  const lists = readdirSync(dir).sort().map((type) => readdirSync(join(dir, type)).sort().map((f) => join(dir, type, f)));
  const longest = Math.max(...lists.map((list) => list.length));
  return Array.from({ length: longest }, (_, i) => lists.map((list) => list[i])).flat().filter(Boolean);
}
