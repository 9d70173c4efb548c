import { memory } from '@tensorflow/tfjs-core';

/** The environment variable that turns on GET /api/v1/debug/memory (`BLOODCELL_DEBUG=1`). */
export const DEBUG_ENV = 'BLOODCELL_DEBUG';

/** What GET /api/v1/debug/memory answers: live TF.js tensors and the process's memory. */
export interface MemoryReport {
  /** Tensors alive in TF.js; steady between requests unless something leaks. */
  tensors: number;
  tensorBytes: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
}

/**
 * Whether the debug routes are on: only when the operator sets BLOODCELL_DEBUG=1, since they show
 * internals no visitor needs.
 *
 * @example
 * if (debugEnabled(process.env)) app.get('/api/v1/debug/memory', (c) => c.json(memoryReport()));
 */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[DEBUG_ENV] === '1';
}

/**
 * TF.js tensors and process memory right now, for leak checks under load.
 *
 * @example
 * const { tensors, rssBytes } = memoryReport();
 */
export function memoryReport(): MemoryReport {
  const tensors = memory();
  const usage = process.memoryUsage();
  return {
    tensors: tensors.numTensors,
    tensorBytes: tensors.numBytes,
    rssBytes: usage.rss,
    heapUsedBytes: usage.heapUsed,
    externalBytes: usage.external,
  };
}
