import { join } from 'node:path';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { HAS_SHARED, SHARED_MISSING, TRAIN_DIR } from '../../../../test-support/shared.js';
import fixtures from './fixtures.json' with { type: 'json' };
import { type CellBox, boxContains, locateCell } from './index.js';

/** A hand-drawn box: the white cell's own extent, nucleus and cytoplasm, a few px loose. */
interface CellFixture {
  file: string;
  class: string;
  group: string;
  box: CellBox;
}

const TOLERANCE_PX = 3;
const MAX_AREA_RATIO = 6;

const TITLE = 'locateCell on hand-checked TRAIN fields';

describe.skipIf(!HAS_SHARED)(HAS_SHARED ? TITLE : `${TITLE} (skipped: ${SHARED_MISSING})`, () => {
  it.each(fixtures as CellFixture[])('boxes the whole $class cell in $file', async (fixture) => {
    const { data, info } = await sharp(join(TRAIN_DIR, fixture.file))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });

    const location = locateCell({ data, width: info.width, height: info.height, channels: 3 });

    expect(location.found).toBe(true);
    expect(boxContains(location.box, fixture.box, TOLERANCE_PX)).toBe(true);
    const boxArea = location.box.width * location.box.height;
    const areaRatio = boxArea / (fixture.box.width * fixture.box.height);
    expect(areaRatio).toBeLessThan(MAX_AREA_RATIO);
  });
});
