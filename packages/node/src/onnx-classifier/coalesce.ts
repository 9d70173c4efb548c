/** What one forward pass returns for its images, row after row. */
export interface ForwardRows {
  probabilities: Float32Array;
  pooled: Float32Array;
}

interface Job {
  input: Float32Array;
  count: number;
  resolve: (rows: ForwardRows) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs forward passes one at a time, merging the batches that queued meanwhile into one pass: a
 * server answering single-image requests gets the per-image speed of larger batches.
 */
export class BatchCoalescer {
  private readonly waiting: Job[] = [];
  private busy = false;

  /**
   * @param forward runs `count` images laid end to end in `input`.
   * @param maxImages most images merged into one pass.
   */
  constructor(
    private readonly forward: (input: Float32Array, count: number) => Promise<ForwardRows>,
    private readonly maxImages: number,
  ) {}

  /**
   * Queues `count` images; resolves with their rows once the pass that took them ends.
   *
   * @example
   * const { probabilities, pooled } = await coalescer.submit(input, 8);
   */
  submit(input: Float32Array, count: number): Promise<ForwardRows> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, count, resolve, reject });
      if (this.busy) return;
      this.busy = true;
      // Started after the current microtasks, so batches submitted together share the first pass.
      queueMicrotask(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const jobs = [this.waiting.shift()!];
      let total = jobs[0]!.count;
      while (this.waiting.length > 0 && total + this.waiting[0]!.count <= this.maxImages) {
        total += this.waiting[0]!.count;
        jobs.push(this.waiting.shift()!);
      }

      try {
        const rows = await this.forward(joined(jobs.map((job) => job.input)), total);
        const classes = rows.probabilities.length / total;
        const width = rows.pooled.length / total;
        let first = 0;
        for (const job of jobs) {
          job.resolve({
            probabilities: rows.probabilities.subarray(first * classes, (first + job.count) * classes),
            pooled: rows.pooled.subarray(first * width, (first + job.count) * width),
          });
          first += job.count;
        }
      } catch (error) {
        for (const job of jobs) job.reject(error);
      }
    }
    this.busy = false;
  }
}

function joined(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const all = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}
