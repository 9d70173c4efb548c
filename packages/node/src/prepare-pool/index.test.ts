import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { FeatureExtractor } from '@bloodcell/core';
import { describe, expect, it } from 'vitest';

import { syntheticSmear, tinyMetadata } from '../../../../test-support/tiny-bundle.js';
import { writeBackboneInput } from '../onnx-classifier/prepare.js';
import { PreparePool } from './index.js';

const metadata = tinyMetadata('cell-crop');
const size = metadata.backbone.inputSize;

/** What OnnxClassifier writes on its own thread for the same images. */
async function preparedHere(images: ReturnType<typeof syntheticSmear>[]) {
  const extractor = new FeatureExtractor(null as never, metadata.backbone, metadata.preprocessing);
  const regions = await Promise.all(images.map((image) => extractor.locate(image)));
  const input = new Float32Array(images.length * size * size * 3);
  images.forEach((image, i) => {
    writeBackboneInput({ ...image, channels: 3 }, regions[i]!.box, size, metadata.backbone.scaling, input, i * size * size * 3);
  });
  return { input, regions };
}

describe('PreparePool', () => {
  it('locates and crops exactly as this thread does, whichever worker takes a batch', async () => {
    const batches = [[syntheticSmear(64, 48)], [syntheticSmear(48, 64), syntheticSmear(80, 60)], [syntheticSmear(40, 40)]];
    const pool = await PreparePool.start(metadata, 2);
    try {
      expect(pool.size).toBe(2);
      const prepared = await Promise.all(batches.map((images) => pool.prepare(images)));
      for (const [i, images] of batches.entries()) {
        const expected = await preparedHere(images);
        expect(prepared[i]!.regions).toEqual(expected.regions);
        expect(prepared[i]!.input).toEqual(expected.input);
      }
      // The caller keeps its pixels: they are copied to the worker, not moved.
      expect(batches[0]![0]!.data.byteLength).toBe(64 * 48 * 3);
    } finally {
      await pool.close();
    }
  });

  it('sends batches that queued meanwhile to the next free worker together, each getting its own rows', async () => {
    const batches = [[syntheticSmear(64, 48)], [syntheticSmear(48, 64)], [syntheticSmear(80, 60), syntheticSmear(40, 40)]];
    const pool = await PreparePool.start(metadata, 1, 3);
    try {
      const prepared = await Promise.all(batches.map((images) => pool.prepare(images)));
      // The first went alone; the next two queued behind it and travelled in one message.
      expect(prepared[1]!.input.buffer).toBe(prepared[2]!.input.buffer);
      expect(prepared[0]!.input.buffer).not.toBe(prepared[1]!.input.buffer);
      for (const [i, images] of batches.entries()) {
        const expected = await preparedHere(images);
        expect(prepared[i]!.regions).toEqual(expected.regions);
        expect(prepared[i]!.input).toEqual(expected.input);
      }
    } finally {
      await pool.close();
    }
  });

  it('rebuilds a bad image as the same ImageInputError, then goes on', async () => {
    const pool = await PreparePool.start(metadata, 1);
    try {
      await expect(pool.prepare([{ data: new Uint8Array(10), width: 4, height: 4 }])).rejects.toMatchObject({
        name: 'ImageInputError',
        code: 'BAD_PIXEL_COUNT',
      });
      expect((await pool.prepare([syntheticSmear(30, 30)])).regions).toHaveLength(1);
    } finally {
      await pool.close();
    }
  });

  it('replaces a worker that stops, failing only the batches it held; work waits for the new one', async () => {
    const pool = await PreparePool.start(metadata, 1);
    type Inside = { workers: { tasks?: unknown; thread: { terminate(): Promise<number> } }[] };
    const workers = () => (pool as unknown as Inside).workers;
    try {
      // Sixteen whole fields in one batch: far more work than stopping the worker takes.
      const held = pool.prepare(Array.from({ length: 16 }, () => syntheticSmear(320, 240)));
      held.catch(() => undefined);
      await workers()[0]!.thread.terminate();
      await expect(held).rejects.toMatchObject({ code: 'WORKER_FAILED', message: expect.stringMatching(/exited with code 1/) });

      // Asked at once, while the only worker is being replaced: it waits and is prepared.
      const images = [syntheticSmear(64, 48)];
      const prepared = await pool.prepare(images);
      expect(prepared.input).toEqual((await preparedHere(images)).input);
      expect(pool.size).toBe(1);

      const running = pool.prepare(Array.from({ length: 16 }, () => syntheticSmear(320, 240))).catch((error: unknown) => error);
      await pool.close();
      expect(await running).toMatchObject({ code: 'POOL_CLOSED' });
    } finally {
      await pool.close();
    }
  });

  it('refuses a bad worker count, and work once closed', async () => {
    await expect(PreparePool.start(metadata, 0)).rejects.toMatchObject({ code: 'BAD_PREPARE_WORKERS' });
    const pool = await PreparePool.start(metadata, 1);
    await pool.close();
    expect(pool.size).toBe(0);
    await expect(pool.prepare([syntheticSmear(30, 30)])).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });

  it('never loads onnxruntime-node: only the OnnxHost worker may hold sessions', () => {
    // The built worker and every chunk it imports, followed through relative imports.
    const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(join(dist, file), 'utf8');
      expect(code, file).not.toMatch(/onnxruntime|onnx-runtime/);
      for (const [, imported] of code.matchAll(/from\s+["']\.\/([^"']+)["']/g)) visit(imported!);
    };
    visit('prepare-worker.js');
    expect(seen.size).toBeGreaterThan(1);
  });
});
