import { readFile } from 'node:fs/promises';

import { BloodcellError, CROP_VIEWS, HEAD_KINDS, type HeadKind } from '@bloodcell/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** The four stages, in the order they run. */
export const STAGE_NAMES = ['ingest', 'base', 'train', 'evaluate'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** A params.yaml that is missing, unreadable or breaks the schema; the message names the key. */
export class ParamsError extends BloodcellError {}

const rule = (text: string) => ({ error: text });
const positiveInteger = z
  .number(rule('must be a positive integer'))
  .int(rule('must be a positive integer'))
  .positive(rule('must be a positive integer'));
const nonNegativeInteger = z
  .number(rule('must be a non-negative integer'))
  .int(rule('must be a non-negative integer'))
  .nonnegative(rule('must be a non-negative integer'));
const positiveNumber = z
  .number(rule('must be a positive number'))
  .positive(rule('must be a positive number'));
const path = z.string(rule('must be a path (a string)')).min(1, rule('must be a non-empty path'));
const oneOf = <const T extends readonly [string, ...string[]]>(choices: T) =>
  z.enum(choices, rule(`must be one of ${choices.join(', ')}`));

const ingestSchema = z.strictObject({
  source: z
    .string(rule('must be a local folder, s3://bucket/prefix or an https:// .zip/.tar.gz URL'))
    .min(1, rule('must be a local folder, s3://bucket/prefix or an https:// .zip/.tar.gz URL')),
  sha256: z
    .string(rule('must be 64 hex digits or null'))
    .regex(/^[0-9a-f]{64}$/i, rule('must be 64 hex digits or null'))
    .nullable()
    .default(null),
  groups: path.nullable().default(null),
  copyLocal: z.boolean(rule('must be true or false')).default(false),
  conflicts: oneOf(['drop', 'keep-first']).default('drop'),
  attempts: positiveInteger.default(5),
  allowLoopbackHttp: z.boolean(rule('must be true or false')).default(false),
});

const baseSchema = z.strictObject({
  name: oneOf(['mobilenet_v2', 'vgg16']).default('mobilenet_v2'),
  path,
  layer: z
    .string(rule('must be a layer name'))
    .min(1, rule('must be a layer name'))
    .nullable()
    .default(null),
  inputSize: z
    .number(rule('must be an integer >= 32 or null'))
    .int(rule('must be an integer >= 32 or null'))
    .min(32, rule('must be an integer >= 32 or null'))
    .nullable()
    .default(null),
});

const trainSchema = z.strictObject({
  fit: oneOf(['cell-crop', 'whole-image']).default('cell-crop'),
  head: oneOf(HEAD_KINDS as unknown as readonly [HeadKind, ...HeadKind[]]).default('pooled'),
  /** CROP_VIEWS added as extra training views (pooled head only). */
  views: z.array(oneOf(CROP_VIEWS.map((view) => view.name) as [string, ...string[]])).default([]),
  seed: nonNegativeInteger.default(7),
  validationShare: z
    .number(rule('must be a number between 0 and 0.5'))
    .gt(0, rule('must be a number between 0 and 0.5'))
    .max(0.5, rule('must be a number between 0 and 0.5'))
    .default(0.2),
  maxPerGroup: positiveInteger.nullable().default(null),
  epochs: positiveInteger.default(40),
  learningRate: positiveNumber.nullable().default(null),
  l2: z
    .number(rule('must be a non-negative number'))
    .nonnegative(rule('must be a non-negative number'))
    .nullable()
    .default(null),
});

const evaluateSchema = z.strictObject({
  data: path.nullable().default(null),
  groups: path.nullable().default(null),
  validationOnly: z.boolean(rule('must be true or false')).default(true),
  mistakes: nonNegativeInteger.default(12),
  batchSize: positiveInteger.default(8),
});

/** The schema of params.yaml: one section per stage. */
export const paramsSchema = z.strictObject({
  ingest: ingestSchema,
  base: baseSchema,
  train: trainSchema.prefault({}),
  evaluate: evaluateSchema.prefault({}),
});

export type Params = z.infer<typeof paramsSchema>;
export type IngestParams = Params['ingest'];
export type BaseParams = Params['base'];
export type TrainParams = Params['train'];
export type EvaluateParams = Params['evaluate'];

/**
 * Checks parsed params against the schema and fills in defaults; throws a ParamsError whose
 * lines each name a bad key, what it must be, and what it was.
 *
 * @example
 * validateParams({ ingest: { source: 'data' }, base: { path: 'm' }, train: { epochs: 'ten' } });
 * // ParamsError: train.epochs must be a positive integer, got "ten"
 */
export function validateParams(raw: unknown, origin = 'params.yaml'): Params {
  const result = paramsSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => describeIssue(issue, raw));
  throw new ParamsError('BAD_PARAMS', `${origin}: ${lines.join('; ')}`);
}

/**
 * Reads and validates a params.yaml.
 *
 * @example
 * const params = await loadParams('params.yaml');
 * params.train.epochs; // 40
 */
export async function loadParams(file: string): Promise<Params> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ParamsError(
      'PARAMS_NOT_FOUND',
      `Cannot read ${file}: run from the repository root or pass --params FILE.`,
      { cause },
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    throw new ParamsError('BAD_PARAMS', `${file} is not valid YAML: ${(cause as Error).message}`, {
      cause,
    });
  }
  return validateParams(raw, file);
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const key = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = key === '' ? '' : `${key}.`;
    const known = knownKeys(issue.path);
    return issue.keys
      .map((name) => `${where}${name} is not a known key (known: ${known.join(', ')})`)
      .join('; ');
  }
  const value = valueAt(raw, issue.path);
  if (value === undefined) return `${key} is missing: it ${issue.message}`;
  return `${key} ${issue.message}, got ${JSON.stringify(value)}`;
}

function knownKeys(at: readonly PropertyKey[]): string[] {
  let shape: z.ZodType = paramsSchema;
  for (const part of at) {
    const inner = unwrap(shape);
    if (!(inner instanceof z.ZodObject)) return [];
    shape = inner.shape[String(part)] as z.ZodType;
  }
  const inner = unwrap(shape);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  const wrapped =
    schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodNullable;
  if (wrapped) return unwrap(schema.unwrap() as z.ZodType);
  return schema;
}

function valueAt(raw: unknown, at: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const part of at) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}
