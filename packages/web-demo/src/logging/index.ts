import type { MiddlewareHandler } from 'hono';

/** Receives one finished log line; `false` turns logging off (tests). */
export type LogSink = ((line: string) => void) | false;

/**
 * Writes a line to stderr, the server's log stream.
 *
 * @example
 * requestLog(stderrLog);
 */
export function stderrLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * One line per request once it is answered: method, path (never the query, which may name a
 * patient's file), status, milliseconds.
 *
 * @example
 * app.use('*', requestLog(stderrLog)); // "POST /api/v1/classify 200 184ms"
 */
export function requestLog(sink: LogSink): MiddlewareHandler {
  return async (c, next) => {
    if (!sink) return next();
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round(performance.now() - started);
      sink(`${c.req.method} ${c.req.path} ${c.res.status} ${ms}ms`);
    }
  };
}
