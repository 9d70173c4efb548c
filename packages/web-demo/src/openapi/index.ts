import { VERSION } from '@bloodcell/core';

import { SCHEMAS } from './schemas.js';

const ref = (name: keyof typeof SCHEMAS) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof SCHEMAS, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(name) } },
});
const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
};
const imageBody = { type: 'string', contentMediaType: 'application/octet-stream' };
const rawImageTypes = ['image/jpeg', 'image/png', 'image/webp', 'image/tiff', 'image/bmp'];

/**
 * The OpenAPI 3.1 description of the web demo's HTTP API, served at /api/v1/openapi.json.
 *
 * @example
 * app.get('/api/v1/openapi.json', (c) => c.json(openApiDocument()));
 */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'bloodcell web demo API',
      version: VERSION,
      summary: 'Names the white blood cell (eosinophil, lymphocyte, monocyte, neutrophil) in smear images.',
      description: 'Research software, not a medical device. Errors are `{ error: { code, message } }` with a stable code.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    paths: {
      '/api/v1/classify': {
        post: {
          operationId: 'classify',
          summary: 'Classify one or many smear images',
          description:
            'Send multipart/form-data with files in `image` or `images`, or one raw image body. With one ' +
            'image, a failure answers with its error status; with several, each failure is an entry in `results`.',
          parameters: [
            { name: 'filename', in: 'query', required: false, description: 'Name of a raw-body image.', schema: { type: 'string' } },
            {
              name: 'explain',
              in: 'query',
              required: false,
              description:
                '1 (or true) adds `activation` to each result: where in the crop `box` the model found ' +
                'evidence for its answer. Costs one extra forward pass of the model per image, so the ' +
                'request takes about twice as long; images are then run one at a time.',
              schema: { type: 'string', enum: ['1', 'true', '0', 'false'], default: '0' },
            },
          ],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  properties: { image: imageBody, images: { type: 'array', items: imageBody } },
                },
              },
              ...Object.fromEntries(rawImageTypes.map((type) => [type, { schema: imageBody }])),
            },
          },
          responses: {
            '200': json('ClassifyResponse', 'One result per image and the differential.'),
            '400': json('Error', 'NOT_AN_IMAGE, NO_IMAGE, BAD_MULTIPART or BAD_QUERY (explain not 1, true, 0, false).'),
            '408': json('Error', 'UPLOAD_TIMEOUT: the body did not arrive within the server\'s upload timeout.'),
            '413': json('Error', 'PAYLOAD_TOO_LARGE, TOO_MANY_FILES or IMAGE_TOO_LARGE.'),
            '415': json('Error', 'UNSUPPORTED_IMAGE_TYPE (e.g. GIF) or UNSUPPORTED_MEDIA_TYPE.'),
            '500': json('Error', 'INTERNAL: an unexpected failure, logged on the server.'),
            '501': json('Error', 'EXPLAIN_UNAVAILABLE: explain=1 on a server whose model cannot map its evidence.'),
            '503': { ...json('Error', 'OVERLOADED or SHUTTING_DOWN.'), headers: retryAfter },
          },
        },
      },
      '/api/v1/preview': {
        post: {
          operationId: 'preview',
          summary: 'A small PNG of an image, for formats a browser cannot show (TIFF)',
          requestBody: {
            required: true,
            content: Object.fromEntries(rawImageTypes.map((type) => [type, { schema: imageBody }])),
          },
          responses: {
            '200': { description: 'The preview.', content: { 'image/png': { schema: imageBody } } },
            '400': json('Error', 'NOT_AN_IMAGE.'),
            '408': json('Error', 'UPLOAD_TIMEOUT: the body did not arrive within the server\'s upload timeout.'),
            '413': json('Error', 'PAYLOAD_TOO_LARGE or IMAGE_TOO_LARGE.'),
            '415': json('Error', 'UNSUPPORTED_IMAGE_TYPE or UNSUPPORTED_MEDIA_TYPE.'),
            '503': { ...json('Error', 'OVERLOADED or SHUTTING_DOWN.'), headers: retryAfter },
          },
        },
      },
      '/api/v1/model': {
        get: {
          operationId: 'model',
          summary: 'The model: cell types, validation figures, calibration, version',
          responses: { '200': json('ModelSummary', 'The loaded model.') },
        },
      },
      '/api/v1/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1 document.', content: { 'application/json': {} } } },
        },
      },
      '/healthz': {
        get: { operationId: 'healthz', summary: 'Liveness', responses: { '200': json('Status', 'The process is alive.') } },
      },
      '/readyz': {
        get: {
          operationId: 'readyz',
          summary: 'Readiness: the model is loaded and warmed up, and the server is not draining',
          responses: {
            '200': json('Status', 'Ready for traffic.'),
            '503': { ...json('Error', 'NOT_READY, WARMUP_FAILED or SHUTTING_DOWN.'), headers: retryAfter },
          },
        },
      },
    },
    components: { schemas: SCHEMAS },
  };
}
