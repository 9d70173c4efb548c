import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { hashFile, hashFolder, hashListing, hashValue } from '../fingerprint/index.js';
import type { StageInput } from './index.js';

type Kind = 'file' | 'folder' | 'listing';

/**
 * An input or output on disk, named by its path relative to `root`: a file by its content hash, a
 * folder by the hash of all its files (`folder`) or of their names, sizes and times (`listing`,
 * for big data folders). A folder with a `describedBy` file (a manifest listing every file's hash)
 * is fingerprinted by that file alone, so big outputs are not hashed twice.
 *
 * @example
 * pathInput(root, 'artifacts/ingest', { describedBy: 'manifest.json' });
 * pathInput(root, '../shared/data/blood-cells/TRAIN', { folder: 'listing' });
 */
export function pathInput(
  root: string,
  path: string,
  options: { folder?: Exclude<Kind, 'file'>; describedBy?: string } = {},
): StageInput {
  const absolute = resolve(root, path);
  return {
    name: path.split('\\').join('/'),
    path: absolute,
    fingerprint: async () => {
      const info = await stat(absolute).catch(() => undefined);
      if (!info) return null;
      if (!info.isDirectory()) return hashFile(absolute);
      if (options.describedBy) {
        return hashFile(join(absolute, options.describedBy)).catch(() => null);
      }
      return options.folder === 'listing' ? hashListing(absolute) : hashFolder(absolute);
    },
  };
}

/**
 * An input known by a value rather than a path (a remote listing, a pinned URL with its sha256).
 *
 * @example
 * valueInput('https://example.org/cells.zip', async () => ({ sha256 }));
 */
export function valueInput(name: string, read: () => Promise<unknown>): StageInput {
  return { name, fingerprint: async () => hashValue(await read()) };
}

/**
 * Removes what a killed run left beside an output folder: the temporary siblings that
 * `replaceFolderAtomic` and `writeFileAtomic` name `.<name>.(staging|old|tmp)-<pid>-<hex>`,
 * when that process is gone. The output itself is never touched.
 *
 * @example
 * await removeLeftovers('artifacts/ingest');
 */
export async function removeLeftovers(target: string): Promise<string[]> {
  const folder = dirname(target);
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(target))}\\.(staging|old|tmp)-(\\d+)-[0-9a-f]+$`);
  const removed: string[] = [];
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    const match = pattern.exec(name);
    if (!match || isRunning(Number(match[2]))) continue;
    await rm(join(folder, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Whether a process with this id is alive (on this machine).
 *
 * @example
 * isRunning(process.pid); // true
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
