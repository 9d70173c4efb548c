import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { OptionError } from '@bloodcell/core';
import { type BackendName, INFERENCE_ENGINES, type InferenceEngine, selectBackend } from '@bloodcell/node';

import { buildBase } from '../base/index.js';
import { evaluateModel } from '../evaluate/index.js';
import { codeVersion } from '../fingerprint/index.js';
import { ingest } from '../ingest/index.js';
import { LOCK_FILE } from '../lock/index.js';
import { type Params, loadParams } from '../params/index.js';
import { pipelineStatus, repro } from '../runner/index.js';
import { PIPELINE_PATHS, type StageContext, evaluateOptions, pipelineStages } from '../stages/index.js';

/** The commands besides `train`. */
export const PIPELINE_COMMANDS = ['repro', 'status', 'ingest', 'base', 'evaluate'] as const;
export type PipelineCommand = (typeof PIPELINE_COMMANDS)[number];

export const COMMANDS_USAGE = `Pipeline commands (parameters from params.yaml; paths relative to it):
  repro [STAGE] [--params FILE] [--force] [--backend NAME] [--verbose]
      run ingest → base → train → evaluate (up to STAGE), skipping stages whose inputs,
      params section and code are unchanged since their last run (recorded in pipeline.lock)
  status [STAGE] [--params FILE]
      say which stages repro would run, and why
  ingest [--params FILE] [--source SRC] [--groups CSV] [--sha256 HEX] [--out DIR]
      local folder, s3://bucket/prefix or https:// .zip/.tar.gz → artifacts/ingest
  base [--params FILE] [--name mobilenet_v2|vgg16] [--path P] [--layer L] [--input-size N] [--out DIR]
      cut the pretrained base → artifacts/base (TF.js model + base.json)
  evaluate [--model DIR] [--data DIR] [--groups CSV] [--validation-only] [--out DIR]
           [--mistakes N] [--engine onnx|tfjs] [--backend NAME] [--params FILE]
      metrics.json and report.html → artifacts/evaluate
  train --params FILE
      the train stage alone, as repro runs it (artifacts/ingest + artifacts/base → artifacts/model)`;

/**
 * Runs one of the pipeline commands with its arguments (those after the command name).
 *
 * @example
 * process.exitCode = await runPipelineCommand('status', ['--params', 'params.yaml']);
 */
export async function runPipelineCommand(command: PipelineCommand, argv: string[]): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  switch (command) {
    case 'repro':
    case 'status':
      return reproCommand(command, argv, say);
    case 'ingest':
      return ingestCommand(argv, say);
    case 'base':
      return baseCommand(argv, say);
    case 'evaluate':
      return evaluateCommand(argv, say);
  }
}

/**
 * Loads params.yaml and the stage context (root = the file's folder) shared by the commands.
 *
 * @example
 * const { params, context } = await pipelineSetup('params.yaml', console.error);
 */
export async function pipelineSetup(
  paramsFile: string,
  log: (line: string) => void,
): Promise<{ params: Params; context: StageContext }> {
  const file = resolve(paramsFile);
  return { params: await loadParams(file), context: { root: dirname(file), log } };
}

async function reproCommand(
  command: 'repro' | 'status',
  argv: string[],
  say: (line: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      params: { type: 'string', default: 'params.yaml' },
      force: { type: 'boolean' },
      backend: { type: 'string' },
      verbose: { type: 'boolean' },
    },
  });
  const log = (line: string) => {
    if (values.verbose || !line.startsWith('epoch ')) say(line);
  };
  const { params, context } = await pipelineSetup(values.params, log);
  const stages = pipelineStages(params, context);
  const options = {
    lockFile: join(context.root, LOCK_FILE),
    code: await codeVersion(),
    target: positionals[0],
    log,
  };

  if (command === 'status') {
    for (const status of await pipelineStatus(stages, options)) {
      const verdict = { 'up-to-date': 'up to date', run: 'would run', 'after-upstream': 'may run' }[
        status.state
      ];
      process.stdout.write(
        `${status.stage}: ${verdict}${status.reasons.length ? ` (${status.reasons.join('; ')})` : ''}\n`,
      );
    }
    return 0;
  }

  await selectBackend(values.backend ? { prefer: values.backend as BackendName } : {});
  const statuses = await repro(stages, { ...options, force: values.force });
  const ran = statuses.filter((s) => s.state === 'run').map((s) => s.stage);
  say(
    `repro: ${ran.length ? `ran ${ran.join(', ')}` : 'nothing to do'}; ${statuses.length - ran.length} up to date`,
  );
  return 0;
}

