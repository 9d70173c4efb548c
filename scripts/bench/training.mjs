// Wall time of a training run from scratch, a re-run with nothing changed (it checks the inputs
// and stops), and a forced re-run whose features all come from the cache.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Trains into a fresh temporary folder three times; the quick mode uses one image per group. */
export async function measureTraining({ node, pipeline, shared, full, log }) {
  const root = await mkdtemp(join(tmpdir(), 'bloodcell-bench-train-'));
  const options = {
    dataDir: shared.trainDir,
    groupsCsv: shared.groupsCsv,
    baseModelDir: shared.mobilenetDir,
    outDir: join(root, 'model'),
    cacheDir: join(root, 'features'),
    views: [...pipeline.DEFAULT_TRAINING_VIEWS],
    maxPerGroup: full ? undefined : 1,
    seed: 7,
    log: (line) => log(`train: ${line}`),
  };
  await node.selectBackend();
  const engine = (await node.onnxRuntimeAvailable()) ? 'onnx' : 'tfjs';

  const timed = async (extra = {}) => {
    const started = performance.now();
    const result = await pipeline.trainBundle({ ...options, ...extra });
    return { result, seconds: (performance.now() - started) / 1000 };
  };
  const first = await timed();
  const again = await timed();
  const cached = await timed({ force: true });
  // The features cache of a full run is ~300 MB; the bundle is kept for the serving benchmark.
  await rm(options.cacheDir, { recursive: true, force: true });

  const { training } = first.result.metadata;
  const images = training.trainImages + training.validationImages;
  const rows = images + training.trainImages * options.views.length;
  return {
    mode: full ? 'full: every image' : 'quick: maxPerGroup 1',
    engine,
    backend: node.currentBackend(),
    images,
    views: options.views,
    backboneRows: rows,
    wallSeconds: first.seconds,
    featureSeconds: first.result.timings.features,
    featureImagesPerSecond: images / first.result.timings.features,
    featureRowsPerSecond: rows / first.result.timings.features,
    rerunWallSeconds: again.seconds,
    rerunUpToDate: again.result.upToDate,
    cachedRetrainWallSeconds: cached.seconds,
    timings: first.result.timings,
    bundleDir: options.outDir,
  };
}
