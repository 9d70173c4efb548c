import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  // Tests run against the TypeScript sources of sibling packages, no build needed.
  resolve: {
    alias: [
      { find: /^@bloodcell\/core$/, replacement: source('core') },
      { find: /^@bloodcell\/node$/, replacement: source('node') },
      { find: /^@bloodcell\/pipeline$/, replacement: source('pipeline') },
    ],
  },
  test: {
    setupFiles: ['test-support/vitest-setup.ts'],
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
    // Two cores: TF.js work is CPU-bound, so more workers only thrash.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 600_000,
  },
});
