import { CELL_TYPES } from '@bloodcell/core';

import type { Evaluation, Mistake } from '../evaluate/index.js';
import { confusionMatrixSvg, escapeHtml, reliabilitySvg } from './svg.js';

export { confusionMatrixSvg, escapeHtml, reliabilitySvg } from './svg.js';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #111; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.meta { color: #555; } table { border-collapse: collapse; } td, th { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; } .figures { display: flex; flex-wrap: wrap; gap: 32px; align-items: flex-start; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; } .kpi { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 130px; }
.kpi b { display: block; font-size: 20px; } .mistakes { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 14px; }
.mistake { border: 1px solid #ddd; border-radius: 6px; padding: 6px; font-size: 12px; } .mistake img { width: 240px; display: block; }
svg text.tick { font-size: 11px; fill: #333; } svg text.axis { font-size: 12px; fill: #111; } svg text.count { font-size: 15px; font-weight: 600; }
svg text.share { font-size: 11px; }`;

/**
 * The evaluation as one self-contained HTML page: headline figures, per-class table, confusion
 * matrix and reliability diagram as inline SVG, per-photo accuracy, and the most confident
 * mistakes as inline JPEG thumbnails with the crop box drawn. It loads nothing from the network.
 *
 * @example
 * await writeFile('artifacts/evaluate/report.html', renderReport(evaluation, mistakes));
 */
export function renderReport(evaluation: Evaluation, mistakes: readonly Mistake[]): string {
  const e = evaluation;
  const pct = (x: number) => (Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`);
  const num = (x: number) => (Number.isNaN(x) ? '–' : x.toFixed(3));
  const kpi = (label: string, value: string) =>
    `<div class="kpi">${escapeHtml(label)}<b>${value}</b></div>`;
  const support = e.confusionMatrix.map((row) => row.reduce((a, b) => a + b, 0));

  const classRows = CELL_TYPES.map(
    (c, i) =>
      `<tr><td>${c}</td><td>${num(e.precision[c])}</td><td>${num(e.recall[c])}</td><td>${support[i]}</td></tr>`,
  ).join('');
  const photos = e.sourcePhotos;
  const photoSection = photos
    ? `<h2>Per source photo</h2><p>${photos.photos} source photos: mean accuracy per photo ${pct(photos.meanAccuracy)}, ` +
      `majority vote over each photo's images right for ${pct(photos.majorityVoteAccuracy)}.</p>` +
      `<table><tr><th>hardest photos</th><th>cell type</th><th>images</th><th>accuracy</th></tr>${photos.worst
        .map(
          (p) =>
            `<tr><td>${escapeHtml(p.photo)}</td><td>${p.cellType}</td><td>${p.images}</td><td>${pct(p.accuracy)}</td></tr>`,
        )
        .join('')}</table>`
    : '<h2>Per source photo</h2><p>No groups.csv: source photos unknown.</p>';
  const mistakeCards = mistakes
    .map(
      (m) =>
        `<div class="mistake">${m.thumbnail ? `<img alt="${escapeHtml(m.path)}" src="${m.thumbnail}">` : ''}` +
        `<div><b>${m.predicted}</b> ${pct(m.probability)} — true ${m.cellType}</div><div class="meta">${escapeHtml(m.path)}</div></div>`,
    )
    .join('');
  const unreadable = e.unreadable.length
    ? `<h2>Unreadable images (${e.unreadable.length}, left out)</h2><ul>${e.unreadable
        .map((u) => `<li>${escapeHtml(u.path)}: ${escapeHtml(u.reason)}</li>`)
        .join('')}</ul>`
    : '';

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bloodcell evaluation</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>bloodcell evaluation</h1>
<p class="meta">Model ${escapeHtml(e.model.dir)} (bloodcell ${escapeHtml(e.model.packageVersion)}, trained ${escapeHtml(e.model.createdAt)})
on ${e.images} images from ${escapeHtml(e.data.dir)}${e.data.validationOnly ? ` — only the ${e.data.heldOutGroups} field groups held out in training` : ''}.</p>
<div class="kpis">${kpi('accuracy', pct(e.accuracy))}${kpi('balanced accuracy', pct(e.balancedAccuracy))}${kpi('macro-F1', num(e.macroF1))}
${kpi('ECE before temperature', num(e.calibration.eceBeforeTemperature))}${kpi(`ECE after (T = ${e.calibration.temperature.toFixed(2)})`, num(e.calibration.eceAfterTemperature))}
${kpi(`referred (p < ${e.review.threshold.toFixed(2)})`, pct(e.review.referredShare))}${kpi('accuracy on the rest', pct(e.review.keptAccuracy))}</div>
<p class="meta">Counting every review reason (low confidence, unlike training, no cell found): ${pct(e.review.referredShareAnyReason)} referred, accuracy on the rest ${pct(e.review.keptAccuracyAnyReason)}.</p>
<h2>Per cell type</h2>
<table><tr><th>cell type</th><th>precision</th><th>recall</th><th>images</th></tr>${classRows}</table>
<h2>Confusion matrix and calibration</h2>
<div class="figures"><figure>${confusionMatrixSvg(e.confusionMatrix)}<figcaption>Rows: true cell type; shading: share of the row.</figcaption></figure>
<figure>${reliabilitySvg(e.calibration.reliabilityBefore, e.calibration.reliabilityAfter)}<figcaption>Reliability: a calibrated model follows the dashed diagonal.</figcaption></figure></div>
${photoSection}
<h2>Most confident mistakes (${mistakes.length})</h2>
<p class="meta">The yellow box is the square the model looked at.</p>
<div class="mistakes">${mistakeCards || '<p>None.</p>'}</div>
${unreadable}
</body></html>
`;
}
