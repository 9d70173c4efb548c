import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import { RESTARTS_PER_WORKER, WorkerRestarts, watchStop } from './index.js';

/** Stand-ins for threads: only `terminate` is called on them. */
function fakeThreads() {
  const started: { terminated: boolean }[] = [];
  const spawn = () => {
    const thread = { terminated: false, terminate: async () => void (thread.terminated = true) };
    started.push(thread);
    return thread as unknown as Worker;
  };
  return { started, spawn };
}

describe('WorkerRestarts', () => {
  it('gives loaded threads until the restarts are spent, then undefined', async () => {
    const { started, spawn } = fakeThreads();
    const restarts = new WorkerRestarts(2, spawn, async () => {});
    const given = [];
    for (let i = 0; i < 2 * RESTARTS_PER_WORKER + 2; i++) given.push(await restarts.replace());
    expect(given.filter(Boolean)).toHaveLength(2 * RESTARTS_PER_WORKER);
    expect(given.slice(-2)).toEqual([undefined, undefined]);
    expect(started).toHaveLength(2 * RESTARTS_PER_WORKER);
  });

  it('stops a thread that fails to load, and says when one is still loading', async () => {
    const { started, spawn } = fakeThreads();
    let fail = () => {};
    const restarts = new WorkerRestarts(1, spawn, () => new Promise((_, reject) => (fail = () => reject(new Error('no bundle')))));
    const replacing = restarts.replace();
    expect(restarts.replacing).toBe(true);
    fail();
    expect(await replacing).toBeUndefined();
    expect(restarts.replacing).toBe(false);
    expect(started[0]!.terminated).toBe(true);
  });

  it('reports a stop once, with the error that caused it, else the exit code', async () => {
    const stopped = (code: string) =>
      new Promise<string[]>((resolve) => {
        const whys: string[] = [];
        const thread = new Worker(code, { eval: true });
        watchStop(thread, (why) => whys.push(why));
        thread.once('exit', () => setImmediate(() => resolve(whys)));
      });
    expect(await stopped('throw new Error("the bundle is gone")')).toEqual(['the bundle is gone']);
    expect(await stopped('process.exit(3)')).toEqual(['it exited with code 3']);
  });
});
