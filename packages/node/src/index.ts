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
export { loadClassifier, readBundleMetadata, writeBundle } from './bundle-store/index.js';
export { MODEL_FILE, WEIGHTS_FILE, fileSystemModelSource, writeModelFiles } from './model-files/index.js';
export {
  loadKerasH5Weights,
  loadVgg16,
  openKerasH5,
  type KerasH5File,
  type KerasH5Layer,
  type KerasLoadReport,
  type Vgg16Source,
} from './keras-weights/index.js';
export { DEFAULT_MODEL_DIR, resolveModelDir } from './model-location/index.js';
export { formatSeconds, progressBar, type Progress, type ProgressOptions } from './progress/index.js';
export { SUPPORTED_LAYERS, layersModelToOnnx, type OnnxExportOptions } from './onnx/index.js';
export { loadOnnxRuntime, onnxRuntimeAvailable, type OnnxRuntime } from './onnx-runtime/index.js';
export {
  OnnxClassifier,
  loadOnnxClassifier,
  sessionOptions,
  writeBackboneInput,
  type OnnxClassifierOptions,
  type RawPixels,
} from './onnx-classifier/index.js';
export { ClassifierPool, type ClassifierPoolOptions } from './classifier-pool/index.js';
export {
  INFERENCE_ENGINES,
  openClassifier,
  type InferenceEngine,
  type OpenClassifierOptions,
  type OpenedClassifier,
} from './engine/index.js';
export {
  openBackboneRunner,
  type BackboneEngine,
  type BackboneRunner,
  type BackboneRunnerOptions,
} from './backbone-runner/index.js';
