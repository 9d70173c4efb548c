import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import {
  type Manifest,
  ROOT,
  SOURCE_CONDITION,
  entryPoints,
  packedFiles,
  publishedPackages,
} from './packs.js';

// Reads what `pnpm -r build` left in each dist/: root `pnpm test` builds before vitest runs.
const PACKAGES = publishedPackages();

// Tests, their fixtures and the training data must never reach npm.
const NOT_FOR_NPM: Array<{ what: string; pattern: RegExp }> = [
  { what: 'test file', pattern: /\.test\.|(^|\/)tests?\// },
  { what: 'fixture', pattern: /fixture/i },
  { what: 'TypeScript source', pattern: /^src\// },
  { what: 'smear image or data table', pattern: /\.(jpe?g|csv)$/i },
  { what: 'model weights', pattern: /(^|\/)weights\.bin$|\.h5$/ },
  { what: 'packed tarball', pattern: /\.tgz$/ },
];

const packs = new Map<string, string[]>();

beforeAll(async () => {
  const listed = await Promise.all(
    PACKAGES.map(async ({ dir }) => [dir, await packedFiles(dir)] as const),
  );
  for (const [dir, files] of listed) packs.set(dir, files);
});

function filesOf(dir: string): string[] {
  const files = packs.get(dir) ?? [];
  if (!files.some((file) => file.startsWith('dist/'))) {
    throw new Error(`${dir} packs no dist/: run \`pnpm -r build\` before these tests.`);
  }
  return files;
}

it('finds the four published packages', () => {
  expect(PACKAGES.map(({ manifest }) => manifest.name).sort()).toEqual([
    '@bloodcell/core',
    '@bloodcell/node',
    '@bloodcell/pipeline',
    '@bloodcell/web-demo',
  ]);
});

const BY_NAME = PACKAGES.map((pkg) => [pkg.manifest.name, pkg] as const);

describe.each(BY_NAME)('npm pack of %s', (_name, pkg) => {
  const { dir, folder, manifest } = pkg;

  it('holds the build, the README and the licence', () => {
    const files = filesOf(dir);

    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
    expect(files).toContain('LICENSE');
  });

  it('holds no tests, fixtures, sources or data', () => {
    const offending = filesOf(dir).flatMap((file) =>
      NOT_FOR_NPM.filter(({ pattern }) => pattern.test(file)).map(({ what }) => `${file}: ${what}`),
    );

    expect(offending).toEqual([]);
  });

  it('holds every file that main, types, bin and exports point at', () => {
    const files = new Set(filesOf(dir));

    expect(entryPoints(manifest).filter((entry) => !files.has(entry))).toEqual([]);
  });

  // A test-only module (localise/fixtures.json, keras-fixtures.ts) imported by the library would
  // show up among the source maps' sources.
  it('bundles no test or fixture module into dist', () => {
    const maps = filesOf(dir).filter((file) => file.endsWith('.map'));
    const bundledTestCode = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(join(dir, map), 'utf8')) as { sources: string[] };
      const testCode = sources.filter((source) => /\.test\.|fixture/i.test(source));
      return testCode.map((source) => `${map}: ${source}`);
    });

    expect(bundledTestCode).toEqual([]);
  });

  it('declares what npm shows and publishes with provenance', () => {
    expect(manifest.license).toBe('MIT');
    expect(manifest.description).toEqual(expect.any(String));
    expect(manifest.keywords).toEqual(expect.arrayContaining([expect.any(String)]));
    expect(manifest.homepage).toMatch(/^https:\/\/github\.com\/bloodcell\/bloodcell\b/);
    expect(manifest.engines).toEqual({ node: expect.stringMatching(/^>=\d/) });
    expect(manifest.repository).toEqual({
      type: 'git',
      url: 'git+https://github.com/bloodcell/bloodcell.git',
      directory: `packages/${folder}`,
    });
    expect(manifest.publishConfig).toEqual({ access: 'public', provenance: true });
    expect(manifest.files).toEqual(['dist', 'README.md']);
  });

  it('lists the workspace source condition first and types before the code', () => {
    expect(misorderedConditions(manifest)).toEqual([]);
  });
});

describe('@bloodcell/node', () => {
  const node = PACKAGES.find(({ manifest }) => manifest.name === '@bloodcell/node');

  it('packs the bloodcell command with a node shebang', () => {
    const bin = node?.manifest.bin?.bloodcell;

    expect(bin, '@bloodcell/node declares no `bloodcell` bin').toBeDefined();
    const path = bin!.replace(/^\.\//, '');
    expect(filesOf(node!.dir)).toContain(path);
    expect(readFileSync(join(node!.dir, path), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });
});

it('ships an MIT licence at the root, copied unchanged into each package', () => {
  const licence = readFileSync(join(ROOT, 'LICENSE'), 'utf8');

  expect(licence).toMatch(/^MIT License/);
  expect(licence).toContain('bloodcell contributors');
  for (const { dir } of PACKAGES) expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toBe(licence);
});

/** Conditions in an order that Node or TypeScript would read wrongly, as `path: keys`. */
function misorderedConditions(manifest: Manifest): string[] {
  const problems: string[] = [];
  const visit = (node: unknown, path: string) => {
    if (typeof node !== 'object' || node === null) return;
    const keys = Object.keys(node);
    // Node takes the first matching condition: any later place would hide src/ from the workspace.
    if (keys.includes(SOURCE_CONDITION) && keys[0] !== SOURCE_CONDITION) {
      problems.push(`${path}: ${keys.join(', ')}`);
    }
    // TypeScript reads `types` only when it comes before the conditions that match code.
    const typesAt = keys.indexOf('types');
    const codeAt = keys.findIndex((key) => ['import', 'require', 'node', 'default'].includes(key));
    if (typesAt > codeAt && codeAt !== -1) problems.push(`${path}: ${keys.join(', ')}`);
    for (const [key, value] of Object.entries(node)) visit(value, `${path}.${key}`);
  };
  visit(manifest.exports, 'exports');
  return problems;
}
