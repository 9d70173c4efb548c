import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ["src/index.ts", "src/cli.ts"],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  shims: true,
  // TF.js keeps one global engine: bundling a second copy would split backends and tensors.
  external: [/^@tensorflow\//, /^@bloodcell\//, 'sharp'],
});
