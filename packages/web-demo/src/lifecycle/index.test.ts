import { describe, expect, it } from 'vitest';

import { fakeClassifier } from '../../test/fake-classifier.js';
import { Lifecycle, syntheticSmear, warmUp } from './index.js';

describe('Lifecycle', () => {
  it('becomes ready once, and draining wins over everything after it', () => {
    const lifecycle = new Lifecycle();
    expect(lifecycle.state).toBe('starting');
    lifecycle.markReady();
    expect(lifecycle.state).toBe('ready');
    lifecycle.startDraining();
    lifecycle.markReady();
    lifecycle.markFailed(new Error('late'));
    expect(lifecycle.state).toBe('draining');
  });

  it('keeps the reason a warm-up failed', () => {
    const lifecycle = new Lifecycle();
    lifecycle.markFailed(new Error('no kernels'));
    expect(lifecycle.state).toBe('failed');
    expect(lifecycle.failureReason).toBe('no kernels');
  });
});

describe('warmUp', () => {
  it('classifies a synthetic smear once', async () => {
    const classifier = fakeClassifier();
    await warmUp(classifier);
    expect(classifier.calls).toBe(1);
    expect(syntheticSmear(10, 8).data.length).toBe(10 * 8 * 3);
  });

  it('fails when the answer is not a probability distribution', async () => {
    await expect(warmUp(fakeClassifier({ probabilities: [0, 0, 0, 0] }))).rejects.toThrow(/summing to 0/);
  });
});
