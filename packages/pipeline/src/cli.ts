#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { BloodcellError, CROP_VIEWS, HEAD_KINDS, type HeadKind, type PreprocessingSpec } from '@bloodcell/core';
import { type BackboneEngine, type BackendName, DEFAULT_MODEL_DIR, formatSeconds, selectBackend } from '@bloodcell/node';

import { crossValidate } from './cross-validate/index.js';
import { COMMANDS_USAGE, PIPELINE_COMMANDS, type PipelineCommand, pipelineSetup, runPipelineCommand } from './commands/index.js';
import { runTrainStage } from './stages/index.js';
import { DEFAULT_TRAINING_VIEWS, trainBundle } from './train/index.js';

const USAGE = `Usage: bloodcell-pipeline <train | cross-validate> [options]

train           trains a bundle from labelled smear images with the frozen MobileNetV2 base
cross-validate  group k-fold cross-validation of heads on the same features (prints a table)

Options:
  --data DIR          <CELL_TYPE>/<image> folder (default: ../shared/data/blood-cells/TRAIN)
  --groups CSV        field groups of the images (default: ../shared/data/blood-cells/groups.csv)
  --base DIR          TF.js MobileNetV2 model (default: ../shared/models/mobilenet-v2-0.35-imagenet)
  --out DIR           where the bundle goes (default: ${DEFAULT_MODEL_DIR})
  --cache DIR         feature cache (default: artifacts/cache/features)
  --fit MODE          cell-crop (default) or whole-image
  --head KIND         pooled (default: average pooling + Dense), flatten (Flatten + Dense) or mlp
  --seed N            seed of the split, shuffles and initialisation (default: 7)
  --max-per-group N   use at most N images of each field group (quick runs)
  --epochs N          most epochs of head training (default: 40; stops early)
  --backend NAME      TF.js backend: tensorflow, wasm or cpu
  --engine NAME       feature extraction engine: onnx (default when onnxruntime-node loads) or tfjs
  --force             train even if --out holds a bundle of the same images, settings and code
  --folds N           cross-validate: number of group folds (default: 5)
  --heads LIST        cross-validate: comma-separated head kinds (default: pooled,flatten)
  --views LIST        training views of each crop, comma-separated, or none: ${CROP_VIEWS.map((view) => view.name).join(', ')}
                      (pooled and mlp heads; default for train: ${DEFAULT_TRAINING_VIEWS.join(',')};
                      for cross-validate: none)
  --verbose           a line per epoch
  --params FILE       instead of the options above: the pipeline's train stage with params.yaml's
                      train section (artifacts/ingest + artifacts/base → artifacts/model)
  -h, --help          this text`;

