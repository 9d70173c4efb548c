/** The white cell types the classifier names, in the fixed order of the model's outputs. */
export const CELL_TYPES = ['EOSINOPHIL', 'LYMPHOCYTE', 'MONOCYTE', 'NEUTROPHIL'] as const;

export type CellType = (typeof CELL_TYPES)[number];

/** One probability per cell type. */
export type CellProbabilities = Record<CellType, number>;

/**
 * Tells whether a string is one of the four cell types.
 *
 * @example
 * isCellType('MONOCYTE'); // true
 * isCellType('BASOPHIL'); // false
 */
export function isCellType(name: string): name is CellType {
  return (CELL_TYPES as readonly string[]).includes(name);
}
