import { BloodcellError, CELL_TYPES, type CellType, isCellType } from '@bloodcell/core';

/** File extensions read as images; anything else in a class folder is ignored. */
export const IMAGE_EXTENSIONS = ['.jpeg', '.jpg', '.png', '.webp', '.tif', '.tiff', '.bmp'] as const;

/** An image found in a source, with the class its folder names. */
export interface LabelledKey {
  /** The key or path inside the source, `/`-separated. */
  key: string;
  cellType: CellType;
  /** `<CELL_TYPE>/<file>`: the name groups.csv and the image folder use. */
  name: string;
}

/** The images a source holds, and what was passed over. */
export interface Layout {
  /** Folder inside the source that holds the class folders ('' for the source itself). */
  root: string;
  images: LabelledKey[];
  /** Files not directly inside a class folder under `root`, or not image files. */
  ignored: number;
}

/**
 * Finds the labelled images among a source's files: a plain `<CELL_TYPE>/<image>` layout, or
 * Kaggle's `images/TRAIN/<CELL_TYPE>/` (also under `dataset2-master/`). When class folders sit
 * under several roots, the one named TRAIN wins; otherwise the source is ambiguous.
 *
 * @example
 * findLabelledImages(['dataset2-master/images/TRAIN/MONOCYTE/a.jpeg', 'README.md']);
 * // { root: 'dataset2-master/images/TRAIN', images: [{ name: 'MONOCYTE/a.jpeg', … }], ignored: 1 }
 */
export function findLabelledImages(keys: readonly string[], where = 'the source'): Layout {
  const byRoot = new Map<string, LabelledKey[]>();
  for (const key of keys) {
    const parts = key.split('/');
    const file = parts.at(-1) ?? '';
    const folder = parts.at(-2);
    if (folder === undefined || !isCellType(folder) || !isImageFile(file) || file.startsWith('.')) continue;
    const root = parts.slice(0, -2).join('/');
    const images = byRoot.get(root) ?? [];
    images.push({ key, cellType: folder, name: `${folder}/${file}` });
    byRoot.set(root, images);
  }

  if (byRoot.size === 0) {
    throw new BloodcellError(
      'NO_LABELLED_IMAGES',
      `${where} has no images in folders named ${CELL_TYPES.join(', ')}: expected <CELL_TYPE>/<image> ` +
        "or Kaggle's images/TRAIN/<CELL_TYPE>/<image>.",
    );
  }
  const root = pickRoot([...byRoot.keys()], byRoot, where);
  const images = byRoot.get(root)!.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { root, images, ignored: keys.length - images.length };
}

/**
 * Whether a file name has one of the image extensions.
 *
 * @example
 * isImageFile('cell.JPEG'); // true
 */
export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((extension) => lower.endsWith(extension));
}

function pickRoot(roots: string[], byRoot: Map<string, LabelledKey[]>, where: string): string {
  if (roots.length === 1) return roots[0]!;
  const train = roots.filter((root) => /(^|\/)train$/i.test(root));
  if (train.length === 1) return train[0]!;
  const found = roots.map((root) => `${root || '(top)'} (${byRoot.get(root)!.length} images)`).join(', ');
  throw new BloodcellError(
    'AMBIGUOUS_LAYOUT',
    `${where} has class folders under several folders: ${found}. Point ingest.source at one of them.`,
  );
}
