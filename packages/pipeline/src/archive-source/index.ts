import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { BloodcellError } from '@bloodcell/core';
import { replaceFolderAtomic } from '@bloodcell/node';
import { Unzip, UnzipInflate } from 'fflate';
import * as tar from 'tar';

import { hashFile } from '../fingerprint/index.js';
import { isImageFile } from '../layout/index.js';
import { isTransientError, withRetry } from '../retry/index.js';
import { type ImageSource, localSource } from '../source/index.js';

export interface ArchiveSourceOptions {
  /** The archive's expected sha256; a download that differs is refused. */
  sha256: string;
  /** Downloads go to `<cacheDir>/downloads`, extracted files to `<cacheDir>/extracted`. */
  cacheDir: string;
  attempts: number;
  /** Accept `http://` from 127.0.0.1 / localhost (tests); everything else must be https://. */
  allowLoopbackHttp?: boolean;
  baseDelayMs?: number;
  /** Give up on a download that sends nothing for this long (default 60 s). */
  idleTimeoutMs?: number;
  log?: (line: string) => void;
}

/** A download or archive that cannot be used: wrong hash, insecure URL, unknown format. */
export class ArchiveError extends BloodcellError {}

/**
 * A `.zip` or `.tar.gz` archive at a URL as an image source: downloaded once (resuming from the
 * cache on later runs), checked against its sha256, and extracted into the cache.
 *
 * @example
 * const source = archiveSource('https://example.org/blood-cells.zip', { sha256, cacheDir, attempts: 5 });
 */
export function archiveSource(url: string, options: ArchiveSourceOptions): ImageSource {
  checkArchiveUrl(url, options.allowLoopbackHttp ?? false);
  const expected = options.sha256.toLowerCase();
  return {
    description: url,
    list: async () => {
      const archive = await downloadArchive(url, options);
      const folder = join(options.cacheDir, 'extracted', expected);
      if (!existsSync(folder))
        await replaceFolderAtomic(folder, (staging) => extractArchive(archive, staging));
      const files = await localSource(folder, url, false).list();
      return files.map((file) => ({ ...file, origin: `${url}#${file.key}` }));
    },
    fingerprint: async () => ({ url, sha256: expected }),
  };
}

/**
 * Refuses URLs other than https://, and plain http:// unless to the loopback host when allowed.
 *
 * @example
 * checkArchiveUrl('http://127.0.0.1:8080/cells.zip', true); // fine
 */
export function checkArchiveUrl(url: string, allowLoopbackHttp: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ArchiveError('BAD_URL', `"${url}" is not a URL.`);
  }
  if (parsed.protocol === 'https:') return;
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol === 'http:' && loopback && allowLoopbackHttp) return;
  throw new ArchiveError(
    'INSECURE_URL',
    `Refusing ${url}: archives are downloaded over https:// only` +
      (parsed.protocol === 'http:' && loopback
        ? ' (set ingest.allowLoopbackHttp for a local test server).'
        : '.'),
  );
}

/**
 * Downloads the archive into `<cacheDir>/downloads/<sha256>` unless a verified copy is there,
 * streaming to a temporary file while hashing; refuses it when the sha256 differs.
 *
 * @example
 * const path = await downloadArchive(url, { sha256, cacheDir: 'artifacts/cache', attempts: 5 });
 */
export async function downloadArchive(url: string, options: ArchiveSourceOptions): Promise<string> {
  const expected = options.sha256.toLowerCase();
  const target = join(options.cacheDir, 'downloads', expected);
  if (existsSync(target) && (await hashFile(target)) === expected) return target;
  await mkdir(dirname(target), { recursive: true });

  const partial = `${target}.part-${process.pid}`;
  const found = await withRetry(() => fetchTo(url, partial, options.idleTimeoutMs ?? 60_000), {
    attempts: options.attempts,
    baseDelayMs: options.baseDelayMs,
    isRetryable: isTransientError,
    what: `Download of ${url}`,
    hint: 'Check the URL and the network; raise ingest.attempts to retry longer',
    onRetry: (error, attempt) =>
      options.log?.(`download: attempt ${attempt} failed (${(error as Error).message})`),
  }).catch(async (error: unknown) => {
    await rm(partial, { force: true });
    throw error;
  });

  if (found !== expected) {
    await rm(partial, { force: true });
    throw new ArchiveError(
      'SHA256_MISMATCH',
      `Refusing ${url}: its sha256 is ${found} but ingest.sha256 is ${expected}. The file changed at ` +
        'the source or the pin is wrong; check it before updating ingest.sha256.',
    );
  }
  await rename(partial, target);
  return target;
}

