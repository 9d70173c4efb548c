import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';

import { BloodcellError, OptionError } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * TF.js backends bloodcell can run on in Node, fastest first.
 *
 * @example
 * const backend: BackendName = 'wasm';
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/**
 * Every valid BackendName, in the order automatic selection tries them.
 *
 * @example
 * program.option('--backend <name>', `one of ${BACKEND_NAMES.join(', ')}`);
 */
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface SelectBackendOptions {
  /** Use this backend or fail; overrides BLOODCELL_BACKEND. */
  prefer?: BackendName;
  /** Receives the one line saying which backend was chosen; defaults to stderr when verbose. */
  log?: (line: string) => void;
}

// Held in a variable so bundlers and TypeScript do not require this optional package.
const TFJS_NODE = '@tensorflow/tfjs-node';
const WASM_BINARY = '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm';
// The CommonJS build has no import.meta.url (tsup without shims), but it has __filename.
const requireHere = createRequire(import.meta.url ?? __filename);

/** A backend that cannot start; the message is short enough for the chosen-backend log line. */
class BackendUnavailable extends Error {}

/** A backend and why it was picked, as shown in the log line. */
interface Choice {
  name: BackendName;
  reason: string;
}

let automaticChoice: Choice | undefined;
let queue: Promise<unknown> = Promise.resolve();

/**
 * Chooses and activates the TF.js backend: the `prefer` option, else env BLOODCELL_BACKEND, else
 * the first that starts of tfjs-node (if the user installed it), wasm, cpu. Logs one line when
 * the backend changes; calling it again with the same outcome does nothing.
 *
 * @throws OptionError INVALID_BACKEND for an unknown name, BACKEND_UNAVAILABLE when a forced
 *   backend cannot start.
 * @example
 * const backend = await selectBackend(); // 'wasm' unless @tensorflow/tfjs-node is installed
 * await selectBackend({ prefer: 'cpu', log: (line) => console.log(line) });
 */
export function selectBackend(options: SelectBackendOptions = {}): Promise<BackendName> {
  // Serialised: two overlapping tf.setBackend calls would leave the engine half-switched.
  const result = queue.then(() => selectNow(options));
  queue = result.catch(() => undefined);
  return result;
}

/**
 * The active TF.js backend when it is one bloodcell supports and has started, else undefined.
 *
 * @example
 * if (currentBackend() === undefined) await selectBackend();
 */
export function currentBackend(): BackendName | undefined {
  const engine = tf.engine();
  const name = engine.backendName;
  return isBackendName(name) && engine.registry[name] !== undefined ? name : undefined;
}

async function selectNow(options: SelectBackendOptions): Promise<BackendName> {
  const log = options.log ?? logWhenVerbose;
  const forced = forcedChoice(options.prefer);
  const before = currentBackend();

  if (forced) {
    if (before === forced.name) return forced.name;
    await activateOrThrow(forced.name, before);
    log(chosenLine(forced.name, forced.reason));
    return forced.name;
  }

  if (automaticChoice === undefined) {
    automaticChoice = await activateFirstAvailable();
  } else if (before !== automaticChoice.name) {
    await activateOrThrow(automaticChoice.name, before);
  }
  const { name, reason } = automaticChoice;
  if (before !== name) log(chosenLine(name, reason));
  return name;
}

/** The backend the caller or the environment insists on, validated. */
function forcedChoice(prefer: string | undefined): Choice | undefined {
  if (prefer !== undefined) {
    if (!isBackendName(prefer)) throw invalidName(`prefer: '${prefer}'`);
    return { name: prefer, reason: 'prefer option' };
  }

  const fromEnv = process.env.BLOODCELL_BACKEND?.trim().toLowerCase();
  if (!fromEnv) return undefined;
  if (!isBackendName(fromEnv)) throw invalidName(`BLOODCELL_BACKEND='${fromEnv}'`);
  return { name: fromEnv, reason: `BLOODCELL_BACKEND=${fromEnv}` };
}

