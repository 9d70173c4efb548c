import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

import { BloodcellError } from '@bloodcell/core';

/**
 * The built script of one of this package's worker threads (a tsup entry of its own): beside the
 * bundle in dist/, or in dist/ when running from src/ (tests), which is as deep as every module.
 *
 * @throws BloodcellError WORKER_MISSING naming the script and the build command.
 * @example
 * const worker = new Worker(workerEntry('onnx-worker.js', 'The ONNX Runtime worker'));
 */
export function workerEntry(script: string, what: string): URL {
  // The CommonJS build has no import.meta.url, but it has __filename.
  const here = import.meta.url ?? pathToFileURL(__filename).href;
  const candidates = [new URL(`./${script}`, here), new URL(`../../dist/${script}`, here)];
  const found = candidates.find((url) => existsSync(url));
  if (!found) {
    throw new BloodcellError(
      'WORKER_MISSING',
      `${what} (dist/${script}) is missing: run \`pnpm --filter @bloodcell/node build\`.`,
    );
  }
  return found;
}

/**
 * Node options for a worker thread: this process's, less `--input-type`, which only applies to
 * code given on the command line (`node --input-type=module -e ...`) and makes a worker that
 * loads a file fail to start.
 *
 * @example
 * new Worker(entry, { execArgv: workerExecArgv() });
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    if (execArgv[i] === '--input-type') i += 1;
    else if (!execArgv[i]!.startsWith('--input-type=')) kept.push(execArgv[i]!);
  }
  return kept;
}
