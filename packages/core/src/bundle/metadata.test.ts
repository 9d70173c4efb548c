import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { tinyMetadata } from '../../../../test-support/tiny-bundle.js';
import { VERSION } from '../version.js';
import { parseBundleMetadata } from './metadata.js';

describe('parseBundleMetadata', () => {
  it('accepts metadata written by this version', () => {
    expect(parseBundleMetadata(tinyMetadata()).backbone.name).toBe('mobilenet_v2');
  });

  it('names the field that is wrong', () => {
    const good = tinyMetadata();
    expect(() => parseBundleMetadata({ ...good, backbone: { ...good.backbone, name: 'resnet' } })).toThrow(/backbone.name must be one of mobilenet_v2, vgg16/);
    expect(() => parseBundleMetadata({ ...good, preprocessing: { ...good.preprocessing, scaling: 'caffe' } })).toThrow(/does not match backbone/);
    expect(() => parseBundleMetadata({ ...good, preprocessing: { ...good.preprocessing, fit: 'pad' } })).toThrow(/preprocessing.fit/);
    expect(() => parseBundleMetadata({ ...good, calibration: { temperature: 1, reviewThreshold: 2 } })).toThrow(/reviewThreshold/);
    expect(() => parseBundleMetadata({ ...good, outlier: { means: [[1]], spread: [1], threshold: 1, quantile: 0.99 } })).toThrow(/outlier must hold 4 means/);
  });

  it('refuses a newer format with a message saying what to do', () => {
    expect(() => parseBundleMetadata({ ...tinyMetadata(), formatVersion: 2 })).toThrow(/Upgrade @bloodcell\/core or retrain/);
  });

  it('keeps VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