/** Starts a forced backend, restoring the previous one and explaining if it cannot. */
async function activateOrThrow(
  name: BackendName,
  previous: BackendName | undefined,
): Promise<void> {
  try {
    await activate(name);
  } catch (error) {
    if (previous !== undefined) await tf.setBackend(previous);
    const why = error instanceof Error ? error.message : String(error);
    throw new OptionError(
      'BACKEND_UNAVAILABLE',
      `TF.js backend '${name}' is unavailable: ${why}. ${installHint(name)}` +
        `Valid choices: ${BACKEND_NAMES.join(', ')}.`,
      { cause: error },
    );
  }
}

/** Tries tfjs-node, then wasm, then cpu; the reason says why faster ones were skipped. */
async function activateFirstAvailable(): Promise<Choice> {
  const skipped: string[] = [];

  for (const name of BACKEND_NAMES) {
    try {
      await activate(name);
      const reason = skipped.length > 0 ? skipped.join('; ') : `${shortName(name)} found`;
      return { name, reason };
    } catch (error) {
      skipped.push(error instanceof Error ? error.message : String(error));
    }
  }

  throw new BloodcellError(
    'NO_BACKEND',
    `No TF.js backend could start (${skipped.join('; ')}). ` +
      'Reinstall @bloodcell/node so @tensorflow/tfjs-backend-cpu is present.',
  );
}

/** Loads, registers and switches to one backend; throws BackendUnavailable with a short why. */
async function activate(name: BackendName): Promise<void> {
  if (name === 'tensorflow') await loadTfjsNode();
  if (name === 'wasm') await loadWasm();
  if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');

  if (!(await tf.setBackend(name))) {
    throw new BackendUnavailable(`${shortName(name)} failed to initialise`);
  }
  await tf.ready();
}

async function loadTfjsNode(): Promise<void> {
  try {
    requireHere.resolve(TFJS_NODE);
  } catch {
    throw new BackendUnavailable('tfjs-node not installed');
  }

  try {
    await import(TFJS_NODE);
  } catch (error) {
    throw new BackendUnavailable(`tfjs-node failed to load (${firstLine(error)})`);
  }
  // A tfjs-node built on another copy of tfjs-core registers its backend in that copy instead.
  if (!tf.engine().backendNames().includes('tensorflow')) {
    throw new BackendUnavailable(
      `tfjs-node uses a different @tensorflow/tfjs-core than ${tf.version_core}`,
    );
  }
}

async function loadWasm(): Promise<void> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Node has no page to fetch the binaries relative to, so point at the installed files.
    wasm.setWasmPaths(dirname(requireHere.resolve(WASM_BINARY)) + sep);
  } catch (error) {
    throw new BackendUnavailable(`wasm failed to load (${firstLine(error)})`);
  }
}

function installHint(name: BackendName): string {
  if (name === 'tensorflow') {
    return `Install ${TFJS_NODE}@${tf.version_core} next to @bloodcell/node to use it. `;
  }
  return `Reinstall @bloodcell/node so @tensorflow/tfjs-backend-${name} is present. `;
}

function invalidName(what: string): OptionError {
  return new OptionError(
    'INVALID_BACKEND',
    `${what} is not a TF.js backend bloodcell supports. ` +
      `Valid choices: ${BACKEND_NAMES.join(', ')}.`,
  );
}

function chosenLine(name: BackendName, reason: string): string {
  return `bloodcell: using TF.js backend ${name} (${reason})`;
}

function shortName(name: BackendName): string {
  return name === 'tensorflow' ? 'tfjs-node' : name;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

function isBackendName(name: string | undefined): name is BackendName {
  return (BACKEND_NAMES as readonly (string | undefined)[]).includes(name);
}

/** Quiet by default: a library should not write to stderr unless asked to. */
function logWhenVerbose(line: string): void {
  const verbose = process.env.BLOODCELL_VERBOSE;
  if (verbose && verbose !== '0' && verbose !== 'false') process.stderr.write(`${line}\n`);
}
