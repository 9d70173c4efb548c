// Wall time of a training run (features extracted from scratch) and of a re-run with nothing changed.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Trains into a fresh temporary folder twice; the second run reuses the feature cache. */
export async function measureTraining({ node, pipeline, shared, full, log }) {
  const root = await mkdtemp(join(tmpdir(), 'bloodcell-bench-train-'));
  const options = {
    dataDir: shared.trainDir,
    groupsCsv: shared.groupsCsv,
    baseModelDir: shared.mobilenetDir,
    outDir: join(root, 'model'),
    cacheDir: join(root, 'features'),
    maxPerGroup: full ? undefined : 1,
    seed: 7,
    log: (line) => log(`train: ${line}`),
  };
  await node.selectBackend();

  const timed = async () => {
    const started = performance.now();
    const result = await pipeline.trainBundle(options);
    return { result, seconds: (performance.now() - started) / 1000 };
  };
  const first = await timed();
  const again = await timed();
  const { training } = first.result.metadata;
  const images = training.trainImages + training.validationImages;
  return {
    mode: full ? 'full: every image' : 'quick: maxPerGroup 1',
    backend: node.currentBackend(),
    images,
    wallSeconds: first.seconds,
    featureSeconds: first.result.timings.features,
    featureImagesPerSecond: images / first.result.timings.features,
    rerunWallSeconds: again.seconds,
    bundleDir: options.outDir,
  };
}
