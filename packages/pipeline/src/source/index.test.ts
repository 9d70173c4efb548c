import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { openSource } from './index.js';

describe('openSource', () => {
  const options = { root: '/repo', cacheDir: '/tmp/cache', attempts: 1 };

  it('lists a local folder with origins relative to how it was named, linkable in place', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bloodcell-source-'));
    await mkdir(join(root, 'data/MONOCYTE'), { recursive: true });
    await writeFile(join(root, 'data/MONOCYTE/a.jpeg'), 'x');
    const files = await openSource('data', { ...options, root }).list();
    expect(files).toEqual([
      expect.objectContaining({
        key: 'MONOCYTE/a.jpeg',
        origin: 'data/MONOCYTE/a.jpeg',
        localPath: join(root, 'data/MONOCYTE/a.jpeg'),
      }),
    ]);
    expect(new TextDecoder().decode(await files[0]!.read())).toBe('x');
    await expect(openSource('missing', { ...options, root }).list()).rejects.toThrow(
      `Cannot read the folder ${join(root, 'missing')} (ingest.source "missing").`,
    );
  });

  it('wants a pinned sha256 for downloads', () => {
    expect(() => openSource('https://example.org/cells.zip', options)).toThrow(
      'ingest.sha256 must be set for https://example.org/cells.zip',
    );
    expect(openSource('s3://cells/x', options).description).toBe('s3://cells/x');
  });
});
