import {
  CELL_TYPES,
  type CellType,
  type ClassificationReport,
  argmax,
  classificationReport,
  expectedCalibrationError,
} from '@bloodcell/core';

/** One equal-width confidence bin of a reliability diagram. */
export interface ReliabilityBin {
  low: number;
  high: number;
  images: number;
  /** Mean top probability in the bin (NaN when empty). */
  confidence: number;
  /** Share of the bin's images predicted correctly (NaN when empty). */
  accuracy: number;
}

/** What referring low-confidence images to a person does. */
export interface ReviewSummary {
  threshold: number;
  /** Share of images whose calibrated top probability is under the threshold. */
  referredShare: number;
  /** Accuracy on the images not referred. */
  keptAccuracy: number;
  /** The same, counting every review reason the classifier gives (also unlike-training, no cell). */
  referredShareAnyReason: number;
  keptAccuracyAnyReason: number;
}

/** Accuracy over the augmented images of each source photo. */
export interface SourcePhotoSummary {
  photos: number;
  /** Mean over photos of the share of its images predicted correctly. */
  meanAccuracy: number;
  /** Share of photos whose most frequent prediction is the true class. */
  majorityVoteAccuracy: number;
  /** The photos with the lowest accuracy, worst first. */
  worst: { photo: string; cellType: CellType; images: number; accuracy: number }[];
}

/** One classified image, as the metrics need it. */
export interface Scored {
  label: number;
  /** Calibrated probabilities in CELL_TYPES order. */
  probabilities: number[];
  /** The classifier's verdict counting every review reason. */
  referForReview: boolean;
  sourcePhoto?: string;
}

/**
 * Bins top probabilities into `bins` equal-width bins with their mean confidence and accuracy.
 *
 * @example
 * reliabilityBins([[0.9, 0.1]], [0], 10)[9]; // { low: 0.9, high: 1, images: 1, confidence: 0.9, accuracy: 1 }
 */
export function reliabilityBins(
  probabilities: readonly (readonly number[])[],
  labels: readonly number[],
  bins = 15,
): ReliabilityBin[] {
  const result = Array.from({ length: bins }, (_, b) => ({
    low: b / bins,
    high: (b + 1) / bins,
    images: 0,
    sum: 0,
    correct: 0,
  }));
  probabilities.forEach((row, i) => {
    const top = argmax(row);
    const bin = result[Math.min(bins - 1, Math.floor(row[top]! * bins))]!;
    bin.images += 1;
    bin.sum += row[top]!;
    bin.correct += top === labels[i] ? 1 : 0;
  });
  return result.map(({ low, high, images, sum, correct }) => ({
    low,
    high,
    images,
    confidence: images === 0 ? Number.NaN : sum / images,
    accuracy: images === 0 ? Number.NaN : correct / images,
  }));
}

/**
 * Referral share and kept accuracy at the bundle's review threshold.
 *
 * @example
 * reviewSummary(scored, 0.7); // { threshold: 0.7, referredShare: 0.12, keptAccuracy: 0.96, … }
 */
export function reviewSummary(scored: readonly Scored[], threshold: number): ReviewSummary {
  const correct = (s: Scored) => argmax(s.probabilities) === s.label;
  const share = (kept: Scored[]) => (scored.length === 0 ? Number.NaN : 1 - kept.length / scored.length);
  const accuracyOf = (kept: Scored[]) =>
    kept.length === 0 ? Number.NaN : kept.filter(correct).length / kept.length;
  const kept = scored.filter((s) => Math.max(...s.probabilities) >= threshold);
  const keptAny = scored.filter((s) => !s.referForReview);
  return {
    threshold,
    referredShare: share(kept),
    keptAccuracy: accuracyOf(kept),
    referredShareAnyReason: share(keptAny),
    keptAccuracyAnyReason: accuracyOf(keptAny),
  };
}

/**
 * Accuracy per source photo (images augmented from one photo share it); null when no image has one.
 *
 * @example
 * sourcePhotoSummary(scored)?.majorityVoteAccuracy;
 */
export function sourcePhotoSummary(scored: readonly Scored[], worst = 10): SourcePhotoSummary | null {
  const byPhoto = new Map<string, Scored[]>();
  for (const s of scored)
    if (s.sourcePhoto) byPhoto.set(s.sourcePhoto, [...(byPhoto.get(s.sourcePhoto) ?? []), s]);
  if (byPhoto.size === 0) return null;

  const photos = [...byPhoto.entries()].map(([photo, images]) => {
    const votes = new Array<number>(CELL_TYPES.length).fill(0);
    const labels = new Array<number>(CELL_TYPES.length).fill(0);
    for (const image of images) {
      votes[argmax(image.probabilities)]! += 1;
      labels[image.label]! += 1;
    }
    const truth = argmax(labels);
    return {
      photo,
      cellType: CELL_TYPES[truth]!,
      images: images.length,
      accuracy:
        images.filter((image) => argmax(image.probabilities) === image.label).length / images.length,
      majorityRight: argmax(votes) === truth,
    };
  });
  return {
    photos: photos.length,
    meanAccuracy: photos.reduce((total, p) => total + p.accuracy, 0) / photos.length,
    majorityVoteAccuracy: photos.filter((p) => p.majorityRight).length / photos.length,
    worst: [...photos]
      .sort((a, b) => a.accuracy - b.accuracy || b.images - a.images || (a.photo < b.photo ? -1 : 1))
      .slice(0, worst)
      .map(({ majorityRight: _m, ...photo }) => photo),
  };
}

/** The headline metrics with calibration before and after temperature. */
export interface ScoreCard extends ClassificationReport {
  calibration: {
    temperature: number;
    eceBeforeTemperature: number;
    eceAfterTemperature: number;
    reliabilityBefore: ReliabilityBin[];
    reliabilityAfter: ReliabilityBin[];
  };
  review: ReviewSummary;
  sourcePhotos: SourcePhotoSummary | null;
}

/**
 * Every figure of an evaluation from calibrated and uncalibrated probabilities.
 *
 * @example
 * const card = scoreCard(scored, raw, { temperature: 1.4, reviewThreshold: 0.7 });
 */
export function scoreCard(
  scored: readonly Scored[],
  uncalibrated: readonly (readonly number[])[],
  calibration: { temperature: number; reviewThreshold: number },
): ScoreCard {
  const labels = scored.map((s) => s.label);
  const calibrated = scored.map((s) => s.probabilities);
  return {
    ...classificationReport(calibrated, labels),
    calibration: {
      temperature: calibration.temperature,
      eceBeforeTemperature: expectedCalibrationError(uncalibrated, labels),
      eceAfterTemperature: expectedCalibrationError(calibrated, labels),
      reliabilityBefore: reliabilityBins(uncalibrated, labels),
      reliabilityAfter: reliabilityBins(calibrated, labels),
    },
    review: reviewSummary(scored, calibration.reviewThreshold),
    sourcePhotos: sourcePhotoSummary(scored),
  };
}
