import { CELL_TYPES } from '@bloodcell/core';

export interface PageOptions {
  /** Shown in the footer. */
  version: string;
}

const ACCEPT = 'image/jpeg,image/png,image/webp,image/tiff,image/bmp,.jpg,.jpeg,.png,.webp,.tif,.tiff,.bmp';

/**
 * The upload page. Static markup only: no inline script or style (the CSP forbids both), so all
 * behaviour comes from /assets/app.js and all looks from /assets/app.css.
 *
 * @example
 * app.get('/', (c) => c.html(renderPage({ version: VERSION })));
 */
export function renderPage(options: PageOptions): string {
  const rows = CELL_TYPES.map(
    (cellType) =>
      `<tr data-cell-type="${cellType}"><th scope="row">${titleCase(cellType)}</th>` +
      '<td class="count">0</td><td class="percent">0%</td></tr>',
  ).join('\n            ');

  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>bloodcell: white blood cell classifier</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/assets/app.css">
    <script type="module" src="/assets/app.js"></script>
  </head>
  <body>
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="site-header">
      <h1>bloodcell</h1>
      <p>Names the white blood cell in a stained blood-smear image: eosinophil, lymphocyte, monocyte or neutrophil.</p>
    </header>
    <main id="main">
      <section class="panel" aria-labelledby="upload-heading">
        <h2 id="upload-heading">Classify smear images</h2>
        <div class="drop-zone" id="drop-zone">
          <p class="drop-text">Drop images here, or</p>
          <input id="files" class="visually-hidden" type="file" multiple accept="${ACCEPT}" aria-describedby="formats">
          <label for="files" class="button">Choose images…</label>
          <p id="formats" class="hint">JPEG, PNG, WebP, TIFF or BMP; one or many.</p>
        </div>
        <div class="option">
          <input id="privacy-mode" type="checkbox" role="switch" aria-describedby="privacy-hint">
          <label for="privacy-mode">Privacy mode</label>
          <p id="privacy-hint" class="hint">Classifies in this browser: images never leave this computer. The model is downloaded once.</p>
        </div>
        <div class="option">
          <input id="explain-mode" type="checkbox" role="switch" aria-describedby="explain-hint">
          <label for="explain-mode">Show what the model looked at</label>
          <p id="explain-hint" class="hint">Lays a heat map over the square the model examined: where it found evidence for its answer. Each image then takes about twice as long.</p>
        </div>
        <p id="status" class="status" role="status" aria-live="polite"></p>
        <noscript><p class="status error">This page needs JavaScript. The JSON API works without it: POST images to /api/v1/classify.</p></noscript>
      </section>

      <section class="panel" id="summary" aria-labelledby="summary-heading" hidden>
        <h2 id="summary-heading">Differential</h2>
        <table class="differential">
          <caption id="differential-caption">Over 0 classified images</caption>
          <thead><tr><th scope="col">Cell type</th><th scope="col">Count</th><th scope="col">Share</th></tr></thead>
          <tbody>
            ${rows}
          </tbody>
        </table>
        <p id="summary-notes" class="hint"></p>
        <div class="actions">
          <button type="button" id="download-csv" class="button">Download CSV</button>
          <button type="button" id="clear-results" class="button secondary">Clear results</button>
        </div>
      </section>

      <section class="panel" aria-labelledby="results-heading">
        <h2 id="results-heading">Results</h2>
        <p id="no-results" class="hint">No images classified yet.</p>
        <ol id="results" class="results" aria-live="polite" aria-relevant="additions"></ol>
      </section>

      <section class="panel" aria-labelledby="model-heading">
        <h2 id="model-heading">About the model</h2>
        <div id="model-info"><p class="hint">Loading the model’s validation figures…</p></div>
      </section>
    </main>
    <footer class="site-footer">
      <p>Research software, not a medical device: every result needs review by a qualified person.
      bloodcell ${escapeHtml(options.version)} · <a href="/api/v1/openapi.json">API (OpenAPI 3.1)</a></p>
    </footer>
  </body>
</html>
`;
}

/**
 * A cell type as people write it: `NEUTROPHIL` → `Neutrophil`.
 *
 * @example
 * titleCase('EOSINOPHIL'); // 'Eosinophil'
 */
export function titleCase(cellType: string): string {
  return cellType.charAt(0) + cellType.slice(1).toLowerCase();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
