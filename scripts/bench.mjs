#!/usr/bin/env node
// `pnpm bench [--quick | --full] [--only training,inference,serving]`: decoding, preprocessing,
// inference, end to end, training, and the web demo against the CLI, on every engine that loads;
// the table on stdout, progress on stderr, everything in artifacts/bench/bench.json (a partial run
// in bench-<parts>.json). Runs the built packages: `pnpm -r build` first.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { measureInference } from './bench/inference.mjs';
import { describeMachine } from './bench/machine.mjs';
import { measureServing } from './bench/serve.mjs';
import { measureTraining } from './bench/training.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.BLOODCELL_SHARED ?? resolve(ROOT, '..', 'shared');
const NEEDED = ['openClassifier', 'layersModelToOnnx', 'sessionOptions', 'writeBackboneInput', 'loadOnnxRuntime'];

const PARTS = ['training', 'inference', 'serving'];
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, full: { type: 'boolean' }, only: { type: 'string' } } });
const full = values.full === true;
const parts = values.only ? values.only.split(',').map((part) => part.trim()) : PARTS;
const unknownPart = parts.find((part) => !PARTS.includes(part));
if (unknownPart) throw new Error(`--only takes ${PARTS.join(', ')}; got "${unknownPart}".`);
const log = (line) => process.stderr.write(`bench: ${line}\n`);

// BLOODCELL_NODE_DIST: another build of @bloodcell/node to measure (a folder like its dist/).
const NODE_DIST = resolve(process.env.BLOODCELL_NODE_DIST ?? join(ROOT, 'packages', 'node', 'dist'));
const built = (pkg, file = 'index.js') => (pkg === 'node' ? join(NODE_DIST, file) : join(ROOT, 'packages', pkg, 'dist', file));
for (const pkg of ['core', 'node', 'pipeline', 'web-demo']) {
  if (!existsSync(built(pkg))) throw new Error(`${built(pkg)} is missing: run \`pnpm -r build\` first.`);
}
const node = await import(built('node'));
const missing = NEEDED.filter((name) => !(name in node));
if (missing.length > 0) throw new Error(`@bloodcell/node does not export ${missing.join(', ')}: wire them in src/index.ts.`);
const core = await import(built('core'));
const pipeline = await import(built('pipeline'));
const tf = await import('@tensorflow/tfjs-core');
const { default: autocannon } = await import('autocannon');

const shared = {
  trainDir: join(SHARED, 'data', 'blood-cells', 'TRAIN'),
  groupsCsv: join(SHARED, 'data', 'blood-cells', 'groups.csv'),
  mobilenetDir: join(SHARED, 'models', 'mobilenet-v2-0.35-imagenet'),
};
if (!existsSync(shared.groupsCsv)) throw new Error(`${SHARED} has no data/blood-cells: set BLOODCELL_SHARED.`);

const machine = describeMachine();
log(`mode ${full ? 'full' : 'quick'}; ${machine.cores} cores of ${machine.model}, load average ${machine.loadAverage.join(' ')}`);

const training = parts.includes('training') ? await measureTraining({ node, pipeline, shared, full, log }) : undefined;
const artifactsModel = join(ROOT, 'artifacts', 'model');
const bundleDir = existsSync(join(artifactsModel, 'bloodcell.json')) ? artifactsModel : training?.bundleDir;
if (!bundleDir) throw new Error('No bundle to measure: train one (`pnpm train`) or include --only training.');

const files = interleavedImages(shared.trainDir);
const tfjsBackends = [];
for (const backend of node.BACKEND_NAMES) {
  if (await node.selectBackend({ prefer: backend, log: () => {} }).then(() => true, () => false)) tfjsBackends.push(backend);
}
const ort = await node.loadOnnxRuntime().catch(() => undefined);
const ctx = { node, core, tf, ort, onnx: ort !== undefined, bundleDir, files, quick: !full, cores: machine.cores, tfjsBackends, log };
const rows = parts.includes('inference') ? await measureInference(ctx) : [];

const variants = [
  { name: 'tfjs wasm', open: { engine: 'tfjs', backend: 'wasm' }, cli: ['--engine', 'tfjs', '--backend', 'wasm', '--workers', '0'], maxConcurrent: 1 },
  {
    name: `tfjs wasm x${machine.cores} workers`,
    open: { engine: 'tfjs', backend: 'wasm', workers: machine.cores },
    cli: ['--engine', 'tfjs', '--backend', 'wasm', '--workers', String(machine.cores)],
    maxConcurrent: machine.cores,
  },
  ...(ort ? [{ name: 'onnx', open: { engine: 'onnx' }, cli: ['--engine', 'onnx'], maxConcurrent: 4 }] : []),
]
  .filter((variant) => variant.open.engine === 'onnx' || tfjsBackends.includes('wasm'))
  // The pool did not pay on busy cores (docs/decisions/0007); quick runs leave it out here.
  .filter((variant) => full || !variant.open.workers);
