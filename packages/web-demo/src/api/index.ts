import type { BundleMetadata, Classifier } from '@bloodcell/core';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

import type { CellClassifier } from '../lifecycle/index.js';
import { openApiDocument } from '../openapi/index.js';
import { previewPng } from '../preview/index.js';
import type { Admission, InferenceQueue } from '../queue/index.js';
import { differential, isCellResult } from '../report/index.js';
import { classifyUploads } from './classify.js';
import { errorResponse } from './errors.js';
import { explainerFor, parseExplain } from './explain.js';
import { type RequestLimits, modelSummary } from './model.js';
import { readUploadsWithin } from './uploads.js';

export interface ApiLimits extends RequestLimits {
  /** Images decoded and run through the model together. */
  batchSize: number;
  /** Longest wait for a request's body; a slower upload is answered 408 and frees its queue place. */
  uploadTimeoutMs: number;
}

export interface ApiOptions {
  classifier: CellClassifier;
  /** The TF.js classifier for explain=1 when `classifier` cannot map its evidence. */
  explainer?: () => Promise<Classifier>;
  metadata: BundleMetadata;
  /** Bounds inference: one batch at a time, a few requests waiting. */
  queue: InferenceQueue;
  /** Bounds preview decoding separately, so previews never wait behind inference. */
  previewQueue: InferenceQueue;
  limits: ApiLimits;
  /** Base URL of the bundle for privacy mode, or null when it is not served. */
  browserModel: string | null;
}

type ApiEnv = { Variables: { admission: Admission } };

/**
 * The JSON API under /api/v1: classify, preview, model, openapi.json.
 *
 * @example
 * app.route('/api/v1', apiRoutes({ classifier, metadata, queue, previewQueue, limits, browserModel: '/model/' }));
 */
export function apiRoutes(options: ApiOptions): Hono<ApiEnv> {
  const { classifier, limits } = options;
  const explainer = explainerFor(classifier, options.explainer);
  const api = new Hono<ApiEnv>();
  api.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  const tooLarge = bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: async (c) => {
      await leaveBodyUnread(c);
      return errorResponse(
        c,
        'PAYLOAD_TOO_LARGE',
        `The request body is over the limit of ${limits.maxBodyBytes} bytes: send fewer or smaller images per request.`,
      );
    },
  });

  api.post('/classify', admit(options.queue), tooLarge, async (c) => {
    // Refused before any upload is read when nothing here can map evidence.
    const explainWith = parseExplain(c.req.query('explain')) ? explainer() : undefined;
    const uploads = await readUploadsWithin(c, limits.maxFiles, limits.uploadTimeoutMs);
    const { maxPixels, batchSize } = limits;
    const outcomes = await c.var.admission.run(() =>
      classifyUploads(classifier, uploads, { maxPixels, batchSize, explainWith }),
    );

    const [only] = outcomes;
    if (outcomes.length === 1 && only && !isCellResult(only)) {
      return errorResponse(c, only.error.code, only.error.message);
    }
    return c.json({ results: outcomes, differential: differential(outcomes) });
  });

  api.post('/preview', admit(options.previewQueue), tooLarge, async (c) => {
    const [upload] = await readUploadsWithin(c, 1, limits.uploadTimeoutMs);
    const png = await c.var.admission.run(() => previewPng(upload!.bytes, { maxPixels: limits.maxPixels }));
    return c.body(png.slice().buffer, 200, { 'Content-Type': 'image/png' });
  });

  const summary = modelSummary(options.metadata, { browserModel: options.browserModel, limits: publicLimits(limits) });
  api.get('/model', (c) => c.json(summary));

  const document = openApiDocument();
  api.get('/openapi.json', (c) => c.json(document));
  return api;
}

/** Takes a queue place before the body is read, so a full server refuses at once (503). */
function admit(queue: InferenceQueue): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    let admission: Admission;
    try {
      admission = queue.admit();
    } catch (refusal) {
      await leaveBodyUnread(c);
      throw refusal;
    }
    c.set('admission', admission);
    try {
      await next();
    } finally {
      admission.release();
    }
  };
}

/**
 * For an answer given without reading the body: when the body has not all arrived, the connection
 * closes after the answer. Kept alive, the server would stop reading while the client still sends,
 * and clients then see a reset socket instead of the 413 or 503 (4 in 10 times for a 256 kB body
 * in undici). A body that has arrived whole keeps the connection open.
 */
async function leaveBodyUnread(c: Context): Promise<void> {
  // @hono/node-server passes the Node request as env.incoming; `complete`: fully received.
  const incoming = (c.env as { incoming?: { complete?: boolean } } | undefined)?.incoming;
  if (!incoming) return;
  // Bytes already on the socket are parsed by the next turn of the event loop.
  await new Promise((resolve) => setImmediate(resolve));
  if (!incoming.complete) c.header('Connection', 'close');
}

function publicLimits(limits: ApiLimits): RequestLimits {
  return { maxBodyBytes: limits.maxBodyBytes, maxFiles: limits.maxFiles, maxPixels: limits.maxPixels };
}
