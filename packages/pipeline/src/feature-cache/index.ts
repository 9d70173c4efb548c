import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { writeFileAtomic } from '@bloodcell/node';

/**
 * Backbone features on disk, one file per image, addressed by the image's sha256 and by an
 * extractor id that changes whenever the base weights or the preprocessing change. A file is
 * written atomically, so an interrupted extraction resumes where it stopped.
 */
export class FeatureCache {
  readonly dir: string;

  constructor(readonly root: string, readonly extractorId: string, readonly featureLength: number) {
    this.dir = join(root, extractorId);
  }

  /**
   * The cache of one training view of the same crops (a sibling folder with its own id).
   *
   * @example
   * const mirrored = cache.forView(cropView('mirror'));
   */
  forView(view: object): FeatureCache {
    return new FeatureCache(this.root, extractorId({ parent: this.extractorId, view }), this.featureLength);
  }

  /**
   * The cache of the same features pooled to their channel means (a sibling folder of its own).
   *
   * @example
   * const means = cache.pooled(1280);
   */
  pooled(channels: number): FeatureCache {
    return new FeatureCache(this.root, extractorId({ parent: this.extractorId, pooled: true }), channels);
  }

  /**
   * Cached features of an image, or undefined when absent or of the wrong length.
   *
   * @example
   * const features = await cache.get(imageSha256);
   */
  async get(imageSha256: string): Promise<Float32Array | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(imageSha256));
    } catch {
      return undefined;
    }
    if (bytes.byteLength !== this.featureLength * 4) return undefined;
    const copy = new Float32Array(this.featureLength);
    new Uint8Array(copy.buffer).set(bytes);
    return copy;
  }

  /**
   * Stores an image's features.
   *
   * @example
   * await cache.put(imageSha256, features);
   */
  async put(imageSha256: string, features: Float32Array): Promise<void> {
    if (features.length !== this.featureLength) {
      throw new RangeError(`expected ${this.featureLength} features, got ${features.length}`);
    }
    await writeFileAtomic(this.pathOf(imageSha256), new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
  }

  private pathOf(imageSha256: string): string {
    return join(this.dir, imageSha256.slice(0, 2), `${imageSha256}.f32`);
  }
}

/**
 * A short id for "these base weights with this preprocessing": the cache folder's name.
 *
 * @example
 * extractorId({ backbone: MOBILENET_V2_SPEC, preprocessing, weightsSha256 });
 */
export function extractorId(description: object): string {
  return sha256(JSON.stringify(description)).slice(0, 16);
}

/**
 * Hex sha256 of bytes or text.
 *
 * @example
 * sha256('abc'); // 'ba7816bf…'
 */
export function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}
