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

  it('gives the same probabilities to 1e-4 in server mode and privacy mode, with no CSP violation', async () => {
    // A PNG of a real smear: JPEG decoders differ slightly between libjpeg builds, PNG ones do not.
    const png = await sharp(SAMPLE_IMAGES.NEUTROPHIL).png().toBuffer();
    const tiff = await sharp(SAMPLE_IMAGES.EOSINOPHIL).tiff().toBuffer();
    await page.setInputFiles('#files', [
      { name: 'neutrophil.png', mimeType: 'image/png', buffer: png },
      { name: 'eosinophil.tiff', mimeType: 'image/tiff', buffer: tiff },
    ]);
    const fromServer = await probabilitiesShown('neutrophil.png', 'server');
    await probabilitiesShown('eosinophil.tiff', 'server');

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
    expect(uploads, 'privacy mode must not upload images').toEqual([]);

    const gap = Math.max(...CELL_TYPES.map((cellType) => Math.abs(inBrowser[cellType]! - fromServer[cellType]!)));
    console.info(`largest server/browser probability difference: ${gap.toExponential(2)}`);
    expect(gap).toBeLessThan(1e-4);
    await page.locator('#summary').waitFor();
    expect(await page.locator('#differential-caption').textContent()).toBe('Over 3 classified images');

    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const screenshot = join(SCREENSHOT_DIR, 'web-demo.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.info(`screenshot: ${screenshot}`);
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
  });
});
