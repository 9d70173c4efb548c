import {
  type Classifier,
  type ClassifyResult,
  type PixelImage,
  explainClassification,
} from '@bloodcell/core';

import type { CellClassifier } from '../lifecycle/index.js';
import type { CellActivation } from '../report/index.js';
import { ApiError } from './errors.js';

/** Values of `?explain=` and whether each asks for activation maps. */
const EXPLAIN_VALUES: Record<string, boolean> = { '1': true, true: true, '0': false, false: false, '': false };

/**
 * Whether a classify request asks for activation maps (`?explain=1`).
 *
 * @throws ApiError BAD_QUERY for a value other than 1, true, 0 or false.
 * @example
 * const explain = parseExplain(c.req.query('explain')); // true for ?explain=1
 */
export function parseExplain(value: string | undefined): boolean {
  if (value === undefined) return false;
  const explain = EXPLAIN_VALUES[value.toLowerCase()];
  if (explain === undefined) {
    throw new ApiError('BAD_QUERY', `explain must be 1, true, 0 or false; got "${value}".`);
  }
  return explain;
}

/** A classification with the activation map of its cell type. */
export type Explanation = ClassifyResult & { activation: CellActivation };

/**
 * Classifies each image and maps where in its crop the model found evidence for the answer: one
 * extra backbone pass per image. Images run one at a time, as explainClassification takes one.
 *
 * @example
 * const [{ cellType, activation }] = await explainImages(classifier, [pixels]);
 */
export async function explainImages(model: Classifier, images: readonly PixelImage[]): Promise<Explanation[]> {
  const explanations: Explanation[] = [];
  for (const image of images) {
    const { result, activation } = await explainClassification(model, image);
    explanations.push({ ...result, activation: { cellType: activation.cellType, grid: activation.grid } });
  }
  return explanations;
}

/**
 * What explains a classification: `classifier` itself when it is a TF.js Classifier, else
 * `fallback` (the onnx engine's TF.js copy of the bundle). The returned function throws at once
 * when there is neither, so a request is refused before its upload is read.
 *
 * @example
 * const explainer = explainerFor(classifier, () => loadClassifier(modelDir));
 * const model = await explainer(); // throws EXPLAIN_UNAVAILABLE for a stand-in without fallback
 */
export function explainerFor(
  classifier: CellClassifier,
  fallback?: () => Promise<Classifier>,
): () => Promise<Classifier> {
  // Duck-typed: a second copy of @bloodcell/core in node_modules would fail an instanceof check.
  const { extractor, head, classify } = classifier as Partial<Classifier>;
  if (extractor && head && classify) {
    const model = Promise.resolve(classifier as Classifier);
    return () => model;
  }
  if (fallback) return fallback;
  return () => {
    throw new ApiError(
      'EXPLAIN_UNAVAILABLE',
      'This server classifies with a model that cannot map its evidence: send the request without explain=1.',
    );
  };
}