const OVERVIEW = `Usage: bloodcell-pipeline <command> [options]

${COMMANDS_USAGE}

${USAGE}`;

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first !== undefined && (PIPELINE_COMMANDS as readonly string[]).includes(first)) {
    return runPipelineCommand(first as PipelineCommand, argv.slice(1));
  }

  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string', default: '../shared/data/blood-cells/TRAIN' },
      groups: { type: 'string', default: '../shared/data/blood-cells/groups.csv' },
      base: { type: 'string', default: '../shared/models/mobilenet-v2-0.35-imagenet' },
      out: { type: 'string', default: DEFAULT_MODEL_DIR },
      cache: { type: 'string', default: 'artifacts/cache/features' },
      fit: { type: 'string', default: 'cell-crop' },
      head: { type: 'string', default: 'pooled' },
      seed: { type: 'string', default: '7' },
      'max-per-group': { type: 'string' },
      epochs: { type: 'string' },
      backend: { type: 'string' },
      engine: { type: 'string' },
      force: { type: 'boolean' },
      folds: { type: 'string', default: '5' },
      heads: { type: 'string', default: 'pooled,flatten' },
      views: { type: 'string' },
      verbose: { type: 'boolean' },
      params: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${command === undefined ? OVERVIEW : USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (command !== 'train' && command !== 'cross-validate') {
    const available = ['train', 'cross-validate', ...PIPELINE_COMMANDS].join(', ');
    process.stderr.write(`bloodcell-pipeline: unknown command "${command}"; available: ${available}.\n`);
    return 2;
  }
  if (command === 'train' && values.params !== undefined) {
    return trainFromParams(values.params, argv, values.backend, values.verbose);
  }
  if (values.fit !== 'cell-crop' && values.fit !== 'whole-image') {
    process.stderr.write(`bloodcell-pipeline: --fit must be cell-crop or whole-image; got "${values.fit}".\n`);
    return 2;
  }

  if (!(HEAD_KINDS as readonly string[]).includes(values.head)) {
    process.stderr.write(`bloodcell-pipeline: --head must be one of ${HEAD_KINDS.join(', ')}; got "${values.head}".\n`);
    return 2;
  }

  if (values.engine !== undefined && values.engine !== 'onnx' && values.engine !== 'tfjs') {
    process.stderr.write(`bloodcell-pipeline: --engine must be onnx or tfjs; got "${values.engine}".\n`);
    return 2;
  }

  await selectBackend(values.backend ? { prefer: values.backend as BackendName } : {});
  const started = Date.now();
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const data = {
    dataDir: resolve(values.data),
    groupsCsv: resolve(values.groups),
    baseModelDir: resolve(values.base),
    cacheDir: resolve(values.cache),
    // Checked against cell-crop and whole-image above.
    fit: values.fit as PreprocessingSpec['fit'],
    seed: integer(values.seed, '--seed'),
    maxPerGroup: values['max-per-group'] ? integer(values['max-per-group'], '--max-per-group') : undefined,
    // Checked against onnx and tfjs above.
    engine: values.engine as BackboneEngine | undefined,
  };

  if (command === 'cross-validate') {
    const heads = values.heads.split(',').map((head) => head.trim());
    const unknown = heads.find((head) => !(HEAD_KINDS as readonly string[]).includes(head));
    if (unknown !== undefined) {
      process.stderr.write(`bloodcell-pipeline: --heads takes ${HEAD_KINDS.join(', ')}; got "${unknown}".\n`);
      return 2;
    }
    const results = await crossValidate({
      ...data,
      heads: heads as HeadKind[],
      views: viewNames(values.views, []),
      folds: integer(values.folds, '--folds'),
      log: say,
    });
    process.stdout.write('| fit | head | views | accuracy (mean ± sd over folds) | balanced accuracy |\n|---|---|---|---|---|\n');
    for (const result of results) {
      process.stdout.write(
        `| ${result.fit} | ${result.head} | ${result.views.join(', ') || 'none'} | ` +
          `${result.meanAccuracy.toFixed(3)} ± ${result.accuracySpread.toFixed(3)} | ` +
          `${result.meanBalancedAccuracy.toFixed(3)} |\n`,
      );
    }
    say(`cross-validate: done in ${formatSeconds((Date.now() - started) / 1000)}`);
    return 0;
  }
  const result = await trainBundle({
    ...data,
    outDir: resolve(values.out),
    head: values.head as HeadKind,
    views: viewNames(values.views, values.head === 'flatten' ? [] : DEFAULT_TRAINING_VIEWS),
    epochs: values.epochs ? integer(values.epochs, '--epochs') : undefined,
    force: values.force,
    log: (line) => {
      if (values.verbose || !line.startsWith('epoch ')) say(line);
    },
  });

  const steps = Object.entries(result.timings).map(([step, seconds]) => `${step} ${formatSeconds(seconds)}`);
  const verdict = result.upToDate ? 'nothing to do' : 'done';
  say(`train: ${verdict} in ${formatSeconds((Date.now() - started) / 1000)} (${steps.join(', ')})`);
  const { validation } = result.metadata;
  say(
    `validation (${validation.images} images, held-out field groups): accuracy ${validation.accuracy.toFixed(4)}, ` +
      `balanced accuracy ${validation.balancedAccuracy.toFixed(4)}, macro-F1 ${validation.macroF1.toFixed(4)}`,
  );
  say(`recall: ${Object.entries(validation.recall).map(([c, r]) => `${c} ${r.toFixed(3)}`).join(', ')}`);
  say(`confusion matrix (rows true, columns predicted): ${JSON.stringify(validation.confusionMatrix)}`);
  return 0;
}

function viewNames(list: string | undefined, fallback: readonly string[]): string[] {
  if (list === undefined) return [...fallback];
  return list.split(',').map((name) => name.trim()).filter((name) => name !== '' && name !== 'none');
}

/** `train --params FILE`: the pipeline's train stage; every other option comes from the file. */
async function trainFromParams(
  paramsFile: string,
  argv: string[],
  backend?: string,
  verbose?: boolean,
): Promise<number> {
  const stray = argv.filter((arg) => arg.startsWith('-') && !/^--(params|verbose|backend)(=|$)/.test(arg));
  if (stray.length > 0) {
    process.stderr.write(
      `bloodcell-pipeline: train --params takes its options from the file's train section; ` +
        `drop ${stray.join(', ')} or edit ${paramsFile}.\n`,
    );
    return 2;
  }
  await selectBackend(backend ? { prefer: backend as BackendName } : {});
  const say = (line: string) => {
    if (verbose || !line.startsWith('epoch ')) process.stderr.write(`${line}\n`);
  };
  const { params, context } = await pipelineSetup(paramsFile, say);
  await runTrainStage(params, context);
  return 0;
}

function integer(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new BloodcellError('BAD_OPTION', `${flag} must be a non-negative integer; got "${text}".`);
  }
  return value;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof BloodcellError;
    process.stderr.write(`bloodcell-pipeline: ${known ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = known ? 2 : 70;
  },
);
