import { BloodcellError } from '@bloodcell/core';
import { formatSeconds } from '@bloodcell/node';

import { type CodeVersion, stableJson } from '../fingerprint/index.js';
import { type PipelineLock, type StageRecord, readLock, writeLock } from '../lock/index.js';
import { claimRun } from '../run-guard/index.js';
import { removeLeftovers } from './inputs.js';

/** Something a stage reads, by a name (a path relative to the root, or a URL) and a fingerprint. */
export interface StageInput {
  name: string;
  /** The absolute path, for inputs and outputs on disk. */
  path?: string;
  /** A hash of the current content, or null when it does not exist. */
  fingerprint(): Promise<string | null>;
}

/** Something a stage writes; it must write it atomically (temp + rename) so a crash leaves the old. */
export type StageOutput = StageInput;

/** One step of the pipeline, with everything that decides whether it has to run again. */
export interface StageDefinition {
  name: string;
  /** The stage's params section; a change to any key reruns it. */
  params: Record<string, unknown>;
  deps: StageInput[];
  outs: StageOutput[];
  run(): Promise<void>;
}

export interface RunnerOptions {
  lockFile: string;
  code: CodeVersion;
  /** Run the selected stages even when nothing changed. */
  force?: boolean;
  log?: (line: string) => void;
}

/** Whether a stage would run, and why. */
export interface StageStatus {
  stage: string;
  /** `run`: an input or output changed; `after-upstream`: only an upstream stage is stale. */
  state: 'up-to-date' | 'run' | 'after-upstream';
  reasons: string[];
}

/** A stage that failed mid-run; its previous outputs and the lock were left as they were. */
export class StageFailedError extends BloodcellError {}

/**
 * Says, for each stage up to `target` (all by default), whether `repro` would run it and why,
 * without running anything.
 *
 * @example
 * for (const s of await pipelineStatus(stages, { lockFile: 'pipeline.lock', code })) {
 *   console.log(s.stage, s.state, s.reasons.join('; '));
 * }
 */
export async function pipelineStatus(
  stages: readonly StageDefinition[],
  options: RunnerOptions & { target?: string },
): Promise<StageStatus[]> {
  const lock = await readLock(options.lockFile);
  const selected = selectStages(stages, options.target);
  const stale = new Set<string>();
  const statuses: StageStatus[] = [];

  for (const stage of selected) {
    const { reasons } = await compare(stage, lock.stages[stage.name], options);
    const upstream = upstreamOf(stage, selected).filter((name) => stale.has(name));
    let state: StageStatus['state'] = reasons.length > 0 ? 'run' : 'up-to-date';
    if (state === 'up-to-date' && upstream.length > 0) {
      state = 'after-upstream';
      reasons.push(`runs if the outputs of ${upstream.join(', ')} change`);
    }
    if (state !== 'up-to-date') stale.add(stage.name);
    statuses.push({ stage: stage.name, state, reasons });
  }
  return statuses;
}

/**
 * Runs the stages up to `target` in order, skipping each one whose inputs (files, params section,
 * code version) and outputs match its record in the lock file; records each success in the lock,
 * atomically. A stage that throws leaves its old outputs (stages write via temp + rename) and its
 * lock record untouched, so the next run resumes from it. Only one run works in a folder at a
 * time (`claimRun`).
 *
 * @throws PipelineBusyError when another run holds the folder; StageFailedError when a stage fails.
 * @example
 * await repro(stages, { lockFile: 'pipeline.lock', code: await codeVersion(), log: console.error });
 */
export async function repro(
  stages: readonly StageDefinition[],
  options: RunnerOptions & { target?: string },
): Promise<StageStatus[]> {
  const release = await claimRun(options.lockFile);
  try {
    return await runStages(stages, options);
  } finally {
    await release();
  }
}

