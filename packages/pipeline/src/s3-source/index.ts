import { join } from 'node:path';
import { readFile } from 'node:fs/promises';

import { GetObjectCommand, ListObjectsV2Command, S3Client, type _Object } from '@aws-sdk/client-s3';
import { BloodcellError } from '@bloodcell/core';
import { writeFileAtomic } from '@bloodcell/node';

import { sha256 } from '../feature-cache/index.js';
import { isTransientError, withRetry } from '../retry/index.js';
import type { ImageSource, SourceFile } from '../source/index.js';

export interface S3SourceOptions {
  /** Tries per request (listing page or object) before the ingest fails. */
  attempts: number;
  /** Downloaded objects, keyed by bucket, key and ETag, so a rerun fetches only what is new. */
  cacheDir: string;
  /** Use this client instead of one built from the environment. */
  client?: S3Client;
  /** First backoff delay; tests shorten it. */
  baseDelayMs?: number;
  /** Per-request timeout (default 60 s). */
  requestTimeoutMs?: number;
  log?: (line: string) => void;
}

const HINT =
  'Check the bucket and prefix, the credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and ' +
  'AWS_SECRET_ACCESS_KEY) and, for an S3-compatible store, AWS_ENDPOINT_URL';

/**
 * Splits `s3://bucket/prefix` into bucket and key prefix (with a trailing `/` unless empty).
 *
 * @example
 * parseS3Url('s3://cells/kaggle/TRAIN'); // { bucket: 'cells', prefix: 'kaggle/TRAIN/' }
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match || match[1] === '') {
    throw new BloodcellError('BAD_S3_URL', `"${url}" is not an S3 location: expected s3://bucket/prefix.`);
  }
  const prefix = match[2]!.replace(/\/+$/, '');
  return { bucket: match[1]!, prefix: prefix === '' ? '' : `${prefix}/` };
}

/**
 * An S3 client from the standard credential chain (environment, profile, SSO, instance role).
 * `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` points it at an S3-compatible store (MinIO, Ceph,
 * R2…), which then gets path-style addressing; the region defaults to us-east-1.
 * Retries are ours (`withRetry`), so the SDK's own are off.
 *
 * @example
 * const s3 = createS3Client({ requestTimeoutMs: 30_000 });
 */
export function createS3Client(
  options: { requestTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): S3Client {
  const env = options.env ?? process.env;
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    followRegionRedirects: true,
    maxAttempts: 1,
    // Without throwOnRequestTimeout the SDK only warns, and a stalled request hangs for ever.
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      connectionTimeout: 10_000,
      throwOnRequestTimeout: true,
    },
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
}

/**
 * The objects under an S3 prefix as an image source; keys are relative to the prefix.
 *
 * @example
 * const source = s3Source('s3://cells/kaggle', { attempts: 5, cacheDir: 'artifacts/cache/s3' });
 * const files = await source.list();
 */
export function s3Source(url: string, options: S3SourceOptions): ImageSource {
  const { bucket, prefix } = parseS3Url(url);
  const client = options.client ?? createS3Client(options);
  const retry = <T>(what: string, work: () => Promise<T>) =>
    withRetry(work, {
      attempts: options.attempts,
      baseDelayMs: options.baseDelayMs,
      isRetryable: isTransientError,
      what: `S3 ${what}`,
      hint: HINT,
      onRetry: (error, attempt, delay) =>
        options.log?.(
          `S3 ${what}: attempt ${attempt} failed (${(error as Error).name}), retrying in ${Math.round(delay)}ms`,
        ),
    });

  let listing: Promise<_Object[]> | undefined;
  const objects = () => {
    listing ??= listObjects(client, bucket, prefix, retry);
    return listing;
  };

  return {
    description: url,
    list: async () =>
      (await objects()).map((object): SourceFile => {
        const key = object.Key!;
        return {
          key: key.slice(prefix.length),
          origin: `s3://${bucket}/${key}`,
          size: object.Size,
          read: () => cachedObject(client, bucket, object, options.cacheDir, retry),
        };
      }),
    fingerprint: async () =>
      (await objects()).map((object) => [object.Key!.slice(prefix.length), object.Size, object.ETag]),
  };
}

async function listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  retry: <T>(what: string, work: () => Promise<T>) => Promise<T>,
): Promise<_Object[]> {
  const objects: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await retry(`ListObjectsV2 s3://${bucket}/${prefix}`, () =>
      client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
    );
    objects.push(...(page.Contents ?? []).filter((object) => object.Key && !object.Key.endsWith('/')));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects.sort((a, b) => (a.Key! < b.Key! ? -1 : 1));
}

async function cachedObject(
  client: S3Client,
  bucket: string,
  object: _Object,
  cacheDir: string,
  retry: <T>(what: string, work: () => Promise<T>) => Promise<T>,
): Promise<Uint8Array> {
  const id = sha256(`${bucket}\n${object.Key}\n${object.ETag ?? ''}\n${object.Size ?? ''}`);
  const path = join(cacheDir, id.slice(0, 2), id);
  const cached = await readFile(path).catch(() => undefined);
  if (cached && (object.Size === undefined || cached.byteLength === object.Size)) return cached;

  const bytes = await retry(`GetObject s3://${bucket}/${object.Key}`, async () => {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
    const body = await response.Body!.transformToByteArray();
    if (object.Size !== undefined && body.byteLength !== object.Size) {
      // A cut-off body is a network fault: retry it like one.
      throw Object.assign(new Error(`got ${body.byteLength} of ${object.Size} bytes`), {
        code: 'ECONNRESET',
      });
    }
    return body;
  });
  await writeFileAtomic(path, bytes);
  return bytes;
}
