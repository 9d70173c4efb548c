export { listLabelledImages, readGroups, type GroupRecord, type LabelledImage } from './dataset/index.js';
export { groupFolds, splitByGroup, type Grouped } from './split/index.js';
export { FeatureCache, extractorId, sha256 } from './feature-cache/index.js';
export { extractFeatures, type ExtractOptions, type FeatureTable } from './extract/index.js';
export {
  predictHead,
  trainHead,
  type EpochLog,
  type HeadTrainingOptions,
  type LabelledFeatures,
  type TrainedHead,
} from './train-head/index.js';
export { HEAD_DEFAULTS, loadExtractor, trainBundle, type TrainOptions, type TrainResult } from './train/index.js';
export { seededRandom, shuffleInPlace } from './random/index.js';
export { crossValidate, type CrossValidateOptions, type CrossValidationResult } from './cross-validate/index.js';
