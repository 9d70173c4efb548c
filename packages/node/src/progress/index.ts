/** Something that can be told how far a long job has got. */
export interface Progress {
  tick(count?: number): void;
  done(summary?: string): void;
}

export interface ProgressOptions {
  /** Where the bar goes; stderr so that stdout stays machine-readable. */
  stream?: NodeJS.WriteStream;
  /**
   * Force the bar on or off. By default it draws on a terminal; elsewhere (a log file, CI) long jobs
   * of at least 1,000 items print a plain line every 10% instead, so a log shows the run is alive.
   */
  enabled?: boolean;
}

/**
 * A one-line progress bar on stderr, with rate and time left, redrawn at most 10 times a second.
 * Off a terminal it prints nothing until `done`, whose summary is always printed when given.
 *
 * @example
 * const progress = progressBar('features', files.length);
 * for (const file of files) { await work(file); progress.tick(); }
 * progress.done('9957 images in 4m12s');
 */
export function progressBar(label: string, total: number, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? Boolean(stream.isTTY);
  const milestones = options.enabled === undefined && !stream.isTTY && total >= 1000;
  const started = Date.now();
  let count = 0;
  let lastDraw = 0;
  let lastTenth = 0;

  const draw = () => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = count / Math.max(elapsed, 1e-3);
    const share = total > 0 ? Math.min(1, count / total) : 1;
    const width = 24;
    const filled = Math.round(share * width);
    const left = rate > 0 ? (total - count) / rate : 0;
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    stream.write(
      `\r${label} [${bar}] ${count}/${total} ${rate.toFixed(1)}/s ${formatSeconds(left)} left `,
    );
  };

  return {
    tick(step = 1) {
      count += step;
      const tenth = Math.floor((10 * count) / total);
      if (milestones && tenth > lastTenth && count < total) {
        lastTenth = tenth;
        const elapsed = (Date.now() - started) / 1000;
        stream.write(`${label}: ${count}/${total} (${tenth * 10}%), ${formatSeconds(elapsed)} so far, ${formatSeconds((elapsed / count) * (total - count))} left\n`);
      }
      if (!enabled) return;
      const now = Date.now();
      if (now - lastDraw >= 100 || count >= total) {
        lastDraw = now;
        draw();
      }
    },
    done(summary) {
      if (enabled) stream.write('\r\x1b[2K');
      if (summary) stream.write(`${label}: ${summary}\n`);
    },
  };
}

/**
 * Seconds as a short human duration.
 *
 * @example
 * formatSeconds(252); // '4m12s'
 */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}