/**
 * Extracts the image files of a .zip or .tar.gz (told apart by their first bytes) into a folder;
 * entries that would land outside it are refused.
 *
 * @example
 * await extractArchive('artifacts/cache/downloads/3f…', 'artifacts/cache/extracted/3f…');
 */
export async function extractArchive(archive: string, folder: string): Promise<void> {
  const handle = await open(archive, 'r');
  const magic = new Uint8Array(4);
  await handle.read(magic, 0, 4, 0);
  await handle.close();

  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    await tar.x({ file: archive, cwd: folder, strict: true, filter: (path) => isImageFile(path) });
    return;
  }
  if (magic[0] === 0x50 && magic[1] === 0x4b) {
    await extractZip(archive, folder);
    return;
  }
  throw new ArchiveError('UNKNOWN_ARCHIVE', `${archive} is neither a .zip nor a .tar.gz archive.`);
}

/** Streams a zip's image entries to disk: one entry in memory at a time, never the archive. */
async function extractZip(archive: string, folder: string): Promise<void> {
  let writes: Promise<void>[] = [];
  let failure: unknown;
  const unfinished = new Set<string>();
  const unzip = new Unzip((entry) => {
    if (!isImageFile(entry.name)) return;
    const path = normalize(entry.name);
    if (path.startsWith('..') || path.startsWith('/') || /^[a-z]:/i.test(path)) {
      failure ??= new ArchiveError('UNSAFE_ARCHIVE', `The archive ${archive} has an entry outside its folder: "${entry.name}".`);
      return;
    }
    const chunks: Uint8Array[] = [];
    unfinished.add(entry.name);
    entry.ondata = (error, data, final) => {
      if (error) {
        failure ??= new ArchiveError('BAD_ARCHIVE', `The archive ${archive} is damaged at "${entry.name}": ${error.message}`);
        return;
      }
      chunks.push(data);
      if (!final) return;
      unfinished.delete(entry.name);
      writes.push(writeEntry(join(folder, path), chunks));
    };
    entry.start();
  });
  unzip.register(UnzipInflate);

  const push = (chunk: Uint8Array, final = false) => {
    try {
      unzip.push(chunk, final);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      failure ??= new ArchiveError('BAD_ARCHIVE', `The archive ${archive} is damaged or truncated (${why}).`, { cause: error });
    }
    if (failure) throw failure;
  };

  for await (const chunk of createReadStream(archive)) {
    push(chunk as Buffer);
    // Entries finished by this chunk are written before the next is read: memory stays bounded.
    await Promise.all(writes);
    writes = [];
  }
  push(new Uint8Array(0), true);
  await Promise.all(writes);
  if (unfinished.size > 0) {
    throw new ArchiveError('BAD_ARCHIVE', `The archive ${archive} ends inside "${[...unfinished][0]}": it is truncated.`);
  }
}

async function writeEntry(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, chunks);
}

async function fetchTo(url: string, path: string, idleTimeoutMs: number): Promise<string> {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), idleTimeoutMs);
  const hash = createHash('sha256');
  try {
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok || !response.body) {
      throw Object.assign(new Error(`HTTP ${response.status} ${response.statusText}`), {
        status: response.status,
      });
    }
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(), idleTimeoutMs);
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(
      Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
      meter,
      createWriteStream(path),
    );
    return hash.digest('hex');
  } finally {
    clearTimeout(timer);
  }
}
