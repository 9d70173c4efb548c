import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Hex sha256 of a file's bytes, streamed so large archives and weights stay out of memory.
 *
 * @example
 * await hashFile('artifacts/ingest/manifest.json'); // '3f1c…'
 */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Content hash of a folder: sha256 over its files' relative paths and contents, in path order.
 * Reads every byte, so keep it for small folders (a model, a report).
 *
 * @example
 * await hashFolder('artifacts/model');
 */
export async function hashFolder(dir: string): Promise<string> {
  const lines: string[] = [];
  for (const file of await listFiles(dir)) lines.push(`${file}\t${await hashFile(join(dir, file))}`);
  return sha256Text(lines.join('\n'));
}

/**
 * A cheap fingerprint of a big folder: sha256 over each file's relative path, size and
 * modification time. It notices added, removed, resized and rewritten files without reading
 * them, like make and DVC's state cache; a same-size edit that restores the old mtime slips by.
 *
 * @example
 * await hashListing('../shared/data/blood-cells/TRAIN');
 */
export async function hashListing(dir: string): Promise<string> {
  const lines: string[] = [];
  for (const file of await listFiles(dir)) {
    const info = await stat(join(dir, file));
    lines.push(`${file}\t${info.size}\t${Math.round(info.mtimeMs)}`);
  }
  return sha256Text(lines.join('\n'));
}

/**
 * sha256 of a JSON value with object keys sorted, so equal values hash equally.
 *
 * @example
 * hashValue({ b: 1, a: 2 }) === hashValue({ a: 2, b: 1 }); // true
 */
export function hashValue(value: unknown): string {
  return sha256Text(stableJson(value));
}

/**
 * JSON with object keys sorted at every depth.
 *
 * @example
 * stableJson({ b: 1, a: [{ d: 1, c: 2 }] }); // '{"a":[{"c":2,"d":1}],"b":1}'
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const entries = Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return Object.fromEntries(entries);
  });
}

/** What the pipeline's code is: its package version and a hash of the code that runs. */
export interface CodeVersion {
  version: string;
  /** sha256 of the built dist (or, when running from source, of src/) */
  sha256: string;
}

/**
 * The pipeline's code version: package.json's version plus a hash of its built `dist/` (the
 * .js/.cjs files, not maps or types); from sources (tests, tsx) it hashes `src/` instead.
 *
 * @example
 * const code = await codeVersion(); // { version: '0.1.0', sha256: '9ab2…' }
 */
export async function codeVersion(packageRoot = findPackageRoot()): Promise<CodeVersion> {
  const manifest = JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  const running = fileURLToPath(import.meta.url);
  const fromDist = relative(join(packageRoot, 'dist'), running).startsWith('..') === false;
  const folder = join(packageRoot, fromDist ? 'dist' : 'src');
  const code = fromDist ? /\.c?js$/ : /(?<!\.test)\.ts$/;

  const lines: string[] = [];
  for (const file of (await listFiles(folder)).filter((name) => code.test(name))) {
    lines.push(`${file}\t${await hashFile(join(folder, file))}`);
  }
  return { version: manifest.version, sha256: sha256Text(lines.join('\n')) };
}

/**
 * Files under a folder (following no symlinked folders), as sorted `/`-separated relative paths.
 *
 * @example
 * await listFiles('artifacts/model'); // ['bloodcell.json', 'model.json', 'weights.bin']
 */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();
}

function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function findPackageRoot(): string {
  // Both src/fingerprint/index.ts and dist/*.js sit two levels or one below the package root.
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith('fingerprint') ? join(here, '..', '..') : join(here, '..');
}
