import { BloodcellError } from '@bloodcell/core';

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** Wait before the second try; doubles each time, with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Whether an error is worth another try (throttling, timeouts, 5xx); others fail at once. */
  isRetryable: (error: unknown) => boolean;
  /** What was being done, for the final message, e.g. `GetObject s3://cells/x.jpeg`. */
  what: string;
  /** Advice appended to the final message. */
  hint?: string;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Work that failed for good: a non-retryable error, or every attempt used up. */
export class RetryExhaustedError extends BloodcellError {}

/**
 * Runs `work` until it succeeds, retrying retryable errors with exponential backoff and full
 * jitter (so many clients do not retry in step), then fails with a message that says what was
 * tried, how often, and the last error.
 *
 * @example
 * const body = await withRetry(() => s3.send(command), {
 *   attempts: 5, isRetryable: isTransientS3Error, what: 'GetObject s3://cells/x.jpeg',
 * });
 */
export async function withRetry<T>(
  work: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 20_000;
  const started = Date.now();

  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      const retryable = options.isRetryable(error);
      if (!retryable || attempt >= options.attempts) {
        const tries = retryable
          ? ` after ${attempt} attempts over ${((Date.now() - started) / 1000).toFixed(1)}s`
          : '';
        throw new RetryExhaustedError(
          retryable ? 'RETRIES_EXHAUSTED' : 'REQUEST_FAILED',
          `${options.what} failed${tries}: ${describeError(error).replace(/\.$/, '')}` +
            (options.hint ? `. ${options.hint}` : ''),
          { cause: error },
        );
      }
      const delay = Math.random() * Math.min(max, base * 2 ** (attempt - 1));
      options.onRetry?.(error, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * A one-line account of an error: its name or code and message.
 *
 * @example
 * describeError(Object.assign(new Error('slow down'), { name: 'SlowDown' })); // 'SlowDown: slow down'
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const label = error.name !== 'Error' ? error.name : (code ?? 'Error');
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const message = error.message || (status ? `HTTP ${status}` : 'no message');
  return `${label}: ${message}`;
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);
const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'InternalError',
  'ServiceUnavailable',
  'AbortError',
]);

/**
 * Whether an error from S3 or an HTTP download is worth retrying: throttling, timeouts, 5xx and
 * 429 answers, and dropped or refused connections (also when wrapped as a fetch error's cause).
 *
 * @example
 * isTransientError(Object.assign(new Error(''), { name: 'SlowDown' })); // true
 */
export function isTransientError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const details = error as Error & {
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    status?: number;
  };
  if (details.$retryable) return true;
  const status = details.$metadata?.httpStatusCode ?? details.status;
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  if (TRANSIENT_NAMES.has(error.name) || (details.code && TRANSIENT_CODES.has(details.code))) return true;
  return error.cause !== undefined && error.cause !== error && isTransientError(error.cause);
}
