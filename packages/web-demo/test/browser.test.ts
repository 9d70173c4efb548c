import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CELL_TYPES, type Classifier } from '@bloodcell/core';
import { type Browser, type Page, chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildBrowserAssets } from '../build/browser-assets.js';
import { HAS_SHARED, SHARED_MISSING } from '../../../test-support/shared.js';
import { type RunningServer, startServer } from '../src/server.js';
import { SAMPLE_IMAGES, fixtureClassifier } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const SCREENSHOT_DIR = join(tmpdir(), 'bloodcell-web-demo-screenshots');
const skipReason = !HAS_SHARED
  ? SHARED_MISSING
  : !HAS_CHROMIUM
    ? `${CHROMIUM} not found: the browser test is skipped. Install Debian's chromium (apt-get install -y chromium).`
    : 'chromium and shared data found';
if (HAS_SHARED && !HAS_CHROMIUM) console.warn(skipReason);

describe.skipIf(!HAS_SHARED || !HAS_CHROMIUM)(`the page in Chromium (${skipReason})`, () => {
  let classifier: Classifier;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let assetsDir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    assetsDir = await mkdtemp(join(tmpdir(), 'bloodcell-web-demo-assets-'));
    const [fixture] = await Promise.all([fixtureClassifier(), buildBrowserAssets(assetsDir)]);
    classifier = fixture.classifier;
    server = await startServer({ classifier, modelDir: fixture.modelDir, assetsDir, port: 0, log: false });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
      });
    });
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    classifier?.dispose();
    if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
  });

  /** The exact probabilities the page shows for its latest result in a mode. */
  async function probabilitiesShown(file: string, mode: 'server' | 'browser'): Promise<Record<string, number>> {
    const item = page.locator(`#results li[data-mode="${mode}"][data-file="${file}"]`);
    await item.waitFor({ timeout: 30_000 });
    return JSON.parse((await item.getAttribute('data-probabilities')) ?? '{}') as Record<string, number>;
  }

  /** Where a result's heat map sits, how much of it is painted, and where its crop box is. */
  async function heatMapShown(file: string, mode: 'server' | 'browser') {
    const item = page.locator(`#results li[data-mode="${mode}"][data-file="${file}"]`);
    await item.locator('canvas.heat-map').waitFor({ timeout: 30_000 });
    return item.evaluate((li: HTMLElement) => {
      const rect = (element: Element) => {
        const { x, y, width, height } = element.getBoundingClientRect();
        return { x, y, width, height };
      };
      const overlay = li.querySelector<HTMLCanvasElement>('canvas.heat-map')!;
      const { data } = overlay.getContext('2d')!.getImageData(0, 0, overlay.width, overlay.height);
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted += 1;
      return {
        thumb: rect(li.querySelector('canvas.thumb')!),
        overlay: rect(overlay),
        painted: painted / (overlay.width * overlay.height),
        box: JSON.parse(li.dataset.box!) as { x: number; y: number; width: number; height: number },
        grid: (JSON.parse(li.dataset.activation!) as { grid: number[][] }).grid,
        cellType: (JSON.parse(li.dataset.activation!) as { cellType: string }).cellType,
        resultCellType: li.dataset.cellType,
        legend: li.querySelector('.heat-legend')?.textContent ?? '',
      };
    });
  }

  /** Checks the heat map covers exactly the crop box on the thumbnail, and returns its grid. */
  async function expectHeatMapOnBox(file: string, mode: 'server' | 'browser', image = { width: 320, height: 240 }) {
    const shown = await heatMapShown(file, mode);
    const scale = shown.thumb.width / image.width;
    const expected = {
      x: shown.thumb.x + shown.box.x * scale,
      y: shown.thumb.y + shown.box.y * scale,
      width: shown.box.width * scale,
      height: shown.box.height * scale,
    };
    for (const side of ['x', 'y', 'width', 'height'] as const) {
      expect(Math.abs(shown.overlay[side] - expected[side]), `${file} (${mode}) heat map ${side}`).toBeLessThan(1);
    }
    expect(shown.painted, 'every pixel of the box is tinted').toBe(1);
    expect(shown.cellType).toBe(shown.resultCellType);
    expect(shown.legend).toContain(`Evidence for ${shown.cellType.charAt(0)}${shown.cellType.slice(1).toLowerCase()}`);
    return shown.grid;
  }

  it('gives the same probabilities and heat maps in server mode and privacy mode, with no CSP violation', async () => {
    await page.locator('#explain-mode').check();
    expect(await page.evaluate(() => localStorage.getItem('bloodcell.showWhatTheModelSaw'))).toBe('1');

    // A PNG of a real smear: JPEG decoders differ slightly between libjpeg builds, PNG ones do not.
    const png = await sharp(SAMPLE_IMAGES.NEUTROPHIL).png().toBuffer();
    const tiff = await sharp(SAMPLE_IMAGES.EOSINOPHIL).tiff().toBuffer();
    // Plain background, no white cell: the whole image is classified and flagged.
    const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#ebc8cd' } }).png().toBuffer();
    await page.setInputFiles('#files', [
      { name: 'neutrophil.png', mimeType: 'image/png', buffer: png },
      { name: 'eosinophil.tiff', mimeType: 'image/tiff', buffer: tiff },
      { name: 'blank.png', mimeType: 'image/png', buffer: blank },
    ]);
    const fromServer = await probabilitiesShown('neutrophil.png', 'server');
    const serverGrid = await expectHeatMapOnBox('neutrophil.png', 'server');
    await expectHeatMapOnBox('eosinophil.tiff', 'server');
    await expectHeatMapOnBox('blank.png', 'server');
    const reasons = page.locator('#results li[data-file="blank.png"] .review-reasons li[data-reason="no-cell-found"]');
    expect(await reasons.textContent()).toBe('no white cell found: the whole image was classified');

    await page.locator('#privacy-mode').check();
    const status = page.locator('#status');
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/Privacy mode (on|is unavailable)/);
    expect(await status.textContent()).toContain('Privacy mode on: images are classified in this browser (TF.js wasm)');
    const uploads: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') uploads.push(request.url());
    });
    await page.setInputFiles('#files', [{ name: 'neutrophil.png', mimeType: 'image/png', buffer: png }]);
    const inBrowser = await probabilitiesShown('neutrophil.png', 'browser');
    const browserGrid = await expectHeatMapOnBox('neutrophil.png', 'browser');
    expect(uploads, 'privacy mode must not upload images').toEqual([]);

    const gap = Math.max(...CELL_TYPES.map((cellType) => Math.abs(inBrowser[cellType]! - fromServer[cellType]!)));
    const gridGap = Math.max(...serverGrid.flat().map((value, i) => Math.abs(value - browserGrid.flat()[i]!)));
    console.info(`largest server/browser difference: probability ${gap.toExponential(2)}, grid ${gridGap.toExponential(2)}`);
    expect(gap).toBeLessThan(1e-4);
    expect(browserGrid).toHaveLength(serverGrid.length);
    expect(gridGap).toBeLessThan(1e-4);
    await page.locator('#summary').waitFor();
    expect(await page.locator('#differential-caption').textContent()).toBe('Over 4 classified images');

    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const screenshot = join(SCREENSHOT_DIR, 'web-demo.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    await page.locator('#results').screenshot({ path: join(SCREENSHOT_DIR, 'web-demo-results.png') });
    console.info(`screenshots: ${screenshot}, web-demo-results.png beside it`);
    expect(problems).toEqual([]);
  });

  it('is keyboard operable: Tab reaches the file picker and the privacy switch', async () => {
    await page.locator('.skip-link').focus();
    const reached: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || ''));
    }
    expect(reached).toContain('files');
    expect(reached).toContain('privacy-mode');
    expect(reached).toContain('explain-mode');
  });

  it('switches the heat maps with the keyboard and remembers the choice across visits', async () => {
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const toggle = page.locator('#explain-mode');
    expect(await toggle.isChecked()).toBe(true);

    await toggle.focus();
    await page.keyboard.press('Space');
    expect(await toggle.isChecked()).toBe(false);
    expect(await page.evaluate(() => localStorage.getItem('bloodcell.showWhatTheModelSaw'))).toBe('0');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.locator('#explain-mode').isChecked()).toBe(false);
  });

  it('shows hostile file names as text: no markup from a name is ever parsed', async () => {
    if (await page.locator('#privacy-mode').isChecked()) await page.locator('#privacy-mode').uncheck();
    const png = await sharp(SAMPLE_IMAGES.MONOCYTE).png().toBuffer();
    const names = ['<img src=x onerror="window.owned=1">.png', '<b>bold</b>\u0007.png'];
    await page.setInputFiles('#files', [
      { name: names[0]!, mimeType: 'image/png', buffer: png },
      { name: names[1]!, mimeType: 'image/png', buffer: Buffer.from('<script>window.owned=2</script>') },
    ]);
    await expect.poll(() => page.locator('#results li h3').allTextContents(), { timeout: 30_000 }).toEqual(
      expect.arrayContaining(names),
    );
    const injected = await page.evaluate(() => ({
      owned: (window as unknown as { owned?: number }).owned ?? null,
      markup: document.querySelectorAll('#results img, #results b, #results script').length,
    }));
    expect(injected).toEqual({ owned: null, markup: 0 });
  });
});
