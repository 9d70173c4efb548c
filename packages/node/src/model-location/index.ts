import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { BundleError, METADATA_FILE } from '@bloodcell/core';

/** Where `pnpm train` writes the bundle, relative to the workspace root (and the CLI's cwd). */
export const DEFAULT_MODEL_DIR = join('artifacts', 'model');

/**
 * Picks the bundle folder: the explicit option, else `BLOODCELL_MODEL`, else `artifacts/model`
 * under the working directory. Throws a BundleError that lists every place it looked.
 *
 * @example
 * const dir = resolveModelDir(flags.model); // 'artifacts/model'
 */
export function resolveModelDir(explicit?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const candidates: [string, string][] = [];
  if (explicit) candidates.push(['--model', explicit]);
  else if (env.BLOODCELL_MODEL) candidates.push(['BLOODCELL_MODEL', env.BLOODCELL_MODEL]);
  else candidates.push(['default', DEFAULT_MODEL_DIR]);

  const [source, dir] = candidates[0]!;
  const absolute = resolve(cwd, dir);
  if (!existsSync(join(absolute, METADATA_FILE))) {
    throw new BundleError(
      'BUNDLE_NOT_FOUND',
      `No model bundle at ${absolute} (from ${source}). Train one with \`pnpm train\` at the ` +
        `workspace root, or point --model DIR or BLOODCELL_MODEL at a folder holding ${METADATA_FILE}, ` +
        'model.json and weights.bin.',
    );
  }
  return absolute;
}
