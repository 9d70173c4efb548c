import { type Classifier, explainClassification, loadClassifierFromUrl } from '@bloodcell/core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

import { publicErrorOf } from './errors.js';
import type { ImageOutcome } from '../report/index.js';
import { decodeInBrowser } from './decode.js';

/** Where the build puts the TF.js wasm binaries, relative to the page. */
export const WASM_PATH = '/assets/wasm/';

/** A classifier running in this page, and the TF.js backend it runs on. */
export interface BrowserClassifier {
  classifier: Classifier;
  backend: string;
}

/**
 * Loads the bundle the server exposes (model.json, weights, bloodcell.json) into this page, on
 * TF.js's wasm backend (cpu if WebAssembly is unavailable). Images classified with it never leave
 * the browser.
 *
 * @example
 * const { classifier, backend } = await loadBrowserClassifier('/model/');
 */
export async function loadBrowserClassifier(modelUrl: string): Promise<BrowserClassifier> {
  setWasmPaths(new URL(WASM_PATH, window.location.href).href);
  let backend = 'wasm';
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to start');
  } catch {
    // TODO (issue 3): the cpu fallback is ~10x slower; a webgl backend would be faster where WebGL exists.
    backend = 'cpu';
    await tf.setBackend('cpu');
  }
  await tf.ready();
  // TF.js calls fetchFunc as a method of its loader, and an unbound window.fetch then throws
  // "Illegal invocation"; core passes globalThis.fetch unbound unless given one.
  const fetchBound: typeof fetch = (input, init) => window.fetch(input, init);
  const classifier = await loadClassifierFromUrl(new URL(modelUrl, window.location.href).href, { fetch: fetchBound });
  return { classifier, backend };
}

/**
 * Classifies files in this page, one at a time so the page stays responsive; a file that cannot
 * be decoded becomes `{ file, error }` like the server's answer. `explain` adds each result's
 * activation map, as the server's ?explain=1 does, for one more backbone pass per image.
 *
 * @example
 * const outcomes = await classifyInBrowser(classifier, [...input.files], progress, { explain: true });
 */
export async function classifyInBrowser(
  classifier: Classifier,
  files: readonly File[],
  onProgress: (done: number) => void = () => {},
  options: { explain?: boolean } = {},
): Promise<ImageOutcome[]> {
  const outcomes: ImageOutcome[] = [];
  for (const file of files) {
    try {
      const { pixels, format } = await decodeInBrowser(file);
      const { result, activation } = options.explain
        ? await explainClassification(classifier, pixels)
        : { result: await classifier.classify(pixels), activation: undefined };
      const image = { width: pixels.width, height: pixels.height, format };
      const { cellType, probability, probabilities, referForReview, reviewReasons, outlierScore, box, cellFound } = result;
      const outcome = { cellType, probability, probabilities, referForReview, reviewReasons, outlierScore, box, cellFound };
      const map = activation && { cellType: activation.cellType, grid: activation.grid };
      outcomes.push(map ? { file: file.name, ...outcome, image, activation: map } : { file: file.name, ...outcome, image });
    } catch (error) {
      outcomes.push({ file: file.name, error: publicErrorOf(error) });
    }
    onProgress(outcomes.length);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return outcomes;
}
