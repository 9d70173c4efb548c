import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { CELL_TYPES } from '@bloodcell/core';
import sharp from 'sharp';

/**
 * A small distinct smear-like JPEG or PNG: a pale field with a violet disc whose place and tint
 * depend on `seed`, so every seed gives different bytes.
 */
export async function smearImage(
  seed: number,
  format: 'jpeg' | 'png' = 'jpeg',
  size = 48,
): Promise<Buffer> {
  const data = Buffer.alloc(size * size * 3);
  const cx = (seed * 7) % size;
  const cy = (seed * 13) % size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < (size / 5) ** 2;
      const i = (y * size + x) * 3;
      data[i] = inside ? 90 + (seed % 50) : 230;
      data[i + 1] = inside ? 40 : 200 - (seed % 30);
      data[i + 2] = inside ? 160 : 210;
    }
  }
  const image = sharp(data, { raw: { width: size, height: size, channels: 3 } });
  return format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 90 }).toBuffer();
}

/** Relative path → bytes of a labelled set with the problems ingest must handle. */
export interface LabelledFiles {
  files: Map<string, Uint8Array>;
  /** groups.csv text for the class/file names. */
  groupsCsv: string;
}

/**
 * Two distinct images per class, plus: a same-class duplicate (MONOCYTE/copy.jpeg), a cross-class
 * duplicate (NEUTROPHIL/twin.jpeg = EOSINOPHIL/e0.jpeg), a truncated JPEG (LYMPHOCYTE/broken.jpeg)
 * and a README. Everything under `prefix`.
 */
export async function labelledFiles(prefix = ''): Promise<LabelledFiles> {
  const files = new Map<string, Uint8Array>();
  const rows: string[] = [];
  let seed = 1;
  for (const cellType of CELL_TYPES) {
    for (let k = 0; k < 2; k++) {
      const name = `${cellType[0]!.toLowerCase()}${k}.${k === 1 ? 'png' : 'jpeg'}`;
      files.set(`${prefix}${cellType}/${name}`, await smearImage(seed++, k === 1 ? 'png' : 'jpeg'));
      rows.push(`TRAIN,${cellType},${name},photo-${cellType}.jpg,G-${cellType}-${k}`);
    }
  }
  files.set(`${prefix}MONOCYTE/copy.jpeg`, files.get(`${prefix}MONOCYTE/m0.jpeg`)!);
  files.set(`${prefix}NEUTROPHIL/twin.jpeg`, files.get(`${prefix}EOSINOPHIL/e0.jpeg`)!);
  files.set(`${prefix}LYMPHOCYTE/broken.jpeg`, files.get(`${prefix}LYMPHOCYTE/l0.jpeg`)!.slice(0, 60));
  files.set(`${prefix}README.md`, new TextEncoder().encode('blood cells\n'));
  return { files, groupsCsv: `split,class,file,source_frame,field_group\n${rows.join('\n')}\n` };
}

/** Writes the files under a folder. */
export async function writeFiles(root: string, files: Map<string, Uint8Array>): Promise<void> {
  for (const [path, bytes] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), bytes);
  }
}
