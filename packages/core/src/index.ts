export { CELL_TYPES, isCellType, type CellType, type CellProbabilities } from './cell-types.js';
export { BloodcellError, BundleError, ImageInputError, OptionError } from './errors.js';
export { VERSION } from './version.js';
export {
  CAFFE_BGR_MEANS,
  CROP_REVISION,
  PIXEL_SCALINGS,
  cropAndResize,
  imageSize,
  scalePixels,
  toImageTensor,
  type Box,
  type CellImage,
  type PixelImage,
  type PixelScaling,
} from './preprocess/index.js';
export {
  BACKBONE_NAMES,
  MOBILENET_V2_SPEC,
  VGG16_SPEC,
  cutAtLayer,
  type BackboneName,
  type BackboneSpec,
} from './backbones/index.js';
export { vgg16, VGG16_LAYER_NAMES } from './backbones/vgg16.js';
export {
  HEAD_KINDS,
  HEAD_LAYER,
  createHead,
  stackBackboneAndHead,
  type HeadKind,
  type HeadOptions,
} from './head/index.js';
export {
  DEFAULT_LOCALISE_OPTIONS,
  LOCALISER_VERSION,
  boxContains,
  locateCell,
  localiseOptions,
  type CellBox,
  type CellLocation,
  type LocaliseOptions,
  type SmearImage,
} from './localise/index.js';
export { FeatureExtractor, type CellRegion } from './features/index.js';
export {
  Classifier,
  batchSizeOf,
  type ClassifyBatchOptions,
  type ClassifyResult,
  type ReviewReason,
} from './classifier/index.js';
export { fitOutlierModel, outlierScore, poolFeatures, type OutlierModel } from './outlier/index.js';
export {
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  METADATA_FILE,
  parseBundleMetadata,
  type BundleMetadata,
  type PreprocessingSpec,
  type TrainingRecord,
} from './bundle/metadata.js';
export { loadClassifierFromUrl, modelArtifacts } from './bundle/artifacts.js';
export {
  UNCALIBRATED,
  applyTemperature,
  chooseReviewThreshold,
  fitTemperature,
  negativeLogLikelihood,
  type Calibration,
} from './calibration/index.js';
export {
  accuracy,
  argmax,
  balancedAccuracy,
  classificationReport,
  confusionMatrix,
  expectedCalibrationError,
  macroF1,
  precisionPerClass,
  recallPerClass,
  type ClassificationReport,
  type ConfusionMatrix,
} from './metrics/index.js';
export { explainClassification, type ActivationMap } from './explain/index.js';
export { CROP_VIEWS, applyCropView, applyCropViewToPixels, cropView, zoomBox, type CropView } from './views/index.js';
