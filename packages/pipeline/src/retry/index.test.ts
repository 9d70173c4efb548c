import { describe, expect, it } from 'vitest';

import { RetryExhaustedError, isTransientError, withRetry } from './index.js';

const slowDown = () => Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' });

describe('withRetry', () => {
  it('retries transient errors and returns the first success', async () => {
    const delays: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        if (attempt < 3) throw slowDown();
        return attempt;
      },
      {
        attempts: 5,
        baseDelayMs: 1,
        isRetryable: isTransientError,
        what: 'x',
        onRetry: (_e, _a, d) => delays.push(d),
      },
    );
    expect(result).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('gives up after the last attempt with what, how often and the last error', async () => {
    let calls = 0;
    const failing = withRetry(
      async () => {
        calls += 1;
        throw slowDown();
      },
      {
        attempts: 3,
        baseDelayMs: 1,
        isRetryable: isTransientError,
        what: 'GetObject s3://b/k',
        hint: 'Check it',
      },
    );
    await expect(failing).rejects.toThrow(
      /^GetObject s3:\/\/b\/k failed after 3 attempts over [\d.]+s: SlowDown: Please reduce your request rate\. Check it$/,
    );
    await expect(failing).rejects.toBeInstanceOf(RetryExhaustedError);
    expect(calls).toBe(3);
  });

  it('fails at once on errors that no retry can fix', async () => {
    let calls = 0;
    const denied = Object.assign(new Error('Access Denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    await expect(
      withRetry(
        async () => {
          calls += 1;
          throw denied;
        },
        { attempts: 5, baseDelayMs: 1, isRetryable: isTransientError, what: 'ListObjectsV2 s3://b/' },
      ),
    ).rejects.toThrow('ListObjectsV2 s3://b/ failed: AccessDenied: Access Denied');
    expect(calls).toBe(1);
  });
});

describe('isTransientError', () => {
  it('knows throttling, 5xx, timeouts and dropped connections', () => {
    expect(isTransientError(Object.assign(new Error(''), { $metadata: { httpStatusCode: 503 } }))).toBe(
      true,
    );
    expect(isTransientError(Object.assign(new Error(''), { name: 'TimeoutError' }))).toBe(true);
    expect(
      isTransientError(
        new TypeError('fetch failed', { cause: Object.assign(new Error(''), { code: 'ECONNRESET' }) }),
      ),
    ).toBe(true);
    expect(
      isTransientError(
        Object.assign(new Error(''), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }),
      ),
    ).toBe(false);
  });
});
