import { defineConfig } from 'tsup';

export default defineConfig({
  // Workers are files of their own: ClassifierPool, OnnxHost and PreparePool start threads on them.
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    'classifier-worker': 'src/classifier-pool/worker.ts',
    'onnx-worker': 'src/onnx-classifier/worker.ts',
    'prepare-worker': 'src/prepare-pool/worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  shims: true,
  // TF.js keeps one global engine: bundling a second copy would split backends and tensors.
  external: [/^@tensorflow\//, /^@bloodcell\//, 'sharp', 'onnxruntime-node'],
});
