import { defineConfig } from 'tsup';

import { buildBrowserAssets } from './build/browser-assets.js';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  shims: true,
  external: [/^@tensorflow\//, /^@bloodcell\//, 'sharp'],
  // The page's script, styles and wasm go beside the server, where DEFAULT_ASSETS_DIR looks.
  onSuccess: async () => {
    await buildBrowserAssets('dist/public', { minify: true });
  },
});
