export { listLabelledImages, readGroups, type GroupRecord, type LabelledImage } from './dataset/index.js';
export { groupFolds, splitByGroup, type Grouped } from './split/index.js';
export { FeatureCache, extractorId, sha256 } from './feature-cache/index.js';
export {
  extractFeatureSets,
  extractFeatures,
  type ExtractOptions,
  type FeatureBase,
  type FeatureSet,
  type FeatureTable,
} from './extract/index.js';
export {
  DEFAULT_EPOCHS,
  predictHead,
  trainHead,
  type EpochLog,
  type HeadTrainingOptions,
  type LabelledFeatures,
  type TrainedHead,
} from './train-head/index.js';
export { DEFAULT_TRAINING_VIEWS, HEAD_DEFAULTS, trainBundle, withViewRows, type TrainOptions, type TrainResult } from './train/index.js';
export { hashImageFiles, trainingInputs, upToDateBundle, type TrainingSettings } from './train-inputs/index.js';
export { loadExtractor, type ExtractorOptions, type LoadedExtractor } from './base-extractor/index.js';
export { seededRandom, shuffleInPlace } from './random/index.js';
export { crossValidate, type CrossValidateOptions, type CrossValidationResult } from './cross-validate/index.js';
export {
  STAGE_NAMES,
  ParamsError,
  loadParams,
  paramsSchema,
  validateParams,
  type BaseParams,
  type EvaluateParams,
  type IngestParams,
  type Params,
  type StageName,
  type TrainParams,
} from './params/index.js';
export { codeVersion, hashFile, hashFolder, hashListing, hashValue, listFiles, stableJson, type CodeVersion } from './fingerprint/index.js';
export { LOCK_FILE, readLock, writeLock, type PipelineLock, type StageRecord } from './lock/index.js';
export {
  StageFailedError,
  paramChanges,
  pipelineStatus,
  repro,
  type RunnerOptions,
  type StageDefinition,
  type StageInput,
  type StageOutput,
  type StageStatus,
} from './runner/index.js';
export { isRunning, pathInput, removeLeftovers, valueInput } from './runner/inputs.js';
export { PipelineBusyError, claimRun } from './run-guard/index.js';
export { RetryExhaustedError, describeError, isTransientError, withRetry, type RetryOptions } from './retry/index.js';
export { IMAGE_EXTENSIONS, findLabelledImages, isImageFile, type LabelledKey, type Layout } from './layout/index.js';
export { localSource, openSource, type ImageSource, type OpenSourceOptions, type SourceFile } from './source/index.js';
export { createS3Client, parseS3Url, s3Source, type S3SourceOptions } from './s3-source/index.js';
export {
  ArchiveError,
  archiveSource,
  checkArchiveUrl,
  downloadArchive,
  extractArchive,
  type ArchiveSourceOptions,
} from './archive-source/index.js';
export {
  INGEST_FILES,
  ingest,
  summaryLine as ingestSummaryLine,
  type CrossClassDuplicate,
  type DroppedDuplicate,
  type IngestManifest,
  type IngestOptions,
  type ManifestImage,
  type QuarantinedImage,
} from './ingest/index.js';
export { BASE_FILE, buildBase, readBaseDescription, type BaseDescription, type BaseOptions } from './base/index.js';
export {
  evaluateModel,
  reliabilityBins,
  reviewSummary,
  scoreCard,
  sourcePhotoSummary,
  summaryLine as evaluateSummaryLine,
  type EvaluateOptions,
  type Evaluation,
  type Mistake,
  type ReliabilityBin,
  type ReviewSummary,
  type ScoreCard,
  type Scored,
  type SourcePhotoSummary,
} from './evaluate/index.js';
export { confusionMatrixSvg, escapeHtml, reliabilitySvg, renderReport } from './report/index.js';
export {
  PIPELINE_PATHS,
  evaluateOptions,
  pipelineStages,
  runTrainStage,
  trainOptions,
  type StageContext,
} from './stages/index.js';
export { COMMANDS_USAGE, PIPELINE_COMMANDS, pipelineSetup, runPipelineCommand, type PipelineCommand } from './commands/index.js';
export {
  LAST_CONV,
  applyLastConv,
  fineTuneLastConv,
  lastConvOf,
  setLastConvKernel,
  type FineTuneOptions,
  type FineTuned,
  type LastConv,
} from './fine-tune/index.js';
