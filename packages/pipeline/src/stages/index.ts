import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { DEFAULT_MODEL_DIR } from '@bloodcell/node';

import { buildBase, readBaseDescription } from '../base/index.js';
import { evaluateModel } from '../evaluate/index.js';
import { INGEST_FILES, ingest } from '../ingest/index.js';
import type { Params } from '../params/index.js';
import { type StageDefinition, type StageInput } from '../runner/index.js';
import { pathInput, valueInput } from '../runner/inputs.js';
import { openSource } from '../source/index.js';
import { type TrainOptions, trainBundle } from '../train/index.js';

/** Where each stage writes, relative to the folder holding params.yaml. */
export const PIPELINE_PATHS = {
  ingest: 'artifacts/ingest',
  base: 'artifacts/base',
  model: DEFAULT_MODEL_DIR.split('\\').join('/'),
  evaluate: 'artifacts/evaluate',
  ingestCache: 'artifacts/cache/ingest',
  featureCache: 'artifacts/cache/features',
} as const;

export interface StageContext {
  /** The folder holding params.yaml; every relative path is resolved against it. */
  root: string;
  progress?: boolean;
  log?: (line: string) => void;
}

/**
 * The four stages (ingest → base → train → evaluate) with their params sections, inputs and
 * outputs, ready for `repro` or `pipelineStatus`.
 *
 * @example
 * const stages = pipelineStages(await loadParams('params.yaml'), { root: '.' });
 * await repro(stages, { lockFile: 'pipeline.lock', code: await codeVersion() });
 */
export function pipelineStages(params: Params, context: StageContext): StageDefinition[] {
  return [
    ingestStage(params, context),
    baseStage(params, context),
    trainStage(params, context),
    evaluateStage(params, context),
  ];
}

/**
 * The options `trainBundle` gets from the train section and the pipeline's folders.
 *
 * @example
 * await trainBundle(trainOptions(params, { root: '.' }));
 */
export function trainOptions(params: Params, context: StageContext): TrainOptions {
  const at = (path: string) => resolve(context.root, path);
  const groups = at(join(PIPELINE_PATHS.ingest, INGEST_FILES.groups));
  const t = params.train;
  return {
    dataDir: at(join(PIPELINE_PATHS.ingest, INGEST_FILES.images)),
    ...(existsSync(groups) ? { groupsCsv: groups } : {}),
    baseModelDir: at(PIPELINE_PATHS.base),
    outDir: at(PIPELINE_PATHS.model),
    cacheDir: at(PIPELINE_PATHS.featureCache),
    fit: t.fit,
    head: t.head,
    views: t.views,
    seed: t.seed,
    validationShare: t.validationShare,
    epochs: t.epochs,
    ...(t.maxPerGroup !== null ? { maxPerGroup: t.maxPerGroup } : {}),
    ...(t.learningRate !== null ? { learningRate: t.learningRate } : {}),
    ...(t.l2 !== null ? { l2: t.l2 } : {}),
    progress: context.progress,
    log: context.log,
  };
}

/**
 * Runs the train stage: checks that artifacts/base holds a base (its base.json names the
 * backbone the bundle will carry), then trains.
 *
 * @example
 * await runTrainStage(params, { root: '.', log: console.error });
 */
export async function runTrainStage(params: Params, context: StageContext): Promise<void> {
  const base = await readBaseDescription(resolve(context.root, PIPELINE_PATHS.base));
  context.log?.(`train: on ${base.name} cut at ${base.outputLayer}, ${base.inputSize}px input`);
  await trainBundle(trainOptions(params, context));
}

