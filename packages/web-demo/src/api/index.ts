import type { BundleMetadata } from '@bloodcell/core';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

import type { CellClassifier } from '../lifecycle/index.js';
import { openApiDocument } from '../openapi/index.js';
import { previewPng } from '../preview/index.js';
import type { Admission, InferenceQueue } from '../queue/index.js';
import { differential, isCellResult } from '../report/index.js';
import { classifyUploads } from './classify.js';
import { errorResponse } from './errors.js';
import { explainable, parseExplain } from './explain.js';
import { type RequestLimits, modelSummary } from './model.js';
import { readUploads } from './uploads.js';

export interface ApiLimits extends RequestLimits {
  /** Images decoded and run through the model together. */
  batchSize: number;
}

export interface ApiOptions {
  classifier: CellClassifier;
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
  const api = new Hono<ApiEnv>();
  api.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  const tooLarge = bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: (c) =>
      errorResponse(
        c,
        'PAYLOAD_TOO_LARGE',
        `The request body is over the limit of ${limits.maxBodyBytes} bytes: send fewer or smaller images per request.`,
      ),
  });

  api.post('/classify', admit(options.queue), tooLarge, async (c) => {
    const explain = parseExplain(c.req.query('explain'));
    if (explain) explainable(classifier);
    const uploads = await readUploads(c, limits.maxFiles);
    const { maxPixels, batchSize } = limits;
    const outcomes = await c.var.admission.run(() =>
      classifyUploads(classifier, uploads, { maxPixels, batchSize, explain }),
    );

    const [only] = outcomes;
    if (outcomes.length === 1 && only && !isCellResult(only)) {
      return errorResponse(c, only.error.code, only.error.message);
    }
    return c.json({ results: outcomes, differential: differential(outcomes) });
  });

  api.post('/preview', admit(options.previewQueue), tooLarge, async (c) => {
    const [upload] = await readUploads(c, 1);
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
    const admission = queue.admit();
    c.set('admission', admission);
    try {
      await next();
    } finally {
      admission.release();
    }
  };
}

function publicLimits(limits: ApiLimits): RequestLimits {
  return { maxBodyBytes: limits.maxBodyBytes, maxFiles: limits.maxFiles, maxPixels: limits.maxPixels };
}
