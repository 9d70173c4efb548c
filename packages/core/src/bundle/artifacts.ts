import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { Classifier } from '../classifier/index.js';
import { BundleError } from '../errors.js';
import { METADATA_FILE } from './metadata.js';

/**
 * Serialises a bundle's model to TF.js artifacts (topology and one weight buffer) without touching
 * any storage, so Node, a browser or a test can decide where they go.
 *
 * @example
 * const artifacts = await modelArtifacts(classifier.model);
 */
export async function modelArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return captured!;
}

/**
 * Loads a bundle served over HTTP (a browser, or a web demo's `/model/` route): `bloodcell.json`
 * and `model.json` with its weight files under `baseUrl`.
 *
 * @example
 * const classifier = await loadClassifierFromUrl('/model/');
 * const result = await classifier.classify(pixels);
 */
export async function loadClassifierFromUrl(
  baseUrl: string,
  options: { fetch?: typeof fetch } = {},
): Promise<Classifier> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  // Bound: browsers throw "Illegal invocation" when fetch is called detached from window.
  const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  const response = await fetchFn(`${base}${METADATA_FILE}`);
  if (!response.ok) {
    throw new BundleError('BUNDLE_NOT_FOUND', `No bundle metadata at ${base}${METADATA_FILE} (HTTP ${response.status}).`);
  }
  const metadata: unknown = await response.json();

  const model = await tfl.loadLayersModel(`${base}model.json`, { fetchFunc: fetchFn });
  return Classifier.fromModel(model, metadata);
}
