import { copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

import { CELL_TYPES, type CellType, ImageInputError } from '@bloodcell/core';
import { decodeImage, formatSeconds, progressBar, replaceFolderAtomic } from '@bloodcell/node';

import { type GroupRecord, readGroups } from '../dataset/index.js';
import { sha256 } from '../feature-cache/index.js';
import { findLabelledImages } from '../layout/index.js';
import { type OpenSourceOptions, type SourceFile, openSource } from '../source/index.js';
import { type CrossClassDuplicate, type DroppedDuplicate, dropDuplicates } from './dedupe.js';

export type { CrossClassDuplicate, DroppedDuplicate } from './dedupe.js';

/** Names inside the ingest output folder. */
export const INGEST_FILES = {
  manifest: 'manifest.json',
  images: 'images',
  groups: 'groups.csv',
  quarantine: 'quarantine',
};

export interface IngestOptions extends Omit<OpenSourceOptions, 'cacheDir'> {
  /** A local folder, `s3://bucket/prefix`, or an https:// .zip/.tar.gz archive. */
  source: string;
  /** The output folder (artifacts/ingest), replaced atomically. */
  outDir: string;
  /** Downloads kept between runs (artifacts/cache/ingest). */
  cacheDir: string;
  /** groups.csv (columns class, file, source_frame, field_group). */
  groupsCsv?: string | null;
  /** Copy local images instead of linking them in place. */
  copyLocal?: boolean;
  conflicts?: 'drop' | 'keep-first';
  /** Images fetched and decoded at once. */
  concurrency?: number;
  progress?: boolean;
}

/** One image that passed ingest. */
export interface ManifestImage {
  /** `<CELL_TYPE>/<file>` inside `images/`. */
  path: string;
  class: CellType;
  sha256: string;
  size: number;
  width: number;
  height: number;
  group?: string;
  sourcePhoto?: string;
  /** Where the file came from. */
  origin: string;
}

/** An image that could not be decoded, copied to `quarantine/` with the reason. */
export interface QuarantinedImage {
  path: string;
  class: CellType;
  origin: string;
  reason: string;
}

/** `artifacts/ingest/manifest.json`. */
export interface IngestManifest {
  format: 'bloodcell-ingest';
  version: 1;
  source: string;
  /** Folder inside the source that held the class folders. */
  root: string;
  counts: Record<CellType, number>;
  images: ManifestImage[];
  quarantined: QuarantinedImage[];
  duplicates: DroppedDuplicate[];
  crossClassDuplicates: CrossClassDuplicate[];
  /** Files passed over: not images, or not directly inside a class folder. */
  ignored: number;
}

type Decoded = Omit<ManifestImage, 'group' | 'sourcePhoto'> & { file: SourceFile };

/**
 * Brings labelled images from a source into `outDir`: every image is decoded once, undecodable
 * ones are quarantined with the reason, byte-identical duplicates dropped and cross-class ones
 * reported; kept images land in `images/<CELL_TYPE>/` (linked in place for local folders), with a
 * `manifest.json` and a filtered `groups.csv`. The folder is replaced atomically.
 *
 * @example
 * const manifest = await ingest({
 *   source: '../shared/data/blood-cells/TRAIN', groupsCsv: '../shared/data/blood-cells/groups.csv',
 *   root: '.', outDir: 'artifacts/ingest', cacheDir: 'artifacts/cache/ingest', attempts: 5,
 * });
 */
export async function ingest(options: IngestOptions): Promise<IngestManifest> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const source = openSource(options.source, options);
  const files = await source.list();
  const layout = findLabelledImages(
    files.map((file) => file.key),
    source.description,
  );
  const byKey = new Map(files.map((file) => [file.key, file]));
  const groups = options.groupsCsv ? await readGroups(resolve(options.root, options.groupsCsv)) : undefined;
  const outDir = resolve(options.outDir);

  let manifest: IngestManifest | undefined;
  await replaceFolderAtomic(outDir, async (staging) => {
    const decoded: Decoded[] = [];
    const quarantined: QuarantinedImage[] = [];
    const progress = progressBar('ingest', layout.images.length, { enabled: options.progress });

    await forEachLimit(layout.images, options.concurrency ?? 4, async (image) => {
      const file = byKey.get(image.key)!;
      const bytes = await file.read();
      const entry = { path: image.name, class: image.cellType, origin: file.origin };
      try {
        const { width, height } = await decodeImage(bytes);
        decoded.push({ ...entry, sha256: sha256(bytes), size: bytes.byteLength, width, height, file });
        if (!file.localPath || options.copyLocal)
          await writeInto(staging, INGEST_FILES.images, image.name, bytes);
      } catch (error) {
        if (!(error instanceof ImageInputError)) throw error;
        quarantined.push({ ...entry, reason: error.message });
        await writeInto(staging, INGEST_FILES.quarantine, image.name, bytes);
      }
      progress.tick();
    });

    const { kept, duplicates, crossClass } = dropDuplicates(decoded, options.conflicts ?? 'drop');
    const keptPaths = new Set(kept.map((image) => image.path));
    for (const image of decoded) {
      if (keptPaths.has(image.path) || (image.file.localPath && !options.copyLocal)) continue;
      await rm(join(staging, INGEST_FILES.images, image.path));
    }
    for (const image of kept) {
      if (!image.file.localPath || options.copyLocal) continue;
      // Relative links keep working when the checkout and the data move together.
      const link = join(staging, INGEST_FILES.images, image.path);
      const finalFolder = join(outDir, INGEST_FILES.images, dirname(image.path));
      await mkdir(dirname(link), { recursive: true });
      await symlink(relative(finalFolder, image.file.localPath), link).catch(async (error: unknown) => {
        // Windows without developer mode may not create links: copy the image instead.
        if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
        await copyFile(image.file.localPath!, link);
      });
    }

    const images = kept.map(({ file: _file, ...image }) => withGroup(image, groups));
    manifest = {
      format: 'bloodcell-ingest',
      version: 1,
      source: source.description,
      root: layout.root,
      counts: Object.fromEntries(
        CELL_TYPES.map((c) => [c, images.filter((i) => i.class === c).length]),
      ) as Record<CellType, number>,
      images,
      quarantined: quarantined.sort((a, b) => (a.path < b.path ? -1 : 1)),
      duplicates,
      crossClassDuplicates: crossClass,
      ignored: layout.ignored,
    };
    if (groups) await writeFile(join(staging, INGEST_FILES.groups), groupsCsv(images));
    if (quarantined.length > 0) {
      await writeFile(
        join(staging, INGEST_FILES.quarantine, 'reasons.json'),
        `${JSON.stringify(manifest.quarantined, null, 2)}\n`,
      );
    }
    await writeFile(join(staging, INGEST_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
    progress.done();
  });

  log(summaryLine(manifest!, (Date.now() - started) / 1000));
  return manifest!;
}

/**
 * The one-line account of an ingest run.
 *
 * @example
 * summaryLine(manifest, 12.5); // 'ingest: 9957 images (EOSINOPHIL 2497, …) from …; 0 quarantined, …'
 */
export function summaryLine(manifest: IngestManifest, seconds: number): string {
  const counts = CELL_TYPES.map((c) => `${c} ${manifest.counts[c]}`).join(', ');
  return (
    `ingest: ${manifest.images.length} images (${counts}) from ${manifest.source}; ` +
    `${manifest.quarantined.length} quarantined, ${manifest.duplicates.length} duplicates dropped, ` +
    `${manifest.crossClassDuplicates.length} cross-class duplicates, ${manifest.ignored} other files ignored; ` +
    `${formatSeconds(seconds)}`
  );
}

function withGroup(
  image: Omit<ManifestImage, 'group' | 'sourcePhoto'>,
  groups?: Map<string, GroupRecord>,
): ManifestImage {
  const record = groups?.get(image.path);
  return record ? { ...image, group: record.group, sourcePhoto: record.sourcePhoto } : image;
}

function groupsCsv(images: readonly ManifestImage[]): string {
  const rows = images
    .filter((image) => image.group !== undefined)
    .map((image) =>
      [image.class, image.path.slice(image.class.length + 1), image.sourcePhoto ?? '', image.group].join(
        ',',
      ),
    );
  return `class,file,source_frame,field_group\n${rows.join('\n')}\n`;
}

async function writeInto(staging: string, folder: string, name: string, bytes: Uint8Array): Promise<void> {
  const path = join(staging, folder, name);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

/** Runs `work` over the items, `limit` at a time; after a failure no new item starts, and the
 * first error is thrown once the running ones have settled (so nothing writes into a removed folder). */
async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      await work(item).catch((error: unknown) => {
        failure ??= { error };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}
