#!/usr/bin/env node
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

import { BloodcellError, VERSION } from '@bloodcell/core';

import { BACKEND_NAMES, type BackendName } from './backend/index.js';
import { INFERENCE_ENGINES, type InferenceEngine } from './classifier-pool/index.js';
import { classifyFiles, expandInputs } from './cli/classify-command.js';
import { openClassifier } from './engine/index.js';
import type { OutputFormat } from './cli/records.js';
import { resolveModelDir } from './model-location/index.js';

/** Below this many images, starting workers costs more than it saves. */
const POOL_FROM = 16;

const USAGE = `Usage: bloodcell classify <files or folders...> [options]

Names the white blood cell (EOSINOPHIL, LYMPHOCYTE, MONOCYTE, NEUTROPHIL) in each smear image.

Options:
  --model DIR      model bundle folder (default: $BLOODCELL_MODEL, else ./artifacts/model)
  --json           one JSON object per line (JSON Lines) on stdout
  --csv            CSV with a header row on stdout
  --backend NAME   TF.js backend: ${BACKEND_NAMES.join(', ')} (default: the fastest that loads)
  --engine NAME    ${INFERENCE_ENGINES.join(' or ')} (default: onnx when onnxruntime-node is installed)
  --workers N      worker threads, 0 for none (default: one per core for over ${POOL_FROM} images)
  -h, --help       this text
  -v, --version    the version

Folders are searched recursively for .jpeg .jpg .png .webp .tif .tiff .bmp files. With --json or
--csv the differential and progress go to stderr. Exit status: 0 all classified, 1 some files
failed, 2 bad usage or no model.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
      backend: { type: 'string' },
      engine: { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });

  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [command, ...inputs] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (command !== 'classify') return usageError(`unknown command "${command}"; the only command is "classify".`);
  if (inputs.length === 0) return usageError('name at least one image file or folder.');
  if (values.json && values.csv) return usageError('choose one of --json and --csv.');

  const format: OutputFormat = values.json ? 'json' : values.csv ? 'csv' : 'table';
  const files = await expandInputs(inputs);
  if (files.length === 0) return usageError(`no image files found in ${inputs.join(', ')}.`);
  const workers = values.workers === undefined ? (files.length > POOL_FROM ? availableParallelism() : 0) : Number(values.workers);
  const classifier = await openClassifier(resolveModelDir(values.model), {
    engine: values.engine as InferenceEngine | undefined,
    workers,
    backend: values.backend as BackendName | undefined,
  });

  try {
    const inFlight = classifier.workers + 1;
    const { failed } = await classifyFiles(classifier, files, format, process.stdout, process.stderr, { inFlight });
    return failed > 0 ? 1 : 0;
  } finally {
    await classifier.close();
  }
}

function usageError(message: string): number {
  process.stderr.write(`bloodcell: ${message}\nRun "bloodcell --help" for usage.\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof BloodcellError || (error instanceof TypeError && 'code' in error)) {
      process.stderr.write(`bloodcell: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bloodcell: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  },
);
