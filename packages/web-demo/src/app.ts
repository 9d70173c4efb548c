import { fileURLToPath } from 'node:url';

import { type BundleMetadata, type Classifier, VERSION } from '@bloodcell/core';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';

import { type ApiLimits, apiRoutes } from './api/index.js';
import { errorResponse, publicError } from './api/errors.js';
import { debugEnabled, memoryReport } from './debug/index.js';
import { type CellClassifier, Lifecycle, warmUp } from './lifecycle/index.js';
import { type LogSink, requestLog, stderrLog } from './logging/index.js';
import { renderPage } from './page/index.js';
import { InferenceQueue } from './queue/index.js';
import { securityHeaders } from './security/index.js';
import { assetTable, bundleTable, serveTable } from './static/index.js';

/** Request limits; each has a default sized for a 2-core machine. */
export interface AppLimits extends Partial<ApiLimits> {
  /**
   * Inference jobs running at once. Default 1 on TF.js (CPU-bound in this thread); 4 on the onnx
   * engine, so concurrent requests share forward passes and decode while others run.
   */
  maxConcurrent?: number;
  /** Requests allowed to wait for inference; beyond this the API answers 503. */
  maxWaiting?: number;
}

export interface AppOptions {
  classifier: CellClassifier;
  /**
   * The TF.js classifier for explain=1 when `classifier` cannot map its evidence (the onnx
   * engine); called on the first such request. Without it, explain=1 needs `classifier` to be one.
   */
  explainer?: () => Promise<Classifier>;
  /** Defaults to the classifier's own metadata. */
  metadata?: BundleMetadata;
  /** The bundle folder, served at /model/ for privacy mode; without it privacy mode is off. */
  modelDir?: string;
  /** The built page scripts and styles (dist/public); defaults to the folder beside this module. */
  assetsDir?: string;
  limits?: AppLimits;
  /** Shared with the server so shutdown can close it and wait for in-flight work. */
  queue?: InferenceQueue;
  lifecycle?: Lifecycle;
  /** Request and error log lines; stderr by default, `false` for silence. */
  log?: LogSink;
  /** Serves GET /api/v1/debug/memory (tensor count, RSS); default: BLOODCELL_DEBUG=1. */
  debug?: boolean;
}

export const DEFAULT_LIMITS: Required<AppLimits> = {
  maxBodyBytes: 32 * 1024 * 1024,
  maxFiles: 64,
  // 4096 x 4096: a large camera frame; the decoded float tensor of one is already ~200 MB.
  maxPixels: 4096 * 4096,
  batchSize: 4,
  // A 32 MB body needs ~60 s at 4 Mbit/s; a client slower than that holds a queue place too long.
  uploadTimeoutMs: 60_000,
  maxConcurrent: 1,
  maxWaiting: 8,
};

/** Requests the onnx engine runs at once: its coalescer merges them into one forward pass. */
const ONNX_CONCURRENCY = 4;

/**
 * The limits a server uses for `classifier`: the defaults, with the number of inference jobs
 * at once suited to its engine, then the caller's own.
 *
 * @example
 * const limits = resolveLimits(await openClassifier(dir), { maxWaiting: 16 }); // maxConcurrent 4 on onnx
 */
