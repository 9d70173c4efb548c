import { describe, expect, it } from 'vitest';

import { findLabelledImages } from './index.js';

describe('findLabelledImages', () => {
  it('reads a plain <CELL_TYPE>/ layout and ignores other files', () => {
    const layout = findLabelledImages([
      'MONOCYTE/b.jpeg',
      'EOSINOPHIL/a.png',
      'notes.txt',
      'MONOCYTE/.DS_Store',
    ]);
    expect(layout.root).toBe('');
    expect(layout.images.map((image) => image.name)).toEqual(['EOSINOPHIL/a.png', 'MONOCYTE/b.jpeg']);
    expect(layout.images[1]).toMatchObject({ key: 'MONOCYTE/b.jpeg', cellType: 'MONOCYTE' });
    expect(layout.ignored).toBe(2);
  });

  it('prefers the TRAIN split of the Kaggle layout', () => {
    const layout = findLabelledImages([
      'dataset2-master/images/TRAIN/NEUTROPHIL/_0_1.jpeg',
      'dataset2-master/images/TEST/NEUTROPHIL/_0_2.jpeg',
      'dataset-master/JPEGImages/BloodImage_00000.jpg',
    ]);
    expect(layout.root).toBe('dataset2-master/images/TRAIN');
    expect(layout.images).toEqual([
      {
        key: 'dataset2-master/images/TRAIN/NEUTROPHIL/_0_1.jpeg',
        cellType: 'NEUTROPHIL',
        name: 'NEUTROPHIL/_0_1.jpeg',
      },
    ]);
  });

  it('refuses a source with no class folders or with several roots', () => {
    expect(() => findLabelledImages(['a/b.jpeg'], 's3://cells/x')).toThrow(
      's3://cells/x has no images in folders named EOSINOPHIL, LYMPHOCYTE, MONOCYTE, NEUTROPHIL',
    );
    expect(() => findLabelledImages(['one/MONOCYTE/a.jpeg', 'two/MONOCYTE/a.jpeg'])).toThrow(
      'class folders under several folders: one (1 images), two (1 images)',
    );
  });
});
