import { describe, expect, it } from 'vitest';

import { workerEntry } from './index.js';

describe('workerEntry', () => {
  it('finds a built worker script, and names the build command for a missing one', () => {
    // `pnpm test` builds first, so the package's own workers exist in dist/.
    expect(workerEntry('onnx-worker.js', 'The ONNX Runtime worker').pathname).toMatch(/packages\/node\/dist\/onnx-worker\.js$/);
    expect(() => workerEntry('no-such-worker.js', 'The test worker')).toThrow(
      'The test worker (dist/no-such-worker.js) is missing: run `pnpm --filter @bloodcell/node build`.',
    );
  });
});
