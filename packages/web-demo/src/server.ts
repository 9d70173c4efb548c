import type { AddressInfo } from 'node:net';

import { type Classifier, OptionError } from '@bloodcell/core';
import { type BackendName, type InferenceEngine, loadClassifier, openClassifier } from '@bloodcell/node';
import { type ServerType, serve } from '@hono/node-server';

import { type AppOptions, createApp, resolveLimits } from './app.js';
import { type CellClassifier, Lifecycle } from './lifecycle/index.js';
import { InferenceQueue } from './queue/index.js';

export interface StartServerOptions extends Omit<AppOptions, 'classifier' | 'queue' | 'lifecycle' | 'explainer'> {
  /**
   * A loaded classifier, which stays the caller's to close; without one the bundle in `modelDir`
   * is opened on `engine`, and closed with the server.
   */
  classifier?: CellClassifier;
  /** 0 picks a free port. Default 8080. */
  port?: number;
  /** Default 127.0.0.1: only this machine can connect unless you choose otherwise. */
  host?: string;
  /**
   * Engine for the bundle in `modelDir`: `onnx` (onnxruntime-node) or `tfjs`. Default: onnx when
   * onnxruntime-node loads, else tfjs.
   */
  engine?: InferenceEngine;
  /** TF.js backend for the tfjs engine, for loading the bundle and for explain=1 (default: the fastest that loads). */
  backend?: BackendName;
  /**
   * Threads that locate and crop for the onnx engine, leaving the thread that answers HTTP only
   * decoding and answering. Default 0: on 2 shared cores they did not pay (docs/decisions/0011).
   */
  prepareWorkers?: number;
  /** How long shutdown waits for in-flight requests before closing connections. Default 30 s. */
  drainTimeoutMs?: number;
}

export interface RunningServer {
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  /** The engine the server opened `modelDir` on; undefined when it was given a classifier. */
  engine?: InferenceEngine;
  lifecycle: Lifecycle;
  /** The inference queue, for monitoring (`queue.size`). */
  queue: InferenceQueue;
  /** Refuses new work, lets in-flight requests finish, stops listening, then closes the model it opened. */
  close(): Promise<void>;
}


/**
 * Loads the model (unless given one), creates the app, and listens.
 *
 * @example
 * const server = await startServer({ modelDir: 'artifacts/model', port: 8080 });
 * console.log(`open ${server.url}`);
 * process.once('SIGTERM', () => server.close().then(() => process.exit(0)));
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const model = options.classifier ? { classifier: options.classifier, close: async () => {} } : await openModel(options);
  const { classifier } = model;
  const lifecycle = new Lifecycle();
  const limits = resolveLimits(classifier, options.limits);
  const queue = new InferenceQueue(limits);
  let server: ServerType;
  try {
    const app = createApp({ ...options, classifier, explainer: model.explainer, limits, queue, lifecycle });
    server = await listen(app.fetch, options.port ?? 8080, options.host ?? '127.0.0.1');
  } catch (error) {
    // The warm-up already runs on the model: let it end before the model closes under it.
    lifecycle.startDraining();
    queue.close();
    await queue.idle();
    await model.close();
    throw listenError(error, options.port ?? 8080, options.host ?? '127.0.0.1');
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    engine: model.engine,
    lifecycle,
    queue,
    close: () =>
      (closing ??= drainAndClose(server, lifecycle, queue, options.drainTimeoutMs ?? 30_000).then(() => model.close())),
  };
}

/** A model the server opened itself, and so closes. */
interface OpenedModel {
  classifier: CellClassifier;
  engine?: InferenceEngine;
  /** A TF.js classifier for explain=1 when `classifier` cannot map its evidence, loaded on first use. */
  explainer?: () => Promise<Classifier>;
  close(): Promise<void>;
}

async function openModel(options: StartServerOptions): Promise<OpenedModel> {
  const { modelDir, engine, backend } = options;
  if (!modelDir) throw new TypeError('startServer needs a classifier or a modelDir.');
  const opened = await openClassifier(modelDir, {
    engine,
    backend,
    // TODO (issue 5): measured on 2 shared cores only, where preparation workers did not pay;
    // on more cores they should lift the one-thread ceiling (0006), so measure before a default.
    prepareWorkers: options.prepareWorkers ?? 0,
  });
  // The activation map needs the TF.js model: the one in use, else loaded only if someone asks.
  const inUse = opened.tfjsClassifier;
  let explaining: Promise<Classifier> | undefined = inUse && Promise.resolve(inUse);
  const explainer = () => {
    explaining ??= loadClassifier(modelDir);
    explaining.catch(() => (explaining = undefined));
    return explaining;
  };
  const close = async () => {
    await opened.close();
    const loaded = await explaining?.catch(() => undefined);
    if (loaded !== inUse) loaded?.dispose();
  };
  return { classifier: opened, engine: opened.engine, explainer, close };
}

/** The errors a person can fix by choosing another port, said so; others as they are. */
function listenError(error: unknown, port: number, host: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new OptionError('PORT_IN_USE', `Port ${port} on ${host} is already in use: choose another with --port (or PORT).`, { cause: error });
  }
  if (code === 'EACCES') {
    return new OptionError('PORT_NOT_ALLOWED', `Listening on port ${port} needs privileges: choose a port above 1023 with --port.`, { cause: error });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new OptionError('BAD_HOST', `This machine has no address ${host} to listen on: check --host (or HOST).`, { cause: error });
  }
  return error;
}

function listen(fetch: (request: Request) => Response | Promise<Response>, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, () => {
      server.off('error', reject);
      resolve(server);
    });
    server.once('error', reject);
  });
}

async function drainAndClose(server: ServerType, lifecycle: Lifecycle, queue: InferenceQueue, timeoutMs: number): Promise<void> {
  lifecycle.startDraining();
  queue.close();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([queue.idle(), timedOut]);
  clearTimeout(timer);

  // Keep-alive sockets outlive their last response; closing the idle ones lets close() finish
  // without cutting a response that is still being written.
  const http1 = 'closeIdleConnections' in server ? server : undefined;
  const sweep = setInterval(() => http1?.closeIdleConnections(), 50);
  const cutOff = setTimeout(() => http1?.closeAllConnections(), 5_000);
  await closed;
  clearInterval(sweep);
  clearTimeout(cutOff);
}
