export { DEFAULT_ASSETS_DIR, DEFAULT_LIMITS, createApp, type AppLimits, type AppOptions } from './app.js';
export { startServer, type RunningServer, type StartServerOptions } from './server.js';
export { type CellClassifier, Lifecycle, type LifecycleState, syntheticSmear, warmUp } from './lifecycle/index.js';
export { InferenceQueue, QueueRefusedError, type Admission, type QueueLimits } from './queue/index.js';
export { ApiError, ERROR_STATUS, publicError } from './api/errors.js';
export { type ModelSummary, type RequestLimits, modelSummary } from './api/model.js';
export { openApiDocument } from './openapi/index.js';
export {
  differential,
  isCellResult,
  toCsv,
  type CellActivation,
  type CellResult,
  type Differential,
  type FailedImage,
  type ImageInfo,
  type ImageOutcome,
} from './report/index.js';
export { CONTENT_SECURITY_POLICY, securityHeaders } from './security/index.js';
export { requestLog, stderrLog, type LogSink } from './logging/index.js';
export { DEBUG_ENV, debugEnabled, memoryReport, type MemoryReport } from './debug/index.js';
