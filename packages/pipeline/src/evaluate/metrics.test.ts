import { describe, expect, it } from 'vitest';

import { reliabilityBins, reviewSummary, scoreCard, sourcePhotoSummary, type Scored } from './metrics.js';

const scored = (
  label: number,
  top: number,
  p: number,
  sourcePhoto?: string,
  referForReview = false,
): Scored => {
  const probabilities = [0, 0, 0, 0].map((_, i) => (i === top ? p : (1 - p) / 3));
  return { label, probabilities, referForReview, ...(sourcePhoto ? { sourcePhoto } : {}) };
};

describe('evaluation metrics', () => {
  const images = [
    scored(0, 0, 0.95, 'A'),
    scored(0, 0, 0.9, 'A'),
    scored(0, 1, 0.6, 'A', true),
    scored(1, 1, 0.99, 'B'),
    scored(2, 3, 0.97, 'C'),
    scored(3, 3, 0.5, 'D', true),
  ];

  it('bins confidence for the reliability diagram', () => {
    const bins = reliabilityBins(
      images.map((s) => s.probabilities),
      images.map((s) => s.label),
      10,
    );
    expect(bins).toHaveLength(10);
    expect(bins[9]).toMatchObject({ images: 4, accuracy: 3 / 4 });
    expect(bins[9]!.confidence).toBeCloseTo((0.95 + 0.9 + 0.99 + 0.97) / 4);
    expect(bins[0]!.images).toBe(0);
    expect(bins[0]!.accuracy).toBeNaN();
  });

  it('measures referral at the review threshold', () => {
    const review = reviewSummary(images, 0.8);
    expect(review.referredShare).toBeCloseTo(2 / 6);
    expect(review.keptAccuracy).toBeCloseTo(3 / 4);
    expect(review.referredShareAnyReason).toBeCloseTo(2 / 6);
  });

  it('scores each source photo and the majority vote', () => {
    const photos = sourcePhotoSummary(images)!;
    expect(photos.photos).toBe(4);
    expect(photos.meanAccuracy).toBeCloseTo((2 / 3 + 1 + 0 + 1) / 4);
    expect(photos.majorityVoteAccuracy).toBeCloseTo(3 / 4);
    expect(photos.worst[0]).toEqual({ photo: 'C', cellType: 'MONOCYTE', images: 1, accuracy: 0 });
    expect(sourcePhotoSummary([scored(0, 0, 0.9)])).toBeNull();
  });

  it('puts calibration before and after temperature on one card', () => {
    const card = scoreCard(
      images,
      images.map((s) => s.probabilities.map((p) => p ** 2)),
      { temperature: 2, reviewThreshold: 0.8 },
    );
    expect(card.accuracy).toBeCloseTo(4 / 6);
    expect(card.confusionMatrix[2]![3]).toBe(1);
    expect(card.calibration.eceAfterTemperature).toBeGreaterThan(0);
    expect(card.calibration.eceBeforeTemperature).not.toBe(card.calibration.eceAfterTemperature);
  });
});