async function ingestCommand(argv: string[], say: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      params: { type: 'string', default: 'params.yaml' },
      source: { type: 'string' },
      groups: { type: 'string' },
      sha256: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const { params, context } = await pipelineSetup(values.params, say);
  const p = params.ingest;
  await ingest({
    ...p,
    source: values.source ?? p.source,
    groupsCsv: values.groups ?? p.groups,
    sha256: values.sha256 ?? p.sha256,
    root: values.source ? process.cwd() : context.root,
    outDir: resolve(values.out ?? join(context.root, PIPELINE_PATHS.ingest)),
    cacheDir: join(context.root, PIPELINE_PATHS.ingestCache),
    log: say,
  });
  return 0;
}

async function baseCommand(argv: string[], say: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      params: { type: 'string', default: 'params.yaml' },
      name: { type: 'string' },
      path: { type: 'string' },
      layer: { type: 'string' },
      'input-size': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const { params, context } = await pipelineSetup(values.params, say);
  const name = values.name ?? params.base.name;
  if (name !== 'mobilenet_v2' && name !== 'vgg16') {
    throw new OptionError('BAD_OPTION', `--name must be mobilenet_v2 or vgg16; got "${name}".`);
  }
  await selectBackend();
  const base = await buildBase({
    name,
    path: values.path ? resolve(values.path) : resolve(context.root, params.base.path),
    layer: values.layer ?? params.base.layer,
    inputSize: values['input-size']
      ? positiveInteger(values['input-size'], '--input-size')
      : params.base.inputSize,
    outDir: resolve(values.out ?? join(context.root, PIPELINE_PATHS.base)),
  });
  say(
    `base: ${base.name} cut at ${base.outputLayer} → [${base.featureShape.join(', ')}], ${base.inputSize}px input`,
  );
  return 0;
}

async function evaluateCommand(argv: string[], say: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      groups: { type: 'string' },
      'validation-only': { type: 'boolean' },
      out: { type: 'string' },
      mistakes: { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      engine: { type: 'string' },
      params: { type: 'string' },
    },
  });
  // With --model and --data the command needs no params.yaml; otherwise it fills in from it.
  const fromParams =
    values.params || !values.model || !values.data
      ? await pipelineSetup(values.params ?? 'params.yaml', say)
      : undefined;
  const defaults = fromParams ? evaluateOptions(fromParams.params, fromParams.context) : undefined;

  if (values.engine !== undefined && !(INFERENCE_ENGINES as readonly string[]).includes(values.engine)) {
    throw new OptionError('BAD_OPTION', `--engine must be one of ${INFERENCE_ENGINES.join(', ')}; got "${values.engine}".`);
  }
  await selectBackend(values.backend ? { prefer: values.backend as BackendName } : {});
  await evaluateModel({
    engine: values.engine as InferenceEngine | undefined,
    modelDir: resolve(values.model ?? defaults!.modelDir),
    dataDir: resolve(values.data ?? defaults!.dataDir),
    groupsCsv: values.groups ? resolve(values.groups) : values.data ? null : (defaults?.groupsCsv ?? null),
    validationOnly:
      values['validation-only'] ?? (values.data ? false : (defaults?.validationOnly ?? false)),
    outDir: resolve(values.out ?? defaults?.outDir ?? PIPELINE_PATHS.evaluate),
    mistakes: values.mistakes
      ? positiveInteger(values.mistakes, '--mistakes', true)
      : (defaults?.mistakes ?? 12),
    batchSize: values['batch-size']
      ? positiveInteger(values['batch-size'], '--batch-size')
      : (defaults?.batchSize ?? 8),
    log: say,
  });
  return 0;
}

function positiveInteger(text: string, flag: string, zero = false): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (zero ? 0 : 1)) {
    throw new OptionError(
      'BAD_OPTION',
      `${flag} must be a ${zero ? 'non-negative' : 'positive'} integer; got "${text}".`,
    );
  }
  return value;
}
