import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { selectBackend } from '../packages/node/src/index.js';
import { trainBundle } from '../packages/pipeline/src/index.js';
import { GROUPS_CSV, MOBILENET_DIR, REPO_ROOT, TRAIN_DIR } from './shared.js';

/**
 * A small bundle trained on real images (one image per field group, ~260 images, ~15 s), shared
 * by every test file that needs a real model. It is cached in the temp folder under a hash of the
 * packages' sources, so a code change retrains it and parallel test files train it only once.
 */
export async function smallTrainedBundle(): Promise<string> {
  const key = await sourceHash();
  const root = join(tmpdir(), 'bloodcell-test-bundles');
  const target = join(root, key);
  if (existsSync(join(target, 'model', 'bloodcell.json'))) return join(target, 'model');

  await mkdir(root, { recursive: true });
  const lock = `${target}.lock`;
  while (true) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (existsSync(join(target, 'model', 'bloodcell.json'))) return join(target, 'model');
      // A lock older than 10 minutes belongs to a run that died.
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 600_000) await rm(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  try {
    // Another test file may have finished training while this one waited for the lock.
    if (existsSync(join(target, 'model', 'bloodcell.json'))) return join(target, 'model');
    const staging = `${target}.staging-${process.pid}`;
    await selectBackend();
    await trainBundle({
      dataDir: TRAIN_DIR,
      groupsCsv: GROUPS_CSV,
      baseModelDir: MOBILENET_DIR,
      outDir: join(staging, 'model'),
      cacheDir: join(root, 'features'),
      maxPerGroup: 1,
      seed: 7,
    });
    await rename(staging, target);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
  return join(target, 'model');
}

async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const pkg of ['core', 'node', 'pipeline']) {
    const dir = join(REPO_ROOT, 'packages', pkg, 'src');
    const files = (await readdir(dir, { recursive: true }))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .sort();
    for (const file of files) hash.update(file).update(await readFile(join(dir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}
