import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { selectBackend } from '@bloodcell/node';
import { describe, expect, it } from 'vitest';

import { GROUPS_CSV, HAS_SHARED, MOBILENET_DIR, SHARED_MISSING, TRAIN_DIR } from '../../../../test-support/shared.js';
import { crossValidate } from './index.js';

describe.skipIf(!HAS_SHARED)(`crossValidate (${HAS_SHARED ? 'shared data found' : SHARED_MISSING})`, () => {
  it('validates every image exactly once, by a model that never saw its field group', async () => {
    await selectBackend();
    const [result] = await crossValidate({
      dataDir: TRAIN_DIR,
      groupsCsv: GROUPS_CSV,
      baseModelDir: MOBILENET_DIR,
      // Shared with test-support/trained-bundle.ts: the same crops, so the features are reused.
      cacheDir: join(tmpdir(), 'bloodcell-test-bundles', 'features'),
      maxPerGroup: 1,
      folds: 2,
      heads: ['pooled'],
    });
    expect(result!.folds).toHaveLength(2);
    expect(result!.folds.reduce((total, fold) => total + fold.images, 0)).toBe(259);
    expect(result!.meanAccuracy).toBeGreaterThan(0.35);
    expect(result!.accuracySpread).toBeGreaterThanOrEqual(0);
  });

  it('refuses training views with a flatten head', async () => {
    await expect(
      crossValidate({ dataDir: TRAIN_DIR, baseModelDir: MOBILENET_DIR, cacheDir: join(tmpdir(), 'unused'), heads: ['flatten'], views: ['mirror'] }),
    ).rejects.toThrow(/pooled head/);
  });
});
