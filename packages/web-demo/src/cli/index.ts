import { parseArgs } from 'node:util';

import { BloodcellError, VERSION } from '@bloodcell/core';
import {
  BACKEND_NAMES,
  type BackendName,
  INFERENCE_ENGINES,
  type InferenceEngine,
  resolveModelDir,
} from '@bloodcell/node';

import { type RunningServer, startServer } from '../server.js';

export const USAGE = `Usage: bloodcell-web-demo [--model DIR] [--port N] [--host H] [--engine NAME] [--backend NAME]

Serves the bloodcell upload page and JSON API (/api/v1/classify, /api/v1/model).

Options:
  --model DIR      model bundle folder (default: $BLOODCELL_MODEL, else ./artifacts/model)
  --port N         port to listen on (default: $PORT, else 8080; 0 picks a free one)
  --host H         address to listen on (default: $HOST, else 127.0.0.1, this machine only)
  --engine NAME    ${INFERENCE_ENGINES.join(' or ')} (default: $BLOODCELL_ENGINE, else onnx when
                   onnxruntime-node is installed, else tfjs); explain=1 always uses TF.js
  --backend NAME   TF.js backend: ${BACKEND_NAMES.join(', ')} (default: the fastest that loads)
  -h, --help       this text
  -v, --version    the version

Stops on SIGTERM or SIGINT after finishing the requests in flight.`;

/** Where the CLI writes; tests capture it. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * Runs the web demo's command line: returns an exit code, or the running server.
 *
 * @example
 * const outcome = await runCli(['--port', '0'], { env: process.env, stdout, stderr });
 * if (typeof outcome !== 'number') await outcome.close();
 */
export async function runCli(argv: string[], io: CliIo): Promise<number | RunningServer> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        engine: { type: 'string' },
        backend: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }));
  } catch (error) {
    return usageError(io, (error as Error).message);
  }

  if (values.version) return done(io, VERSION);
  if (values.help) return done(io, USAGE);
  const port = Number(values.port ?? io.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return usageError(io, `--port must be an integer from 0 to 65535; got "${values.port ?? io.env.PORT}".`);
  }
  const engine = (values.engine ?? (io.env.BLOODCELL_ENGINE || undefined)) as InferenceEngine | undefined;
  if (engine !== undefined && !INFERENCE_ENGINES.includes(engine)) {
    const from = values.engine === undefined ? ' (from BLOODCELL_ENGINE)' : '';
    return usageError(io, `--engine must be one of ${INFERENCE_ENGINES.join(', ')}; got "${engine}"${from}.`);
  }
  const backend = values.backend as BackendName | undefined;
  if (backend !== undefined && !BACKEND_NAMES.includes(backend)) {
    return usageError(io, `--backend must be one of ${BACKEND_NAMES.join(', ')}; got "${backend}".`);
  }

  try {
    const modelDir = resolveModelDir(values.model, io.env);
    const host = values.host ?? io.env.HOST ?? '127.0.0.1';
    const server = await startServer({ modelDir, port, host, engine, backend });
    io.stderr(`bloodcell web demo: serving ${modelDir} on ${server.engine} at ${server.url}\n`);
    return server;
  } catch (error) {
    if (!(error instanceof BloodcellError)) throw error;
    io.stderr(`bloodcell-web-demo: ${error.message}\n`);
    return 2;
  }
}

/** What shutdown needs from the process; tests pass an EventEmitter and a spy. */
export interface SignalSource {
  once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

/**
 * On SIGTERM or SIGINT: refuse new work, finish in-flight requests, close, then exit 0.
 *
 * @example
 * exitOnSignals(server, process, (code) => process.exit(code), (line) => process.stderr.write(line));
 */
export function exitOnSignals(
  server: RunningServer,
  signals: SignalSource,
  exit: (code: number) => void,
  log: (text: string) => void,
): void {
  const stop = (signal: string) => {
    log(`bloodcell web demo: ${signal} received, finishing requests in flight\n`);
    server.close().then(
      () => exit(0),
      (error: unknown) => {
        log(`bloodcell web demo: shutdown failed: ${String(error)}\n`);
        exit(1);
      },
    );
  };
  signals.once('SIGTERM', () => stop('SIGTERM'));
  signals.once('SIGINT', () => stop('SIGINT'));
}

function done(io: CliIo, text: string): number {
  io.stdout(`${text}\n`);
  return 0;
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`bloodcell-web-demo: ${message}\nRun "bloodcell-web-demo --help" for usage.\n`);
  return 2;
}
