import { copyFile, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type BuildResult, build } from 'esbuild';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const requireHere = createRequire(import.meta.url);

/** The TF.js wasm binaries the page's privacy mode fetches from /assets/wasm/. */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/**
 * Bundles the page's script (with @bloodcell/core and TF.js for privacy mode) and styles into
 * `outDir`, and copies the TF.js wasm binaries beside them. Nothing is fetched from the network.
 *
 * @example
 * await buildBrowserAssets('dist/public', { minify: true });
 */
export async function buildBrowserAssets(outDir: string, options: { minify?: boolean } = {}): Promise<BuildResult> {
  await rm(outDir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: PACKAGE_DIR,
    entryPoints: [
      { in: 'src/browser/main.ts', out: 'app' },
      { in: 'src/page/styles.css', out: 'app' },
    ],
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    // Bundle sibling packages from their TypeScript sources: no build order between packages.
    conditions: ['bloodcell-source'],
    chunkNames: 'chunks/[name]-[hash]',
    minify: options.minify ?? false,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
  });

  const wasmDir = join(outDir, 'wasm');
  await mkdir(wasmDir, { recursive: true });
  const wasmPackage = dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  await Promise.all(WASM_FILES.map((file) => copyFile(join(wasmPackage, file), join(wasmDir, file))));
  return result;
}