function ingestStage(params: Params, context: StageContext): StageDefinition {
  const p = params.ingest;
  const at = (path: string) => resolve(context.root, path);
  const deps: StageInput[] = [sourceInput(params, context)];
  if (p.groups) deps.push(pathInput(context.root, p.groups));
  return {
    name: 'ingest',
    params: p,
    deps,
    outs: [pathInput(context.root, PIPELINE_PATHS.ingest, { describedBy: INGEST_FILES.manifest })],
    run: async () => {
      await ingest({
        ...p,
        groupsCsv: p.groups,
        root: context.root,
        outDir: at(PIPELINE_PATHS.ingest),
        cacheDir: at(PIPELINE_PATHS.ingestCache),
        progress: context.progress,
        log: context.log,
      });
    },
  };
}

function sourceInput(params: Params, context: StageContext): StageInput {
  const { source, sha256 } = params.ingest;
  if (source.startsWith('s3://')) {
    const remote = openSource(source, {
      root: context.root,
      cacheDir: '',
      attempts: params.ingest.attempts,
    });
    return valueInput(source, () => remote.fingerprint());
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return valueInput(source, async () => ({ source, sha256 }));
  return pathInput(context.root, source, { folder: 'listing' });
}

function baseStage(params: Params, context: StageContext): StageDefinition {
  return {
    name: 'base',
    params: params.base,
    deps: [pathInput(context.root, params.base.path)],
    outs: [pathInput(context.root, PIPELINE_PATHS.base)],
    run: async () => {
      const base = await buildBase({
        ...params.base,
        path: resolve(context.root, params.base.path),
        outDir: resolve(context.root, PIPELINE_PATHS.base),
      });
      context.log?.(
        `base: ${base.name} cut at ${base.outputLayer}, ${base.inputSize}x${base.inputSize} → ` +
          `[${base.featureShape.join(', ')}], weights ${base.weightsSha256.slice(0, 12)}`,
      );
    },
  };
}

function trainStage(params: Params, context: StageContext): StageDefinition {
  return {
    name: 'train',
    params: params.train,
    deps: [
      pathInput(context.root, `${PIPELINE_PATHS.ingest}/${INGEST_FILES.manifest}`),
      pathInput(context.root, PIPELINE_PATHS.base),
    ],
    outs: [pathInput(context.root, PIPELINE_PATHS.model)],
    run: () => runTrainStage(params, context),
  };
}

function evaluateStage(params: Params, context: StageContext): StageDefinition {
  const e = params.evaluate;
  const deps = [pathInput(context.root, PIPELINE_PATHS.model)];
  if (e.data) deps.push(pathInput(context.root, e.data, { folder: 'listing' }));
  else deps.push(pathInput(context.root, `${PIPELINE_PATHS.ingest}/${INGEST_FILES.manifest}`));
  if (e.groups) deps.push(pathInput(context.root, e.groups));
  return {
    name: 'evaluate',
    params: e,
    deps,
    outs: [pathInput(context.root, PIPELINE_PATHS.evaluate)],
    run: async () => {
      await evaluateModel(evaluateOptions(params, context));
    },
  };
}

/**
 * The options `evaluateModel` gets from the evaluate section: by default the ingested images and
 * groups, and the model the train stage wrote.
 *
 * @example
 * await evaluateModel(evaluateOptions(params, { root: '.' }));
 */
export function evaluateOptions(
  params: Params,
  context: StageContext,
): Parameters<typeof evaluateModel>[0] {
  const e = params.evaluate;
  const at = (path: string) => resolve(context.root, path);
  const ingestedGroups = at(join(PIPELINE_PATHS.ingest, INGEST_FILES.groups));
  const groups = e.groups ? at(e.groups) : !e.data && existsSync(ingestedGroups) ? ingestedGroups : null;
  return {
    modelDir: at(PIPELINE_PATHS.model),
    dataDir: e.data ? at(e.data) : at(join(PIPELINE_PATHS.ingest, INGEST_FILES.images)),
    groupsCsv: groups,
    validationOnly: e.validationOnly,
    outDir: at(PIPELINE_PATHS.evaluate),
    mistakes: e.mistakes,
    batchSize: e.batchSize,
    progress: context.progress,
    log: context.log,
  };
}
