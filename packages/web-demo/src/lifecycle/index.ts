import type { Classifier, PixelImage } from '@bloodcell/core';

/** What the readiness probe reports. */
export type LifecycleState = 'starting' | 'ready' | 'failed' | 'draining';

/** The part of a Classifier the web demo uses; tests may pass a stand-in. */
export type CellClassifier = Pick<Classifier, 'metadata' | 'classifyBatch'>;

/**
 * Whether the server should get traffic: ready only after the model answered once, and never again
 * once shutdown has begun.
 */
export class Lifecycle {
  private current: LifecycleState = 'starting';
  private failure: string | undefined;

  get state(): LifecycleState {
    return this.current;
  }

  /** Why the warm-up failed, for the readiness answer and the log. */
  get failureReason(): string | undefined {
    return this.failure;
  }

  /**
   * Marks the model warmed up, unless shutdown has already begun.
   *
   * @example
   * await warmUp(classifier);
   * lifecycle.markReady();
   */
  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  /**
   * Records that the warm-up failed; the server stays unready.
   *
   * @example
   * warmUp(classifier).catch((error) => lifecycle.markFailed(error));
   */
  markFailed(error: unknown): void {
    if (this.current === 'draining') return;
    this.current = 'failed';
    this.failure = error instanceof Error ? error.message : String(error);
  }

  /**
   * Stops reporting ready, so a load balancer sends no new work while in-flight requests finish.
   *
   * @example
   * process.once('SIGTERM', () => lifecycle.startDraining());
   */
  startDraining(): void {
    this.current = 'draining';
  }
}

/**
 * A synthetic smear field: pale pink background with one purple, nucleus-like disc. Classifying it
 * once loads the backend's kernels, so the first real request is not the slow one.
 *
 * @example
 * await classifier.classify(syntheticSmear());
 */
export function syntheticSmear(width = 96, height = 72): PixelImage {
  const data = new Uint8Array(width * height * 3);
  const [cx, cy, radius] = [width / 2, height / 2, Math.min(width, height) / 4];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < radius ** 2;
      data.set(inside ? [110, 60, 150] : [235, 200, 205], (y * width + x) * 3);
    }
  }
  return { data, width, height, channels: 3 };
}

/**
 * Runs one classification of a synthetic image and checks the answer is well-formed.
 *
 * @example
 * await warmUp(classifier);
 */
export async function warmUp(classifier: CellClassifier): Promise<void> {
  const [result] = await classifier.classifyBatch([syntheticSmear()]);
  const total = result ? Object.values(result.probabilities).reduce((a, b) => a + b, 0) : NaN;
  if (!(Math.abs(total - 1) < 1e-3)) {
    throw new Error(`the warm-up classification returned probabilities summing to ${total}, not 1`);
  }
}
