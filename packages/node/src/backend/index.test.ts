import { createRequire } from 'node:module';

import { OptionError } from '@bloodcell/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { BACKEND_NAMES, currentBackend, selectBackend } from './index.js';

// These tests switch the process-wide TF.js engine; vitest gives this file its own fork.

const TFJS_NODE_INSTALLED = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

const savedEnv = {
  backend: process.env.BLOODCELL_BACKEND,
  verbose: process.env.BLOODCELL_VERBOSE,
};

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

afterEach(() => {
  restoreEnv('BLOODCELL_BACKEND', savedEnv.backend);
  restoreEnv('BLOODCELL_VERBOSE', savedEnv.verbose);
  vi.restoreAllMocks();
});

/** Adds 1 + 2 on the active backend, proving it really computes. */
function onePlusTwo(): number {
  return tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0] ?? Number.NaN);
}

// Order matters: each test starts from the backend the previous one left.
describe('selectBackend', () => {
  it('lists the backends fastest first', () => {
    expect(BACKEND_NAMES).toEqual(['tensorflow', 'wasm', 'cpu']);
    expect(currentBackend()).toBeUndefined();
  });

  it.skipIf(TFJS_NODE_INSTALLED)('lands on wasm when tfjs-node is not installed', async () => {
    delete process.env.BLOODCELL_BACKEND;
    const log = vi.fn();

    expect(await selectBackend({ log })).toBe('wasm');

    expect(currentBackend()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(log.mock.calls).toEqual([
      ['bloodcell: using TF.js backend wasm (tfjs-node not installed)'],
    ]);
    expect(onePlusTwo()).toBe(3);
  });

  it('is a no-op when called again with the same outcome', async () => {
    delete process.env.BLOODCELL_BACKEND;
    const log = vi.fn();

    const again = await selectBackend({ log });

    expect(again).toBe(currentBackend());
    expect(log).not.toHaveBeenCalled();
  });

  it('switches to a forced cpu and logs it once', async () => {
    const log = vi.fn();

    expect(await selectBackend({ prefer: 'cpu', log })).toBe('cpu');
    expect(await selectBackend({ prefer: 'cpu', log })).toBe('cpu');

    expect(tf.getBackend()).toBe('cpu');
    expect(log.mock.calls).toEqual([['bloodcell: using TF.js backend cpu (prefer option)']]);
    expect(onePlusTwo()).toBe(3);
  });

  it.skipIf(TFJS_NODE_INSTALLED)('explains why a forced tensorflow fails', async () => {
    const log = vi.fn();

    const error = await selectBackend({ prefer: 'tensorflow', log }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OptionError);
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    const message = (error as Error).message;
    expect(message).toContain("'tensorflow' is unavailable: tfjs-node not installed");
    expect(message).toContain('@tensorflow/tfjs-node@');
    expect(message).toContain('Valid choices: tensorflow, wasm, cpu.');
    expect(log).not.toHaveBeenCalled();
    expect(currentBackend()).toBe('cpu');
  });

  it('takes BLOODCELL_BACKEND when no prefer is given, and prefer over it', async () => {
    const log = vi.fn();
    process.env.BLOODCELL_BACKEND = ' WASM ';

    expect(await selectBackend({ log })).toBe('wasm');
    expect(await selectBackend({ prefer: 'cpu', log })).toBe('cpu');

    expect(log.mock.calls).toEqual([
      ['bloodcell: using TF.js backend wasm (BLOODCELL_BACKEND=wasm)'],
      ['bloodcell: using TF.js backend cpu (prefer option)'],
    ]);
  });

  it.each([['gpu'], ['webgl'], ['tfjs-node']])(
    'refuses BLOODCELL_BACKEND=%s, naming the valid choices',
    async (value) => {
      process.env.BLOODCELL_BACKEND = value;

      const error = await selectBackend().catch((e: unknown) => e);

      expect(error).toBeInstanceOf(OptionError);
      expect(error).toMatchObject({ code: 'INVALID_BACKEND' });
      expect((error as Error).message).toContain(`BLOODCELL_BACKEND='${value}'`);
      expect((error as Error).message).toContain('tensorflow, wasm, cpu');
      expect(currentBackend()).toBe('cpu');
    },
  );

  it('refuses an unknown prefer from JavaScript callers', async () => {
    const prefer = 'webgpu' as 'cpu';

    await expect(selectBackend({ prefer })).rejects.toMatchObject({ code: 'INVALID_BACKEND' });
  });

  it('stays quiet on stderr unless BLOODCELL_VERBOSE is set', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    delete process.env.BLOODCELL_VERBOSE;

    await selectBackend({ prefer: 'wasm' });
    expect(stderr).not.toHaveBeenCalled();

    process.env.BLOODCELL_VERBOSE = '1';
    await selectBackend({ prefer: 'cpu' });
    expect(stderr.mock.calls).toEqual([['bloodcell: using TF.js backend cpu (prefer option)\n']]);
  });

  it('serialises overlapping calls', async () => {
    const log = vi.fn();

    const outcomes = await Promise.all([
      selectBackend({ prefer: 'wasm', log }),
      selectBackend({ prefer: 'wasm', log }),
    ]);

    expect(outcomes).toEqual(['wasm', 'wasm']);
    expect(log).toHaveBeenCalledTimes(1);
  });
});
