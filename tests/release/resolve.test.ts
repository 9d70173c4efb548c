import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

import { type Manifest, publishedPackages } from './packs.js';

const run = promisify(execFile);

// How a consumer's TypeScript (module node16) and Node.js see each built package, with the
// workspace-only source condition off. Both run inside the package folder and import it by its
// own name, so the `exports` map is what resolves, not a path.
const PACKAGES = publishedPackages();
const BY_NAME = PACKAGES.map((pkg) => [pkg.manifest.name, pkg] as const);

type Mode = 'import' | 'require';

/** The types file the exports map promises for `import` or `require` of the package root. */
function promisedTypes(manifest: Manifest, mode: Mode): string | undefined {
  const root = manifest.exports?.['.'] as Record<string, unknown> | undefined;
  const branch = root?.[mode] as { types?: string } | undefined;
  const flat = mode === 'import' ? (root?.types as string | undefined) : undefined;
  return (branch?.types ?? flat)?.replace(/^\.\//, '');
}

function resolveTypes(dir: string, name: string, mode: Mode): string | undefined {
  const options = {
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
  };
  const format = mode === 'import' ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS;
  const consumer = join(dir, 'consumer.ts');
  const { resolvedModule } = ts.resolveModuleName(
    name, consumer, options, ts.sys, undefined, undefined, format,
  );
  return resolvedModule?.resolvedFileName;
}

/** Node.js code that prints the export names seen by import() and, when asked, require(). */
function exportNamesScript(name: string, withRequire: boolean): string {
  const quoted = JSON.stringify(name);
  const cjs = withRequire
    ? `Object.keys((await import('node:module')).createRequire(process.cwd() + '/')(${quoted}))`
    : 'esm';
  return [
    `const esm = Object.keys(await import(${quoted})).filter((key) => key !== 'default').sort();`,
    `const cjs = ${cjs}.sort();`,
    'console.log(JSON.stringify({ esm, cjs }));',
  ].join('\n');
}

describe.each(BY_NAME)('%s for consumers', (name, { dir, manifest }) => {
  const hasRequire = promisedTypes(manifest, 'require') !== undefined;

  it('resolves ESM types to the declared .d.ts', () => {
    const promised = promisedTypes(manifest, 'import');

    expect(promised).toBeDefined();
    expect(resolveTypes(dir, name, 'import')).toBe(join(dir, promised!));
  });

  it.runIf(hasRequire)('resolves CommonJS types to the declared .d.cts', () => {
    const promised = promisedTypes(manifest, 'require');

    expect(promised).toMatch(/\.d\.cts$/);
    expect(resolveTypes(dir, name, 'require')).toBe(join(dir, promised!));
  });

  const loads = hasRequire ? 'import() and require(), with the same exports' : 'import()';
  it(`loads with ${loads}`, async () => {
    const script = exportNamesScript(name, hasRequire);

    const args = ['--input-type=module', '-e', script];
    const { stdout } = await run(process.execPath, args, { cwd: dir });
    const lastLine = stdout.trim().split('\n').at(-1) ?? '{}';
    const { esm, cjs } = JSON.parse(lastLine) as { esm: string[]; cjs: string[] };

    expect(esm.length).toBeGreaterThan(0);
    expect(cjs).toEqual(esm);
  });
});
