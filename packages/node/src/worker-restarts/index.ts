import type { Worker } from 'node:worker_threads';

/** Replacement workers a pool starts over its life, per worker it began with: no crash loops. */
export const RESTARTS_PER_WORKER = 3;

/**
 * Calls `onStop` once when a worker thread stops, however it stops: every stop ends in 'exit' (a
 * crash, running out of memory, process.exit in the worker), and an 'error' before it says why.
 *
 * @example
 * watchStop(worker.thread, (why) => pool.lost(worker, why));
 */
export function watchStop(thread: Worker, onStop: (why: string) => void): void {
  let failure: string | undefined;
  thread.on('error', (error) => (failure = error.message));
  thread.on('exit', (code) => onStop(failure ?? `it exited with code ${code}`));
}

/**
 * Starts replacements for the stopped worker threads of a pool, a bounded number of times, so a
 * worker that keeps crashing on start-up cannot loop for ever.
 */
export class WorkerRestarts {
  private left: number;
  private pending = 0;

  /**
   * @param workers threads the pool began with.
   * @param spawn starts one thread as the pool's first ones were.
   * @param ready resolves once a new thread has loaded, rejects when it cannot.
   */
  constructor(
    workers: number,
    private readonly spawn: () => Worker,
    private readonly ready: (thread: Worker) => Promise<unknown>,
  ) {
    this.left = RESTARTS_PER_WORKER * workers;
  }

  /** Whether a replacement is still loading. */
  get replacing(): boolean {
    return this.pending > 0;
  }

  /**
   * A new, loaded thread; undefined when the restarts are spent or the new thread failed to load.
   *
   * @example
   * const thread = await restarts.replace();
   * if (thread) pool.adopt(thread);
   */
  async replace(): Promise<Worker | undefined> {
    if (this.left === 0) return undefined;
    this.left -= 1;
    this.pending += 1;
    const thread = this.spawn();
    const loaded = await this.ready(thread).then(
      () => true,
      () => false,
    );
    this.pending -= 1;
    if (loaded) return thread;
    await thread.terminate();
    return undefined;
  }
}
