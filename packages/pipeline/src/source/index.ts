import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { BloodcellError } from '@bloodcell/core';

import { archiveSource } from '../archive-source/index.js';
import { hashListing, listFiles } from '../fingerprint/index.js';
import { s3Source } from '../s3-source/index.js';

/** One file of a source, readable on demand. */
export interface SourceFile {
  /** Path inside the source, `/`-separated. */
  key: string;
  /** Where it came from, for the manifest: a path, an s3:// URI, or `archive-url#member`. */
  origin: string;
  size?: number;
  /** Set when the file is on local disk and may be linked in place instead of copied. */
  localPath?: string;
  read(): Promise<Uint8Array>;
}

/** Somewhere labelled images come from: a local folder, an S3 prefix or a downloaded archive. */
export interface ImageSource {
  description: string;
  list(): Promise<SourceFile[]>;
  /** A cheap value that changes when the source's content does (for the runner's skip check). */
  fingerprint(): Promise<unknown>;
}

export interface OpenSourceOptions {
  /** Folder that relative local paths are resolved against. */
  root: string;
  /** Where downloads (S3 objects, archives) are kept between runs. */
  cacheDir: string;
  attempts: number;
  /** Expected sha256 of an https:// archive. */
  sha256?: string | null;
  allowLoopbackHttp?: boolean;
  baseDelayMs?: number;
  log?: (line: string) => void;
}

/**
 * Opens `s3://bucket/prefix`, an `https://` .zip/.tar.gz archive (pinned by sha256) or a local
 * folder as an image source.
 *
 * @example
 * const source = openSource('s3://cells/kaggle', { root: '.', cacheDir: 'artifacts/cache', attempts: 5 });
 */
export function openSource(location: string, options: OpenSourceOptions): ImageSource {
  if (location.startsWith('s3://')) {
    return s3Source(location, { ...options, cacheDir: join(options.cacheDir, 's3') });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    if (!options.sha256) {
      throw new BloodcellError(
        'ARCHIVE_SHA256_MISSING',
        `ingest.sha256 must be set for ${location}: the archive's sha256 (from the publisher, or ` +
          '`sha256sum` of a copy you trust); downloads are refused unless they match it.',
      );
    }
    return archiveSource(location, { ...options, sha256: options.sha256, cacheDir: options.cacheDir });
  }
  return localSource(resolve(options.root, location), location);
}

/**
 * A local folder as an image source; files can be linked in place.
 *
 * @example
 * const source = localSource('/work/shared/data/blood-cells/TRAIN', '../shared/data/blood-cells/TRAIN');
 */
export function localSource(dir: string, label = dir, linkable = true): ImageSource {
  return {
    description: label,
    list: async () => {
      const keys = await listFiles(dir).catch((cause: unknown) => {
        throw new BloodcellError(
          'SOURCE_NOT_FOUND',
          `Cannot read the folder ${dir} (ingest.source "${label}").`,
          {
            cause,
          },
        );
      });
      return keys.map((key) => ({
        key,
        origin: `${label.replace(/\/+$/, '')}/${key}`,
        ...(linkable ? { localPath: join(dir, key) } : {}),
        read: () => readFile(join(dir, key)),
      }));
    },
    fingerprint: () => hashListing(dir),
  };
}
