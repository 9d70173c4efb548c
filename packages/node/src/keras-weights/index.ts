/** Pretrained Keras weights from disk: HDF5 weights files and TF.js layers exports. */
export { loadKerasH5Weights } from './h5-weights.js';
export type { KerasLoadReport } from './h5-weights.js';
export { openKerasH5 } from './h5-file.js';
export type { KerasH5File, KerasH5Layer } from './h5-file.js';
export { loadVgg16 } from './vgg16.js';
export type { Vgg16Source } from './vgg16.js';
