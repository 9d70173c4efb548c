import { EventEmitter } from 'node:events';

import { describe, expect, it, vi } from 'vitest';

import type { RunningServer } from '../server.js';
import { type CliIo, exitOnSignals, runCli } from './index.js';

function captureIo(env: NodeJS.ProcessEnv = {}): CliIo & { out: string; err: string } {
  const io = {
    env,
    out: '',
    err: '',
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
  };
  return io;
}

describe('runCli', () => {
  it('without a model, says how to get one and exits 2', async () => {
    const io = captureIo();
    expect(await runCli(['--model', '/nonexistent/bundle'], io)).toBe(2);
    expect(io.err).toContain('No model bundle at /nonexistent/bundle');
    expect(io.err).toContain('pnpm train');
  });

  it('reads BLOODCELL_MODEL when --model is absent', async () => {
    const io = captureIo({ BLOODCELL_MODEL: '/elsewhere' });
    expect(await runCli([], io)).toBe(2);
    expect(io.err).toContain('/elsewhere (from BLOODCELL_MODEL)');
  });

  it('refuses a bad port or backend before loading anything', async () => {
    const io = captureIo({ PORT: 'eighty' });
    expect(await runCli([], io)).toBe(2);
    expect(io.err).toContain('--port must be an integer');
    expect(await runCli(['--backend', 'gpu'], captureIo())).toBe(2);
    expect(await runCli(['--nope'], captureIo())).toBe(2);
  });

  it('refuses an engine it does not have, from --engine or BLOODCELL_ENGINE, before loading anything', async () => {
    const flag = captureIo();
    expect(await runCli(['--engine', 'gpu', '--model', '/nonexistent/bundle'], flag)).toBe(2);
    expect(flag.err).toContain('--engine must be one of onnx, tfjs; got "gpu".');
    const env = captureIo({ BLOODCELL_ENGINE: 'cuda' });
    expect(await runCli(['--model', '/nonexistent/bundle'], env)).toBe(2);
    expect(env.err).toContain('got "cuda" (from BLOODCELL_ENGINE)');
    // A valid engine gets as far as looking for the model.
    const valid = captureIo({ BLOODCELL_ENGINE: 'tfjs' });
    expect(await runCli(['--model', '/nonexistent/bundle'], valid)).toBe(2);
    expect(valid.err).toContain('No model bundle at /nonexistent/bundle');
  });

  it('prints help and version', async () => {
    const io = captureIo();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.out).toContain('Usage: bloodcell-web-demo');
    expect(io.out).toContain('--engine NAME    onnx or tfjs (default: $BLOODCELL_ENGINE');
    expect(await runCli(['-v'], io)).toBe(0);
  });
});

describe('exitOnSignals', () => {
  it('closes the server on SIGTERM, then exits 0', async () => {
    const signals = new EventEmitter();
    const close = vi.fn(() => Promise.resolve());
    const exited = new Promise<number>((resolve) => {
      exitOnSignals({ close } as unknown as RunningServer, signals, resolve, () => {});
    });
    signals.emit('SIGTERM');
    expect(await exited).toBe(0);
    expect(close).toHaveBeenCalledOnce();
  });
});
