import { CELL_TYPES } from '@bloodcell/core';

const perCellType = (schema: object) => ({
  type: 'object',
  required: [...CELL_TYPES],
  properties: Object.fromEntries(CELL_TYPES.map((cellType) => [cellType, schema])),
  additionalProperties: false,
});

// NaN figures (a class absent from validation) serialise as null.
const figure = { type: ['number', 'null'] };
const probability = { type: 'number', minimum: 0, maximum: 1 };
const count = { type: 'integer', minimum: 0 };

/** JSON Schema 2020-12 for each response body, as `components.schemas` of the OpenAPI document. */
export const SCHEMAS = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: { error: { $ref: '#/components/schemas/ErrorDetail' } },
    additionalProperties: false,
  },
  ErrorDetail: {
    type: 'object',
    required: ['code', 'message'],
    properties: {
      code: { type: 'string', description: 'Stable machine-readable code, e.g. NOT_AN_IMAGE.', examples: ['NOT_AN_IMAGE'] },
      message: { type: 'string', description: 'What went wrong and what to do about it.' },
    },
    additionalProperties: false,
  },
  CellType: { type: 'string', enum: [...CELL_TYPES] },
  Box: {
    type: 'object',
    description: 'The square the model looked at, in the original image’s pixels.',
    required: ['x', 'y', 'width', 'height'],
    properties: { x: { type: 'number' }, y: { type: 'number' }, width: { type: 'number' }, height: { type: 'number' } },
    additionalProperties: false,
  },
  Activation: {
    type: 'object',
    description:
      'Class activation map: the logit of cellType split over the last feature map, negative evidence ' +
      'dropped, scaled so the strongest cell is 1. Rows run top to bottom and columns left to right ' +
      'over the crop box.',
    required: ['cellType', 'grid'],
    properties: {
      cellType: { $ref: '#/components/schemas/CellType' },
      grid: {
        type: 'array',
        description: 'Rows x columns (7x7 for MobileNetV2 at 224 pixels), each in [0, 1].',
        minItems: 1,
        items: { type: 'array', minItems: 1, items: probability },
      },
    },
    additionalProperties: false,
  },
  CellResult: {
    type: 'object',
    required: [
      'file', 'cellType', 'probability', 'probabilities', 'referForReview', 'reviewReasons', 'outlierScore',
      'box', 'cellFound', 'image',
    ],
    properties: {
      file: { type: 'string' },
      cellType: { $ref: '#/components/schemas/CellType' },
      probability: { ...probability, description: 'Calibrated probability of cellType.' },
      probabilities: perCellType(probability),
      referForReview: { type: 'boolean', description: 'True when any review reason applies.' },
      reviewReasons: {
        type: 'array',
        description: 'low-confidence: under the review threshold; unlike-training: far from every training ' +
          'cell type; no-cell-found: no white cell located, the whole image was used.',
        items: { enum: ['low-confidence', 'unlike-training', 'no-cell-found'] },
        uniqueItems: true,
      },
      outlierScore: {
        type: ['number', 'null'],
        description: 'Distance from the training images; null when the model has no outlier model.',
      },
      box: { $ref: '#/components/schemas/Box' },
      cellFound: { type: 'boolean', description: 'False when no white cell was located and the whole image was used.' },
      image: {
        type: 'object',
        required: ['width', 'height', 'format'],
        properties: { width: count, height: count, format: { type: 'string' } },
        additionalProperties: false,
      },
      activation: {
        $ref: '#/components/schemas/Activation',
        description: 'Only with explain=1: where in the box the model found evidence for cellType.',
      },
    },
    additionalProperties: false,
  },
  FailedImage: {
    type: 'object',
    required: ['file', 'error'],
    properties: { file: { type: 'string' }, error: { $ref: '#/components/schemas/ErrorDetail' } },
    additionalProperties: false,
  },
  Differential: {
    type: 'object',
    required: ['classified', 'failed', 'referForReview', 'counts', 'percent'],
    properties: {
      classified: count,
      failed: count,
      referForReview: count,
      counts: perCellType(count),
      percent: perCellType({ type: 'number', minimum: 0, maximum: 100 }),
    },
    additionalProperties: false,
  },
  ClassifyResponse: {
    type: 'object',
    required: ['results', 'differential'],
    properties: {
      results: {
        type: 'array',
        description: 'One entry per image, in the order sent.',
        items: { oneOf: [{ $ref: '#/components/schemas/CellResult' }, { $ref: '#/components/schemas/FailedImage' }] },
      },
      differential: { $ref: '#/components/schemas/Differential' },
    },
    additionalProperties: false,
  },
  ClassificationReport: {
    type: 'object',
    required: ['images', 'accuracy', 'balancedAccuracy', 'macroF1', 'recall', 'precision', 'confusionMatrix'],
    properties: {
      images: count,
      accuracy: figure,
      balancedAccuracy: figure,
      macroF1: figure,
      recall: perCellType(figure),
      precision: perCellType(figure),
      confusionMatrix: {
        type: 'array',
        description: 'Rows: true cell type; columns: predicted; both in cellTypes order.',
        items: { type: 'array', items: count },
      },
      expectedCalibrationError: figure,
    },
  },
  ModelSummary: {
    type: 'object',
    required: [
      'name', 'version', 'serverVersion', 'cellTypes', 'backbone', 'preprocessing', 'calibration',
      'training', 'validation', 'browserModel', 'limits',
    ],
    properties: {
      name: { const: 'bloodcell' },
      version: { type: 'string', description: 'Version of bloodcell that trained the model.' },
      serverVersion: { type: 'string' },
      cellTypes: { type: 'array', items: { $ref: '#/components/schemas/CellType' } },
      backbone: {
        type: 'object',
        required: ['name', 'inputSize'],
        properties: { name: { type: 'string' }, inputSize: count },
      },
      preprocessing: { type: 'object', required: ['fit'], properties: { fit: { enum: ['cell-crop', 'whole-image'] } } },
      calibration: {
        type: 'object',
        required: ['temperature', 'reviewThreshold', 'outlierThreshold'],
        properties: {
          temperature: { type: 'number', exclusiveMinimum: 0 },
          reviewThreshold: probability,
          outlierThreshold: { type: ['number', 'null'], description: 'Outlier score above which a result is flagged.' },
        },
      },
      training: {
        type: 'object',
        required: ['trainImages', 'validationImages', 'validationGroups', 'createdAt', 'dataFingerprint'],
        properties: {
          trainImages: count,
          validationImages: count,
          validationGroups: count,
          createdAt: { type: 'string' },
          dataFingerprint: { type: 'string' },
        },
      },
      validation: { $ref: '#/components/schemas/ClassificationReport' },
      browserModel: { type: ['string', 'null'], description: 'Base URL of the bundle for in-browser use.' },
      limits: {
        type: 'object',
        required: ['maxBodyBytes', 'maxFiles', 'maxPixels'],
        properties: { maxBodyBytes: count, maxFiles: count, maxPixels: count },
      },
    },
    additionalProperties: false,
  },
  Status: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['alive', 'ready'] } },
    additionalProperties: false,
  },
};
