import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root, whatever the test's working directory. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The read-only `shared` folder beside the checkout (data and the MobileNetV2 base), or the
 * folder named by BLOODCELL_SHARED. Tests that need it call `sharedPath` and skip with
 * `SHARED_MISSING` as their reason when it is absent.
 */
export const SHARED_DIR = process.env.BLOODCELL_SHARED ?? resolve(REPO_ROOT, '..', 'shared');

export const HAS_SHARED = existsSync(join(SHARED_DIR, 'data', 'blood-cells', 'groups.csv'));

export const SHARED_MISSING =
  `../shared not found at ${SHARED_DIR}: tests on real images are skipped. ` +
  'Set BLOODCELL_SHARED to the folder holding data/blood-cells and models/.';

if (!HAS_SHARED && !process.env.BLOODCELL_SHARED_QUIET) {
  process.env.BLOODCELL_SHARED_QUIET = '1';
  console.warn(SHARED_MISSING);
}

/** A path inside the shared folder. */
export function sharedPath(...parts: string[]): string {
  return join(SHARED_DIR, ...parts);
}

export const TRAIN_DIR = sharedPath('data', 'blood-cells', 'TRAIN');
export const GROUPS_CSV = sharedPath('data', 'blood-cells', 'groups.csv');
export const MOBILENET_DIR = sharedPath('models', 'mobilenet-v2-0.35-imagenet');
