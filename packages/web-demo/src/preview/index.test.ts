import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { previewPng } from './index.js';

describe('previewPng', () => {
  it('turns a TIFF into a PNG no larger than maxSide, keeping the aspect ratio', async () => {
    const tiff = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#c080a0' } }).tiff().toBuffer();
    const png = await previewPng(tiff, { maxSide: 100 });
    const meta = await sharp(png).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 100, height: 75 });
  });

  it('refuses what is not an image with the decoder’s code', async () => {
    await expect(previewPng(new TextEncoder().encode('hello'))).rejects.toMatchObject({ code: 'NOT_AN_IMAGE' });
  });
});
