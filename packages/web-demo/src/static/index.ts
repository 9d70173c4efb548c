import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';

import { METADATA_FILE } from '@bloodcell/core';
import { MODEL_FILE } from '@bloodcell/node';
import type { Context } from 'hono';

import { errorResponse } from '../api/errors.js';

/** URL path (relative to a route prefix) to file on disk; nothing outside it is ever served. */
export type FileTable = ReadonlyMap<string, string>;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Every file under the browser-assets folder (the esbuild output), keyed by its path with `/`.
 * An absent folder gives an empty table, so the API still works without a page build.
 *
 * @example
 * const assets = assetTable('dist/public'); // 'app.js', 'wasm/tfjs-backend-wasm.wasm', ...
 */
export function assetTable(dir: string): FileTable {
  if (!existsSync(dir)) return new Map();
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => [relative(dir, path).split(sep).join('/'), path] as const);
  return new Map(files);
}

/**
 * The files of a model bundle a browser needs (model.json, its weight shards, bloodcell.json).
 * Shard names come from model.json and must be plain file names in the folder.
 *
 * @example
 * const bundle = bundleTable('artifacts/model'); // 'model.json', 'weights.bin', 'bloodcell.json'
 */
export function bundleTable(modelDir: string): FileTable {
  const modelJson = JSON.parse(readFileSync(join(modelDir, MODEL_FILE), 'utf8')) as {
    weightsManifest?: { paths?: string[] }[];
  };
  const shards = (modelJson.weightsManifest ?? []).flatMap((group) => group.paths ?? []);
  const names = [MODEL_FILE, METADATA_FILE, ...shards.filter((name) => /^[\w.-]+$/.test(name) && !name.startsWith('.'))];
  return new Map(names.map((name) => [name, join(modelDir, name)]));
}

/**
 * A handler serving the files of a table under a route prefix; anything else is a JSON 404.
 *
 * @example
 * app.get('/assets/*', serveTable('/assets/', assetTable(dir)));
 */
export function serveTable(prefix: string, table: FileTable) {
  return async (c: Context): Promise<Response> => {
    const name = c.req.path.slice(prefix.length);
    const path = table.get(name);
    if (path === undefined) return errorResponse(c, 'NOT_FOUND', `No file ${c.req.path} here.`);

    const body = await readFile(path);
    c.header('Content-Type', CONTENT_TYPES[extname(path)] ?? 'application/octet-stream');
    // Revalidated on each load: a new build or a retrained model must never mix with a cached one.
    c.header('Cache-Control', 'no-cache');
    return c.body(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  };
}
