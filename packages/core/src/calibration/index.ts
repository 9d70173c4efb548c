/** Confidence calibration: temperature scaling and the review threshold a bundle carries. */
export interface Calibration {
  /** Logits are divided by this before softmax; 1 leaves the probabilities as the head gives them. */
  temperature: number;
  /** Below this top probability a result is flagged "refer for review". */
  reviewThreshold: number;
}

export const UNCALIBRATED: Calibration = { temperature: 1, reviewThreshold: 0.5 };

/**
 * Rescales softmax probabilities by a temperature: softmax(log(p) / T). T > 1 softens overconfident
 * outputs; log(p) equals the logits up to a constant, which softmax ignores.
 *
 * @example
 * applyTemperature([0.9, 0.1], 2); // [0.75, 0.25]
 */
export function applyTemperature(probabilities: readonly number[], temperature: number): number[] {
  if (temperature === 1) return [...probabilities];
  const logits = probabilities.map((p) => Math.log(Math.max(p, 1e-12)) / temperature);
  const top = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/**
 * Mean negative log-likelihood of the true labels.
 *
 * @example
 * negativeLogLikelihood([[0.5, 0.5]], [0]); // 0.693…
 */
export function negativeLogLikelihood(
  probabilities: readonly (readonly number[])[],
  labels: readonly number[],
): number {
  let total = 0;
  probabilities.forEach((row, i) => {
    total -= Math.log(Math.max(row[labels[i]!]!, 1e-12));
  });
  return total / probabilities.length;
}

/**
 * Finds the temperature that minimises validation NLL (golden-section search on log T in
 * [0.05, 20]); the loss is unimodal in T, so a 1-D search is exact enough and has no tuning.
 *
 * @example
 * const temperature = fitTemperature(validationProbabilities, validationLabels);
 */
export function fitTemperature(
  probabilities: readonly (readonly number[])[],
  labels: readonly number[],
): number {
  const loss = (logT: number) =>
    negativeLogLikelihood(
      probabilities.map((row) => applyTemperature(row, Math.exp(logT))),
      labels,
    );

  let low = Math.log(0.05);
  let high = Math.log(20);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = high - ratio * (high - low);
  let b = low + ratio * (high - low);
  let lossA = loss(a);
  let lossB = loss(b);
  for (let step = 0; step < 60; step++) {
    if (lossA < lossB) {
      high = b;
      b = a;
      lossB = lossA;
      a = high - ratio * (high - low);
      lossA = loss(a);
    } else {
      low = a;
      a = b;
      lossA = lossB;
      b = low + ratio * (high - low);
      lossB = loss(b);
    }
  }
  return Math.exp((low + high) / 2);
}

/**
 * The lowest top-probability threshold at which the images kept (not referred) reach
 * `targetAccuracy` on validation without referring more than `maxReferred` of them; when none
 * does, the threshold that refers exactly up to that cap (a tool that sends most cells back to a
 * person helps no one). Returns the threshold and what it does on validation.
 *
 * @example
 * chooseReviewThreshold(validationProbabilities, validationLabels);
 * // { reviewThreshold: 0.71, referredShare: 0.18, keptAccuracy: 0.9 }
 */
export function chooseReviewThreshold(
  probabilities: readonly (readonly number[])[],
  labels: readonly number[],
  targetAccuracy = 0.9,
  maxReferred = 0.5,
): { reviewThreshold: number; referredShare: number; keptAccuracy: number } {
  const scored = probabilities.map((row, i) => {
    const top = row.indexOf(Math.max(...row));
    return { confidence: row[top]!, correct: top === labels[i] };
  });

  const candidates = [];
  for (let step = 0; step <= 95; step++) {
    const threshold = 0.25 + step * 0.0075;
    const kept = scored.filter((s) => s.confidence >= threshold);
    if (kept.length === 0) break;
    const keptAccuracy = kept.filter((s) => s.correct).length / kept.length;
    candidates.push({ reviewThreshold: threshold, referredShare: 1 - kept.length / scored.length, keptAccuracy });
  }

  const allowed = candidates.filter((c) => c.referredShare <= maxReferred);
  return allowed.find((c) => c.keptAccuracy >= targetAccuracy) ?? allowed.at(-1) ?? candidates[0]!;
}
