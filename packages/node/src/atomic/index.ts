import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function siblingPath(target: string, label: string): string {
  return join(dirname(target), `.${basename(target)}.${label}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes a file so that readers see the old content or the new, never a half-written one:
 * the bytes go to a temporary sibling, then a rename replaces the target.
 *
 * @example
 * await writeFileAtomic('artifacts/model/bloodcell.json', JSON.stringify(metadata));
 */
export async function writeFileAtomic(target: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temporary = siblingPath(target, 'tmp');
  try {
    await writeFile(temporary, content);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Replaces a whole folder at once: `fill` writes into a temporary sibling folder, which then takes
 * the target's place. If `fill` throws, the previous folder is left as it was.
 *
 * @example
 * await replaceFolderAtomic('artifacts/model', async (dir) => {
 *   await writeFile(join(dir, 'model.json'), topology);
 * });
 */
export async function replaceFolderAtomic(target: string, fill: (folder: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const staging = siblingPath(target, 'staging');
  const retired = siblingPath(target, 'old');
  await mkdir(staging);

  try {
    await fill(staging);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }

  // Two renames: POSIX cannot swap a non-empty folder in one step, so the old one steps aside first.
  let hadPrevious = true;
  try {
    await rename(target, retired);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    hadPrevious = false;
  }
  try {
    await rename(staging, target);
  } catch (error) {
    if (hadPrevious) await rename(retired, target);
    throw error;
  }
  if (hadPrevious) await rm(retired, { recursive: true, force: true });
}
