import { createRequire } from 'node:module';

import { OptionError } from '@bloodcell/core';
import type * as Ort from 'onnxruntime-node';

/** The onnxruntime-node module, as loaded. */
export type OnnxRuntime = typeof Ort;

// Held in a variable so bundlers do not pull in this optional package.
const ORT_PACKAGE = 'onnxruntime-node';
// The CommonJS build has no import.meta.url (tsup without shims), but it has __filename.
const requireHere = createRequire(import.meta.url ?? __filename);

let loading: Promise<OnnxRuntime> | undefined;

/**
 * Loads onnxruntime-node, the optional inference engine: once per process.
 *
 * @throws OptionError ONNX_RUNTIME_UNAVAILABLE saying how to install it.
 * @example
 * const ort = await loadOnnxRuntime();
 * const session = await ort.InferenceSession.create(bytes);
 */
export function loadOnnxRuntime(): Promise<OnnxRuntime> {
  loading ??= importRuntime();
  loading.catch(() => (loading = undefined));
  return loading;
}

/**
 * Whether onnxruntime-node is installed and its native library loads on this machine.
 *
 * @example
 * const engine = (await onnxRuntimeAvailable()) ? 'onnx' : 'tfjs';
 */
export async function onnxRuntimeAvailable(): Promise<boolean> {
  return loadOnnxRuntime().then(
    () => true,
    () => false,
  );
}

async function importRuntime(): Promise<OnnxRuntime> {
  try {
    requireHere.resolve(ORT_PACKAGE);
  } catch (error) {
    throw unavailable('it is not installed', error);
  }
  try {
    const module = (await import(ORT_PACKAGE)) as OnnxRuntime & { default?: OnnxRuntime };
    // The package is CommonJS: under ESM its exports may sit on `default`.
    return module.InferenceSession ? module : module.default!;
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw unavailable(`it failed to load (${why})`, error);
  }
}

function unavailable(why: string, cause: unknown): OptionError {
  return new OptionError(
    'ONNX_RUNTIME_UNAVAILABLE',
    `The onnx engine needs onnxruntime-node, but ${why}. Install it next to @bloodcell/node ` +
      '(npm install onnxruntime-node), or choose the tfjs engine. Valid engines: onnx, tfjs.',
    { cause },
  );
}