async function runStages(
  stages: readonly StageDefinition[],
  options: RunnerOptions & { target?: string },
): Promise<StageStatus[]> {
  const log = options.log ?? (() => {});
  await removeLeftovers(options.lockFile);
  let lock: PipelineLock = await readLock(options.lockFile);
  const statuses: StageStatus[] = [];

  for (const stage of selectStages(stages, options.target)) {
    const previous = lock.stages[stage.name];
    const { reasons, deps } = await compare(stage, previous, options);
    if (options.force && reasons.length === 0) reasons.push('forced');
    if (reasons.length === 0) {
      log(`${stage.name}: up to date (last run ${previous!.completedAt}), skipped`);
      statuses.push({ stage: stage.name, state: 'up-to-date', reasons });
      continue;
    }

    log(`${stage.name}: running (${reasons.join('; ')})`);
    for (const out of stage.outs) {
      const removed = out.path ? await removeLeftovers(out.path) : [];
      if (removed.length > 0) log(`${stage.name}: removed ${removed.join(', ')} left by a killed run`);
    }
    const started = Date.now();
    try {
      await stage.run();
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new StageFailedError(
        'STAGE_FAILED',
        `stage ${stage.name} failed: ${message}\nIts previous outputs and its record in ` +
          `${options.lockFile} are unchanged; run repro again to resume.`,
        { cause },
      );
    }

    const seconds = (Date.now() - started) / 1000;
    const record: StageRecord = {
      code: options.code,
      params: stage.params,
      deps,
      outs: await fingerprints(stage.outs),
      completedAt: new Date().toISOString(),
      seconds: Math.round(seconds * 10) / 10,
    };
    // Re-read so that a lock edited by another stage's command in between is not clobbered.
    lock = await readLock(options.lockFile);
    lock = { schema: 1, stages: { ...lock.stages, [stage.name]: record } };
    await writeLock(options.lockFile, lock);
    log(`${stage.name}: done in ${formatSeconds(seconds)}`);
    statuses.push({ stage: stage.name, state: 'run', reasons });
  }
  return statuses;
}

/**
 * The differences between two params sections as `key old → new` lines.
 *
 * @example
 * paramChanges('train', { epochs: 40 }, { epochs: 10 }); // ['train.epochs 40 → 10']
 */
export function paramChanges(prefix: string, before: unknown, after: unknown): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => paramChanges(`${prefix}.${key}`, before[key], after[key]));
  }
  if (stableJson(before) === stableJson(after)) return [];
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return [`${prefix} ${show(before)} → ${show(after)}`];
}

async function compare(
  stage: StageDefinition,
  record: StageRecord | undefined,
  options: RunnerOptions,
): Promise<{ reasons: string[]; deps: Record<string, string> }> {
  const deps: Record<string, string> = {};
  const reasons: string[] = [];
  for (const dep of stage.deps) {
    const fingerprint = await dep.fingerprint();
    if (fingerprint === null) reasons.push(`input ${dep.name} is missing`);
    else deps[dep.name] = fingerprint;
  }
  if (!record) return { reasons: [...reasons, 'never ran'], deps };

  if (record.code.version !== options.code.version || record.code.sha256 !== options.code.sha256) {
    reasons.push(
      `code changed (${record.code.version} ${record.code.sha256.slice(0, 8)} → ` +
        `${options.code.version} ${options.code.sha256.slice(0, 8)})`,
    );
  }
  const changed = paramChanges(stage.name, record.params, stage.params);
  if (changed.length > 0) reasons.push(`params changed: ${changed.join(', ')}`);

  for (const [name, fingerprint] of Object.entries(deps)) {
    if (record.deps[name] === undefined) reasons.push(`new input ${name}`);
    else if (record.deps[name] !== fingerprint) reasons.push(`input ${name} changed`);
  }
  for (const name of Object.keys(record.deps)) {
    if (!stage.deps.some((dep) => dep.name === name)) reasons.push(`input ${name} no longer used`);
  }

  const outs = await fingerprints(stage.outs);
  for (const out of stage.outs) {
    if (outs[out.name] === undefined) reasons.push(`output ${out.name} is missing`);
    else if (record.outs[out.name] !== outs[out.name])
      reasons.push(`output ${out.name} changed since the run`);
  }
  return { reasons, deps };
}

async function fingerprints(items: readonly StageInput[]): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const item of items) {
    const fingerprint = await item.fingerprint();
    if (fingerprint !== null) result[item.name] = fingerprint;
  }
  return result;
}

function selectStages(stages: readonly StageDefinition[], target?: string): StageDefinition[] {
  if (target === undefined) return [...stages];
  const index = stages.findIndex((stage) => stage.name === target);
  if (index < 0) {
    throw new BloodcellError(
      'UNKNOWN_STAGE',
      `No stage "${target}"; the stages are ${stages.map((stage) => stage.name).join(', ')}.`,
    );
  }
  const wanted = new Set([target]);
  // Walk backwards so every stage a wanted stage reads from is wanted too.
  for (let i = index; i >= 0; i--) {
    const stage = stages[i]!;
    if (wanted.has(stage.name)) for (const name of upstreamOf(stage, stages)) wanted.add(name);
  }
  return stages.filter((stage) => wanted.has(stage.name));
}

/** Names of the earlier stages whose outputs this stage reads. */
function upstreamOf(stage: StageDefinition, stages: readonly StageDefinition[]): string[] {
  const inside = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);
  const earlier = stages.slice(0, stages.indexOf(stage));
  return earlier
    .filter((other) => other.outs.some((out) => stage.deps.some((dep) => inside(dep.name, out.name))))
    .map((other) => other.name);
}
