import { describe, expect, it } from 'vitest';

import { reliabilityBins } from '../evaluate/metrics.js';
import { confusionMatrixSvg, escapeHtml, reliabilitySvg } from './index.js';

describe('report plots', () => {
  it('escapes text for HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('draws one shaded cell per (true, predicted) pair with its count and row share', () => {
    const svg = confusionMatrixSvg([
      [3, 1, 0, 0],
      [0, 4, 0, 0],
      [0, 0, 2, 2],
      [0, 0, 0, 0],
    ]);
    expect(svg.match(/<rect /g)).toHaveLength(16);
    expect(svg).toContain('<title>true MONOCYTE, predicted NEUTROPHIL: 2</title>');
    expect(svg).toContain('>75.0%<');
    expect(svg).not.toContain('NaN');
  });

  it('draws bars for non-empty bins and a line before temperature', () => {
    const bins = reliabilityBins(
      [
        [0.9, 0.1, 0, 0],
        [0.4, 0.3, 0.2, 0.1],
      ],
      [0, 1],
    );
    const svg = reliabilitySvg(bins, bins);
    expect(svg.match(/<title>/g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).not.toContain('NaN');
  });
});
