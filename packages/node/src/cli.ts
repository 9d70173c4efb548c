#!/usr/bin/env node
import { parseArgs } from 'node:util';

import { BloodcellError, VERSION } from '@bloodcell/core';

import { BACKEND_NAMES, type BackendName } from './backend/index.js';
import { classifyFiles, expandInputs } from './cli/classify-command.js';
import { INFERENCE_ENGINES, type InferenceEngine, openClassifier } from './engine/index.js';
import type { OutputFormat } from './cli/records.js';
import { resolveModelDir } from './model-location/index.js';

const USAGE = `Usage: bloodcell classify <files or folders...> [options]

Names the white blood cell (EOSINOPHIL, LYMPHOCYTE, MONOCYTE, NEUTROPHIL) in each smear image.

Options:
  --model DIR      model bundle folder (default: $BLOODCELL_MODEL, else ./artifacts/model)
  --json           one JSON object per line (JSON Lines) on stdout
  --csv            CSV with a header row on stdout
  --backend NAME   TF.js backend: ${BACKEND_NAMES.join(', ')} (default: the fastest that loads)
  --engine NAME    ${INFERENCE_ENGINES.join(' or ')} (default: onnx when onnxruntime-node is installed)
  --workers N      tfjs engine: worker threads, each with its own model (default 0: none); pays
                   off only on idle cores. The onnx engine always uses every core
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
  const workers = Number(values.workers ?? 0);
  const classifier = await openClassifier(resolveModelDir(values.model), {
    engine: values.engine as InferenceEngine | undefined,
    workers,
    backend: values.backend as BackendName | undefined,
  });

  try {
    // One batch more than can run at once, so the next files decode (and crop) during inference.
    const inFlight = classifier.workers + 2;
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
      // parseArgs throws TypeErrors with a code for unknown or malformed options.
      const hint = error instanceof BloodcellError ? '' : '\nRun "bloodcell --help" for usage.';
      process.stderr.write(`bloodcell: ${error.message}${hint}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bloodcell: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  },
);
