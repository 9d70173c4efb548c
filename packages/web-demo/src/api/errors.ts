import { BloodcellError } from '@bloodcell/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** HTTP status of each stable error code the API returns. */
export const ERROR_STATUS: Record<string, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  NOT_AN_IMAGE: 400,
  NO_IMAGE: 400,
  BAD_MULTIPART: 400,
  BAD_QUERY: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UPLOAD_TIMEOUT: 408,
  IMAGE_TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_FILES: 413,
  UNSUPPORTED_IMAGE_TYPE: 415,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  EXPLAIN_UNAVAILABLE: 501,
  OVERLOADED: 503,
  SHUTTING_DOWN: 503,
  NOT_READY: 503,
  WARMUP_FAILED: 503,
};

/** Seconds a client is told to wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 2;

/** An error the API answers with `{ error: { code, message } }` and the code's status. */
export class ApiError extends BloodcellError {
  readonly status: ContentfulStatusCode;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = ERROR_STATUS[code] ?? 500;
  }
}

/**
 * The `{ code, message }` a client sees for any thrown value: bloodcell's own errors keep their
 * code and message; anything else becomes INTERNAL with no detail, so no stack or path leaks.
 *
 * @example
 * const { code, message } = publicError(error); // { code: 'NOT_AN_IMAGE', message: '...' }
 */
export function publicError(error: unknown): { code: string; message: string } {
  if (error instanceof BloodcellError && ERROR_STATUS[error.code] !== undefined) {
    return { code: error.code, message: error.message };
  }
  return { code: 'INTERNAL', message: 'The server failed to handle this request; it has been logged.' };
}

/**
 * Answers with the JSON error body, the code's status, and Retry-After on 503.
 *
 * @example
 * return errorResponse(c, 'NO_IMAGE', 'Send at least one image.');
 */
export function errorResponse(c: Context, code: string, message: string): Response {
  const status = ERROR_STATUS[code] ?? 500;
  if (status === 503) c.header('Retry-After', String(RETRY_AFTER_SECONDS));
  c.header('Cache-Control', 'no-store');
  return c.json({ error: { code, message } }, status);
}