export function resolveLimits(classifier: CellClassifier, limits: AppLimits = {}): Required<AppLimits> {
  const engine = (classifier as { engine?: unknown }).engine;
  const maxConcurrent = engine === 'onnx' ? ONNX_CONCURRENCY : DEFAULT_LIMITS.maxConcurrent;
  return { ...DEFAULT_LIMITS, maxConcurrent, ...definedOnly(limits) };
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Where `pnpm build` puts the page's scripts, styles and wasm files, beside the built server. */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** Routes that only take POST: another method gets 405 with `Allow`, not a misleading 404. */
const POST_ONLY_ROUTES = ['/api/v1/classify', '/api/v1/preview'];

/**
 * The web demo as a Hono app: the upload page, the JSON API, the bundle files for privacy mode,
 * health probes. Starts warming the model up at once; /readyz answers 200 when that is done.
 *
 * @example
 * const app = createApp({ classifier: await loadClassifier(dir), modelDir: dir });
 * const response = await app.request('/api/v1/model');
 */
export function createApp(options: AppOptions): Hono {
  const { classifier } = options;
  const metadata = options.metadata ?? classifier.metadata;
  const limits = resolveLimits(classifier, options.limits);
  const log = options.log ?? stderrLog;
  const lifecycle = options.lifecycle ?? new Lifecycle();
  const queue = options.queue ?? new InferenceQueue(limits);
  const previewQueue = new InferenceQueue({ maxConcurrent: 2, maxWaiting: limits.maxWaiting });

  const app = new Hono();
  app.use('*', requestLog(log));
  app.use('*', securityHeaders());
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status < 500) {
      return c.json({ error: { code: 'BAD_REQUEST', message: error.message || 'The request is malformed.' } }, error.status);
    }
    const { code, message } = publicError(error);
    if (code === 'INTERNAL' && log) log(`error on ${c.req.method} ${c.req.path}: ${error.stack ?? String(error)}`);
    return errorResponse(c, code, message);
  });
  app.notFound((c) => {
    if (POST_ONLY_ROUTES.includes(c.req.path)) {
      c.header('Allow', 'POST');
      return errorResponse(c, 'METHOD_NOT_ALLOWED', `${c.req.path} takes POST with an image; see /api/v1/openapi.json.`);
    }
    return errorResponse(c, 'NOT_FOUND', `Nothing at ${c.req.method} ${c.req.path}. The API is under /api/v1.`);
  });

  const assets = assetTable(options.assetsDir ?? DEFAULT_ASSETS_DIR);
  if (!assets.has('app.js') && log) {
    log(`page scripts not found in ${options.assetsDir ?? DEFAULT_ASSETS_DIR}: run \`pnpm --filter @bloodcell/web-demo build\`; the API works without them.`);
  }
  app.get('/', (c) => c.html(renderPage({ version: VERSION })));
  app.get('/assets/*', serveTable('/assets/', assets));
  if (options.modelDir) app.get('/model/*', serveTable('/model/', bundleTable(options.modelDir)));

  app.route(
    '/api/v1',
    apiRoutes({
      classifier,
      explainer: options.explainer,
      metadata,
      queue,
      previewQueue,
      limits,
      browserModel: options.modelDir ? '/model/' : null,
    }),
  );

  if (options.debug ?? debugEnabled()) {
    app.get('/api/v1/debug/memory', (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(memoryReport());
    });
  }

  app.get('/healthz', (c) => c.json({ status: 'alive' }));
  app.get('/readyz', (c) => {
    if (lifecycle.state === 'ready') return c.json({ status: 'ready' });
    if (lifecycle.state === 'draining') return errorResponse(c, 'SHUTTING_DOWN', 'The server is shutting down.');
    if (lifecycle.state === 'failed') {
      return errorResponse(c, 'WARMUP_FAILED', `The model failed its warm-up classification: ${lifecycle.failureReason}.`);
    }
    return errorResponse(c, 'NOT_READY', 'The model is warming up; retry in a moment.');
  });

  startWarmUp(classifier, queue, lifecycle, log);
  return app;
}

/** Warms up through the queue, so real requests arriving meanwhile wait behind it, never beside. */
function startWarmUp(classifier: CellClassifier, queue: InferenceQueue, lifecycle: Lifecycle, log: LogSink): void {
  const admission = queue.admit();
  admission
    .run(() => warmUp(classifier))
    .then(
      () => lifecycle.markReady(),
      (error: unknown) => {
        lifecycle.markFailed(error);
        if (log) log(`warm-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      },
    )
    .finally(() => admission.release());
}
