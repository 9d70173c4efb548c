import { BloodcellError, OptionError } from '@bloodcell/core';

/** Why the queue turned a request away; the API maps both to 503 with Retry-After. */
export type QueueRefusal = 'OVERLOADED' | 'SHUTTING_DOWN';

/** Thrown by `InferenceQueue.admit` when the request cannot wait its turn. */
export class QueueRefusedError extends BloodcellError {
  declare readonly code: QueueRefusal;
}

export interface QueueLimits {
  /** Jobs running at once; inference is CPU-bound, so 1 by default. */
  maxConcurrent?: number;
  /** Admitted requests allowed to wait (reading their upload or queued for their turn). */
  maxWaiting?: number;
}

/** A place in the queue: the holder reads its upload, runs its job in turn, then releases. */
export interface Admission {
  /** Waits for a free slot (first come, first served), runs the job, frees the slot. */
  run<T>(job: () => Promise<T>): Promise<T>;
  /** Gives the place back; safe to call more than once, and required once the request ends. */
  release(): void;
}

/**
 * A bounded first-come-first-served queue in front of inference. Requests are admitted before
 * their upload is read, so memory is bounded by (maxConcurrent + maxWaiting) uploads, and a full
 * queue answers at once instead of growing.
 */
export class InferenceQueue {
  readonly maxConcurrent: number;
  readonly maxWaiting: number;
  private admitted = 0;
  private running = 0;
  private closed = false;
  private readonly turns: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(limits: QueueLimits = {}) {
    this.maxConcurrent = positiveInteger(limits.maxConcurrent ?? 1, 'maxConcurrent', 1);
    this.maxWaiting = positiveInteger(limits.maxWaiting ?? 8, 'maxWaiting', 0);
  }

  /** Requests admitted and not yet released (running, waiting, or reading their upload). */
  get size(): number {
    return this.admitted;
  }

  /**
   * Takes a place in the queue or throws QueueRefusedError (OVERLOADED when full, SHUTTING_DOWN
   * once closed).
   *
   * @example
   * const admission = queue.admit();
   * try {
   *   const images = await readUpload(request);
   *   return await admission.run(() => classifier.classifyBatch(images));
   * } finally {
   *   admission.release();
   * }
   */
  admit(): Admission {
    if (this.closed) {
      throw new QueueRefusedError('SHUTTING_DOWN', 'The server is shutting down; retry on another instance.');
    }
    if (this.admitted >= this.maxConcurrent + this.maxWaiting) {
      throw new QueueRefusedError(
        'OVERLOADED',
        `The server is busy (${this.admitted} requests queued, limit ${this.maxConcurrent + this.maxWaiting}); retry shortly.`,
      );
    }

    this.admitted += 1;
    let released = false;
    return {
      run: (job) => this.runInTurn(job),
      release: () => {
        if (released) return;
        released = true;
        this.admitted -= 1;
        if (this.admitted === 0) this.wakeIdleWaiters();
      },
    };
  }

  /**
   * Refuses new requests from now on; those already admitted still finish.
   *
   * @example
   * queue.close();
   * await queue.idle();
   */
  close(): void {
    this.closed = true;
  }

  /**
   * Resolves once every admitted request has been released.
   *
   * @example
   * await queue.idle(); // nothing in flight
   */
  idle(): Promise<void> {
    if (this.admitted === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async runInTurn<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      await new Promise<void>((resolve) => this.turns.push(resolve));
    } else {
      this.running += 1;
    }

    try {
      return await job();
    } finally {
      const next = this.turns.shift();
      // The slot passes straight to the next job, so `running` stays the same.
      if (next) next();
      else this.running -= 1;
    }
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((resolve) => resolve());
  }
}

function positiveInteger(value: number, name: string, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new OptionError('INVALID_QUEUE_LIMIT', `${name} must be an integer >= ${minimum}; got ${value}.`);
  }
  return value;
}
