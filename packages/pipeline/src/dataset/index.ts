import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';

import { BloodcellError, CELL_TYPES, type CellType, isCellType } from '@bloodcell/core';

/** One labelled image of the training data. */
export interface LabelledImage {
  /** Absolute path. */
  path: string;
  /** Path relative to the data folder, e.g. `MONOCYTE/_0_123.jpeg`; stable across machines. */
  name: string;
  cellType: CellType;
  label: number;
  /** Field group: overlapping photos of one smear area (so one cell) share it. */
  group: string;
  /** The source smear photo the image was augmented from, when known. */
  sourcePhoto?: string;
}

/** Group information for one image file, from `groups.csv`. */
export interface GroupRecord {
  cellType: string;
  sourcePhoto: string;
  group: string;
}

const IMAGE_EXTENSIONS = new Set(['.jpeg', '.jpg', '.png', '.webp', '.tif', '.tiff', '.bmp']);

/**
 * Reads `groups.csv` (columns split, class, file, source_frame, field_group) into a map keyed by
 * `<CLASS>/<file>`.
 *
 * @example
 * const groups = await readGroups('../shared/data/blood-cells/groups.csv');
 * groups.get('MONOCYTE/_0_123.jpeg'); // { cellType: 'MONOCYTE', sourcePhoto: '…', group: 'G012' }
 */
export async function readGroups(csvPath: string): Promise<Map<string, GroupRecord>> {
  const lines = (await readFile(csvPath, 'utf8')).split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = lines[0]?.split(',') ?? [];
  const column = (name: string) => {
    const index = header.indexOf(name);
    if (index < 0) {
      throw new BloodcellError('BAD_GROUPS_FILE', `${csvPath} has no "${name}" column (found: ${header.join(', ')}).`);
    }
    return index;
  };
  const [cls, file, source, group] = ['class', 'file', 'source_frame', 'field_group'].map(column) as number[];

  const records = new Map<string, GroupRecord>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    records.set(`${cells[cls!]}/${cells[file!]}`, {
      cellType: cells[cls!]!,
      sourcePhoto: cells[source!]!,
      group: cells[group!]!,
    });
  }
  return records;
}

/**
 * Lists the images of a `<CELL_TYPE>/<image>` folder, sorted by name, with their field group.
 * An image missing from `groups` gets its own group (its file name), so it can never be split
 * across training and validation.
 *
 * @example
 * const images = await listLabelledImages('../shared/data/blood-cells/TRAIN', groups);
 */
export async function listLabelledImages(
  dataDir: string,
  groups: ReadonlyMap<string, GroupRecord> = new Map(),
): Promise<LabelledImage[]> {
  const entries = await readdir(dataDir, { withFileTypes: true }).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code !== 'ENOENT' && cause.code !== 'ENOTDIR') throw cause;
    throw new BloodcellError(
      'DATA_NOT_FOUND',
      `No image folder at ${dataDir} (expected <CELL_TYPE>/<image> files). Pass another with --data, ` +
        'or run `bloodcell-pipeline repro ingest` to fill artifacts/ingest.',
      { cause },
    );
  });
  const classDirs = entries.filter((entry) => entry.isDirectory() && isCellType(entry.name));
  if (classDirs.length === 0) {
    throw new BloodcellError(
      'NO_CLASS_FOLDERS',
      `${dataDir} has none of the folders ${CELL_TYPES.join(', ')}; expected <CELL_TYPE>/<image> files.`,
    );
  }

  const images: LabelledImage[] = [];
  for (const classDir of classDirs) {
    const cellType = classDir.name as CellType;
    const folder = join(dataDir, cellType);
    for (const file of await readdir(folder)) {
      if (!IMAGE_EXTENSIONS.has(extname(file).toLowerCase())) continue;
      const path = join(folder, file);
      const name = relative(dataDir, path).split('\\').join('/');
      const record = groups.get(name);
      images.push({
        path,
        name,
        cellType,
        label: CELL_TYPES.indexOf(cellType),
        group: record?.group ?? `file:${name}`,
        ...(record ? { sourcePhoto: record.sourcePhoto } : {}),
      });
    }
  }
  return images.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
