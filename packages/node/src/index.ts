export * from '@bloodcell/core';
export {
  DEFAULT_MAX_PIXELS,
  SUPPORTED_IMAGE_FORMATS,
  decodeImage,
  type DecodeOptions,
  type DecodedImage,
  type RgbImage,
  type SupportedImageFormat,
} from './decode/index.js';
export {
  BACKEND_NAMES,
  currentBackend,
  selectBackend,
  type BackendName,
  type SelectBackendOptions,
} from './backend/index.js';
export { replaceFolderAtomic, writeFileAtomic } from './atomic/index.js';
export {
  MODEL_FILE,
  WEIGHTS_FILE,
  loadClassifier,
  modelFolderHandler,
  readBundleMetadata,
  writeBundle,
} from './bundle-store/index.js';
export { DEFAULT_MODEL_DIR, resolveModelDir } from './model-location/index.js';
export { formatSeconds, progressBar, type Progress, type ProgressOptions } from './progress/index.js';
