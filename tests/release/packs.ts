import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Condition that points the workspace's own tools at `src/`; its target is never published. */
export const SOURCE_CONDITION = 'bloodcell-source';

/** The fields of a package.json that these tests read. */
export interface Manifest {
  name: string;
  private?: boolean;
  main?: string;
  module?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  files?: string[];
  license?: string;
  repository?: { type: string; url: string; directory?: string };
  publishConfig?: { access?: string; provenance?: boolean };
  [field: string]: unknown;
}

/** A workspace package that is published to npm. */
export interface PublishedPackage {
  dir: string;
  folder: string;
  manifest: Manifest;
}

/**
 * Every non-private package under packages/.
 *
 * @example
 * for (const { manifest } of publishedPackages()) console.log(manifest.name);
 */
export function publishedPackages(): PublishedPackage[] {
  const packagesDir = join(ROOT, 'packages');
  return readdirSync(packagesDir)
    .filter((folder) => existsSync(join(packagesDir, folder, 'package.json')))
    .map((folder) => {
      const dir = join(packagesDir, folder);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
      return { dir, folder, manifest };
    })
    .filter(({ manifest }) => manifest.private !== true);
}

/**
 * The paths `npm pack` would put in the tarball, as npm itself lists them.
 *
 * @example
 * const files = await packedFiles('packages/core'); // ['dist/index.cjs', ..., 'package.json']
 */
export async function packedFiles(dir: string): Promise<string[]> {
  // No pack scripts: a dry run must not rebuild, only report what the build left.
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir,
    maxBuffer: 32 * 1024 * 1024,
  });
  const [report] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  if (!report) throw new Error(`npm pack --dry-run --json printed no report in ${dir}`);
  return report.files.map((file) => file.path).sort();
}

/**
 * Files the manifest points consumers at (main, module, types, bin, every export target except
 * the workspace-only source condition), without the leading `./`.
 *
 * @example
 * entryPoints(manifest); // ['dist/index.cjs', 'dist/index.d.cts', 'dist/index.d.ts', ...]
 */
export function entryPoints(manifest: Manifest): string[] {
  const bins = Object.values(manifest.bin ?? {});
  const targets = [manifest.main, manifest.module, manifest.types, ...bins];
  collectTargets(manifest.exports, targets);
  const paths = targets.filter((target): target is string => typeof target === 'string');
  return [...new Set(paths.map((target) => target.replace(/^\.\//, '')))].sort();
}

function collectTargets(node: unknown, into: Array<string | undefined>): void {
  if (typeof node === 'string') into.push(node);
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (key !== SOURCE_CONDITION) collectTargets(value, into);
  }
}
