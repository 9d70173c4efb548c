import { join } from 'node:path';

import { type Classifier } from '@bloodcell/core';
import { loadClassifier, selectBackend } from '@bloodcell/node';

import { TRAIN_DIR } from '../../../test-support/shared.js';
import { smallTrainedBundle } from '../../../test-support/trained-bundle.js';

/** Real smear images used by the tests, one per cell type. */
export const SAMPLE_IMAGES = {
  EOSINOPHIL: join(TRAIN_DIR, 'EOSINOPHIL', '_0_1169.jpeg'),
  LYMPHOCYTE: join(TRAIN_DIR, 'LYMPHOCYTE', '_0_1063.jpeg'),
  MONOCYTE: join(TRAIN_DIR, 'MONOCYTE', '_0_1173.jpeg'),
  NEUTROPHIL: join(TRAIN_DIR, 'NEUTROPHIL', '_0_1095.jpeg'),
};

/**
 * The path of the small real bundle shared by every test that needs one (see test-support).
 *
 * @example
 * const modelDir = await fixtureModelDir();
 */
export async function fixtureModelDir(): Promise<string> {
  return smallTrainedBundle();
}

/**
 * The fixture bundle loaded on the TF.js backend the server would pick.
 *
 * @example
 * const { classifier, modelDir } = await fixtureClassifier();
 */
export async function fixtureClassifier(): Promise<{ classifier: Classifier; modelDir: string }> {
  const modelDir = await fixtureModelDir();
  await selectBackend();
  return { classifier: await loadClassifier(modelDir), modelDir };
}
