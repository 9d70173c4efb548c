import {
  BloodcellError,
  BundleError,
  type BundleMetadata,
  type CellImage,
  type ClassifyResult,
  ImageInputError,
  OptionError,
} from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';

import type { BackendName } from '../backend/index.js';

/** What a worker is started with. */
export interface WorkerSetup {
  modelDir: string;
  backend?: BackendName;
}

/** An image as it crosses to a worker: pixels as they are, or a tensor's values and shape. */
export type WireImage =
  | { kind: 'pixels'; data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels?: 3 | 4 }
  | { kind: 'tensor'; data: Float32Array | Int32Array; shape: [number, number, number]; dtype: 'float32' | 'int32' };

/** The error fields that survive a thread boundary. */
export interface WireError {
  name: string;
  code?: string;
  message: string;
}

export type ToWorker = { id: number; images: WireImage[]; batchSize: number };

export type FromWorker =
  | { kind: 'ready'; metadata: BundleMetadata }
  | { kind: 'failed'; error: WireError }
  | { kind: 'done'; id: number; results: ClassifyResult[] }
  | { kind: 'error'; id: number; error: WireError };

/**
 * Packs an image for postMessage; a tensor is read here, since tensors cannot cross threads.
 *
 * @example
 * worker.postMessage({ id, images: await Promise.all(images.map(toWire)), batchSize: 8 });
 */
export async function toWire(image: CellImage): Promise<WireImage> {
  if (!(image instanceof tf.Tensor)) return { kind: 'pixels', ...image };
  const dtype = image.dtype === 'int32' ? 'int32' : 'float32';
  const data = (await image.data()) as Float32Array | Int32Array;
  return { kind: 'tensor', data, shape: image.shape as [number, number, number], dtype };
}

/**
 * Unpacks an image in the worker; the caller disposes a returned tensor.
 *
 * @example
 * const images = message.images.map(fromWire);
 */
export function fromWire(image: WireImage): CellImage {
  if (image.kind === 'tensor') return tf.tensor(image.data, image.shape, image.dtype) as tf.Tensor3D;
  const { kind: _kind, ...pixels } = image;
  return pixels;
}

/**
 * Reduces an error to what postMessage keeps.
 *
 * @example
 * parentPort.postMessage({ kind: 'error', id, error: toWireError(error) });
 */
export function toWireError(error: unknown): WireError {
  if (error instanceof BloodcellError) return { name: error.name, code: error.code, message: error.message };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/**
 * Rebuilds a worker's error as the same bloodcell error class, so callers can match on `code`.
 *
 * @example
 * reject(fromWireError(message.error));
 */
export function fromWireError(error: WireError): Error {
  if (error.code === undefined) return new BloodcellError('WORKER_FAILED', `A classifier worker failed: ${error.message}`);
  const classes: Record<string, typeof BloodcellError> = { BundleError, ImageInputError, OptionError };
  return new (classes[error.name] ?? BloodcellError)(error.code, error.message);
}
