import type { AddressInfo } from 'node:net';

import { type BackendName, loadClassifier, selectBackend } from '@bloodcell/node';
import { type ServerType, serve } from '@hono/node-server';

import { type AppOptions, DEFAULT_LIMITS, createApp } from './app.js';
import { type CellClassifier, Lifecycle } from './lifecycle/index.js';
import { InferenceQueue } from './queue/index.js';

export interface StartServerOptions extends Omit<AppOptions, 'classifier' | 'queue' | 'lifecycle'> {
  /** A loaded classifier; without one the bundle in `modelDir` is loaded. */
  classifier?: CellClassifier;
  /** 0 picks a free port. Default 8080. */
  port?: number;
  /** Default 127.0.0.1: only this machine can connect unless you choose otherwise. */
  host?: string;
  /** TF.js backend for the server's inference (default: the fastest that loads). */
  backend?: BackendName;
  /** How long shutdown waits for in-flight requests before closing connections. Default 30 s. */
  drainTimeoutMs?: number;
}

export interface RunningServer {
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  lifecycle: Lifecycle;
  /** The inference queue, for monitoring (`queue.size`). */
  queue: InferenceQueue;
  /** Refuses new work, lets in-flight requests finish, then stops listening. */
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
  const classifier = options.classifier ?? (await loadModel(options));
  const lifecycle = new Lifecycle();
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const queue = new InferenceQueue(limits);
  const app = createApp({ ...options, classifier, limits, queue, lifecycle });

  const server = await listen(app.fetch, options.port ?? 8080, options.host ?? '127.0.0.1');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    lifecycle,
    queue,
    close: () => (closing ??= drainAndClose(server, lifecycle, queue, options.drainTimeoutMs ?? 30_000)),
  };
}

async function loadModel(options: StartServerOptions): Promise<CellClassifier> {
  if (!options.modelDir) throw new TypeError('startServer needs a classifier or a modelDir.');
  await selectBackend(options.backend ? { prefer: options.backend } : {});
  return loadClassifier(options.modelDir);
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
