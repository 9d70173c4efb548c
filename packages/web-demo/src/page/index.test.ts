import { describe, expect, it } from 'vitest';

import { renderPage, titleCase } from './index.js';

describe('renderPage', () => {
  const html = renderPage({ version: '1.2.3<script>' });

  it('has no inline script or style, which the CSP would block', () => {
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/);
  });

  it('labels every form control and announces results politely', () => {
    for (const id of html.matchAll(/<input id="([^"]+)"/g)) {
      expect(html).toContain(`<label for="${id[1]}"`);
    }
    expect(html).toContain('id="results" class="results" aria-live="polite"');
    expect(html).toContain('role="status"');
    expect(html).toContain('<html lang="en">');
  });

  it('escapes what it interpolates', () => {
    expect(html).toContain('1.2.3&#60;script&#62;');
  });
});

describe('titleCase', () => {
  it('writes a cell type as a word', () => {
    expect(titleCase('MONOCYTE')).toBe('Monocyte');
  });
});
