import type { Context } from 'hono';

import { ApiError } from './errors.js';

/** One uploaded file, not yet decoded. */
export interface Upload {
  file: string;
  bytes: Uint8Array;
}

/** Multipart fields that carry images. */
export const IMAGE_FIELDS = ['image', 'images'] as const;

/**
 * The images of a classify request: multipart files in `image` / `images`, or a raw body with an
 * image/* (or application/octet-stream) Content-Type, named by `?filename=`.
 *
 * @throws ApiError UNSUPPORTED_MEDIA_TYPE, BAD_MULTIPART, NO_IMAGE or TOO_MANY_FILES.
 * @example
 * const uploads = await readUploads(c, 64); // [{ file: 'field-1.jpeg', bytes }]
 */
export async function readUploads(c: Context, maxFiles: number): Promise<Upload[]> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  const uploads = type.startsWith('multipart/form-data')
    ? await readMultipart(c, maxFiles)
    : type.startsWith('image/') || type.startsWith('application/octet-stream')
      ? [await readRawBody(c)]
      : unsupportedMediaType(type);

  if (uploads.length === 0) {
    throw new ApiError(
      'NO_IMAGE',
      `The request holds no image: attach files in the multipart field ${IMAGE_FIELDS.join(' or ')}, ` +
        'or send one image as the raw body with an image/* Content-Type.',
    );
  }
  return uploads;
}

/**
 * `readUploads` with a deadline: a client that never finishes its body (a slow or stalled upload,
 * or a slowloris attack) is answered 408 UPLOAD_TIMEOUT, so it cannot hold its queue place for ever.
 *
 * @throws ApiError UPLOAD_TIMEOUT, besides those of readUploads.
 * @example
 * const uploads = await readUploadsWithin(c, 64, 60_000);
 */
export async function readUploadsWithin(c: Context, maxFiles: number, timeoutMs: number): Promise<Upload[]> {
  const reading = readUploads(c, maxFiles);
  // The read may still fail after the deadline answered (the socket is closed then): ignore it.
  reading.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Closing the connection ends the stalled body instead of draining it for ever.
      c.header('Connection', 'close');
      reject(
        new ApiError(
          'UPLOAD_TIMEOUT',
          `The upload did not arrive within ${timeoutMs / 1000} s: send smaller requests, or check the connection.`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([reading, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function readMultipart(c: Context, maxFiles: number): Promise<Upload[]> {
  let form: Record<string, unknown>;
  try {
    form = await c.req.parseBody({ all: true });
  } catch (error) {
    throw new ApiError('BAD_MULTIPART', 'The multipart body could not be parsed; it is truncated or malformed.', {
      cause: error,
    });
  }

  const files = IMAGE_FIELDS.flatMap((field) => [form[field]].flat()).filter(
    (value): value is File => typeof value === 'object' && value !== null && 'arrayBuffer' in value,
  );
  if (files.length > maxFiles) {
    throw new ApiError(
      'TOO_MANY_FILES',
      `${files.length} files were sent; at most ${maxFiles} are accepted per request. Send them in smaller groups.`,
    );
  }
  return Promise.all(
    files.map(async (file, i) => ({ file: file.name || `image-${i + 1}`, bytes: new Uint8Array(await file.arrayBuffer()) })),
  );
}

async function readRawBody(c: Context): Promise<Upload> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  return { file: c.req.query('filename') || 'upload', bytes };
}

function unsupportedMediaType(type: string): never {
  throw new ApiError(
    'UNSUPPORTED_MEDIA_TYPE',
    `Content-Type "${type || 'none'}" is not accepted: send multipart/form-data with files in the field ` +
      `${IMAGE_FIELDS.join(' or ')}, or one raw image with Content-Type image/jpeg, image/png, ` +
      'image/webp, image/tiff or image/bmp.',
  );
}
