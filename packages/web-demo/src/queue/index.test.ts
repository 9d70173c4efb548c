import { describe, expect, it } from 'vitest';

import { InferenceQueue, QueueRefusedError } from './index.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('InferenceQueue', () => {
  it('runs one job at a time, first come first served', async () => {
    const queue = new InferenceQueue({ maxConcurrent: 1, maxWaiting: 2 });
    const order: string[] = [];
    const gate = deferred();
    const jobs = ['a', 'b', 'c'].map((name) => {
      const admission = queue.admit();
      return admission
        .run(async () => {
          order.push(`start ${name}`);
          if (name === 'a') await gate.promise;
          order.push(`end ${name}`);
        })
        .finally(() => admission.release());
    });
    await Promise.resolve();
    expect(order).toEqual(['start a']);
    gate.resolve();
    await Promise.all(jobs);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('refuses with OVERLOADED beyond maxConcurrent + maxWaiting, and admits again once released', () => {
    const queue = new InferenceQueue({ maxConcurrent: 1, maxWaiting: 1 });
    const first = queue.admit();
    queue.admit();
    expect(() => queue.admit()).toThrowError(expect.objectContaining({ code: 'OVERLOADED' }));
    first.release();
    first.release();
    expect(queue.size).toBe(1);
    expect(() => queue.admit()).not.toThrow();
  });

  it('refuses with SHUTTING_DOWN once closed, and idle() waits for admitted requests', async () => {
    const queue = new InferenceQueue();
    const admission = queue.admit();
    queue.close();
    expect(() => queue.admit()).toThrow(QueueRefusedError);
    let idle = false;
    const waiting = queue.idle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    admission.release();
    await waiting;
    expect(idle).toBe(true);
  });

  it('frees the slot when a job throws', async () => {
    const queue = new InferenceQueue({ maxWaiting: 0 });
    const admission = queue.admit();
    await expect(admission.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    admission.release();
    const next = queue.admit();
    await expect(next.run(async () => 42)).resolves.toBe(42);
  });

  it('rejects limits that are not integers', () => {
    expect(() => new InferenceQueue({ maxConcurrent: 0 })).toThrow(/maxConcurrent/);
    expect(() => new InferenceQueue({ maxWaiting: 1.5 })).toThrow(/maxWaiting/);
  });
});