const serving = parts.includes('serving')
  ? await measureServing({
      root: ROOT, nodeDist: NODE_DIST, autocannon, bundleDir, files, variants, amount: full ? 1024 : 256, tries: 2, cliPath: built('node', 'cli.js'), log,
    })
  : [];

for (const entry of rows) {
  if (entry.flopsPerImage === null) continue;
  entry.gflops = (entry.flopsPerImage * entry.imagesPerSecond) / 1e9;
  entry.shareOfPeak = entry.gflops / machine.peakGflops;
}
// cpu MHz is the nominal clock under a hypervisor; a single thread beating the per-core peak at
// that clock shows the core boosts higher, and bounds its real clock from below.
const singleThread = Math.max(0, ...rows.filter((x) => x.engine.endsWith('1 thread') && x.gflops).map((x) => x.gflops));
machine.impliedMinGhz = Math.max(machine.ghz, singleThread / machine.flopsPerCycle);
machine.impliedPeakGflops = machine.cores * machine.impliedMinGhz * machine.flopsPerCycle;
const report = { createdAt: new Date().toISOString(), mode: full ? 'full' : 'quick', machine, bundleDir, training, rows, serving };
const reportFile = parts.length === PARTS.length ? 'bench.json' : `bench-${parts.join('-')}.json`;
await node.writeFileAtomic(join(ROOT, 'artifacts', 'bench', reportFile), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${formatReport(report)}\n`);
log(`wrote artifacts/bench/${reportFile}`);

/** Every image of the four classes, alternating classes, so any prefix mixes them. */
function interleavedImages(trainDir) {
  const lists = readdirSync(trainDir).sort().map((type) => readdirSync(join(trainDir, type)).sort().map((f) => join(trainDir, type, f)));
  const longest = Math.max(...lists.map((list) => list.length));
  return Array.from({ length: longest }, (_, i) => lists.map((list) => list[i])).flat().filter(Boolean);
}

function formatReport({ machine: m, training: t, rows: r, serving: s, mode }) {
  const fixed = (value, digits = 1) => (value === undefined || value === null ? '' : value.toFixed(digits));
  const table = (header, lines) => {
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => String(line[i]).length)));
    const format = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ').trimEnd();
    return [format(header), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format)].join('\n');
  };
  return [
    `bloodcell bench (${mode}) on ${m.cores} x ${m.model}, ${m.simdBits}-bit SIMD${m.fma ? ' + FMA' : ''}, ` +
      `load average ${m.loadAverage.join(' ')}`,
    `float32 peak ~${fixed(m.peakGflops, 0)} GFLOP/s = ${m.peakMethod}`,
    ...(m.impliedMinGhz > m.ghz
      ? [`  but one thread reached ${fixed(m.impliedMinGhz * m.flopsPerCycle)} GFLOP/s: the cores boost to >= ` +
          `${fixed(m.impliedMinGhz, 2)} GHz, so the peak is >= ${fixed(m.impliedPeakGflops, 0)} GFLOP/s (% below use the nominal clock)`]
      : []),
    ...(r.length === 0 ? [] : ['',
    table(
      ['stage', 'model', 'engine', 'batch', 'ms/image', 'images/s', 'GFLOP/s', '% of peak'],
      r.map((x) => [x.stage, x.model, x.engine, x.batch, fixed(x.msPerImage, 2), fixed(x.imagesPerSecond), fixed(x.gflops), x.shareOfPeak === undefined ? '' : fixed(100 * x.shareOfPeak)]),
    )]),
    ...(t === undefined ? [] : ['',
    `training (${t.mode}; features on ${t.engine}, head on TF.js ${t.backend}): ${t.images} images + ` +
      `${t.views.length} views = ${t.backboneRows} backbone rows in ${fixed(t.wallSeconds)} s from scratch ` +
      `(features ${fixed(t.featureSeconds)} s: ${fixed(t.featureImagesPerSecond)} images/s, ` +
      `${fixed(t.featureRowsPerSecond)} rows/s)`,
    `  re-run with nothing changed: ${fixed(t.rerunWallSeconds, 2)} s${t.rerunUpToDate ? ' (inputs checked, up to date)' : ''}; ` +
      `forced re-run from cached features: ${fixed(t.cachedRetrainWallSeconds)} s`]),
    ...(s.length === 0 ? [] : ['',
    table(
      ['web demo engine', 'requests', 'best of', 'failed', 'images/s', 'p50 ms', 'p99 ms', 'CLI images/s', 'server/CLI', 'autocannon CPU'],
      s.map((x) => [x.engine, x.requests, x.tries, x.failed, fixed(x.serverImagesPerSecond), x.p50Ms, x.p99Ms, fixed(x.cliImagesPerSecond), `${fixed(100 * x.serverShareOfCli, 0)}%`, `${fixed(100 * x.loadGeneratorCpuShare, 0)}% of a core`]),
    ),
    'CLI images/s: steady rate after its first batch (start-up left out, as for the server, measured once ready).']),
  ].join('\n');
}
