import { describe, expect, it } from 'vitest';

import { workerEntry, workerExecArgv } from './index.js';

describe('workerEntry', () => {
  it('finds a built worker script, and names the build command for a missing one', () => {
    // `pnpm test` builds first, so the package's own workers exist in dist/.
    expect(workerEntry('onnx-worker.js', 'The ONNX Runtime worker').pathname).toMatch(/packages\/node\/dist\/onnx-worker\.js$/);
    expect(() => workerEntry('no-such-worker.js', 'The test worker')).toThrow(
      'The test worker (dist/no-such-worker.js) is missing: run `pnpm --filter @bloodcell/node build`.',
    );
  });

  it('drops --input-type, which only code given with -e may use, and keeps every other option', () => {
    expect(workerExecArgv(['--input-type=module', '--max-old-space-size=4096'])).toEqual(['--max-old-space-size=4096']);
    expect(workerExecArgv(['--input-type', 'module', '--enable-source-maps'])).toEqual(['--enable-source-maps']);
    expect(workerExecArgv([])).toEqual([]);
  });
});
