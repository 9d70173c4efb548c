import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { formatSeconds, progressBar } from './index.js';

function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  stream.isTTY = isTTY;
  return { stream, text: () => text };
}

describe('progressBar', () => {
  it('draws a bar with counts on a terminal and clears it at the end', () => {
    const out = capture(true);
    const progress = progressBar('features', 4, { stream: out.stream });
    for (let i = 0; i < 4; i++) progress.tick();
    progress.done('4 images');
    expect(out.text()).toMatch(/features \[#+\] 4\/4/);
    expect(out.text()).toMatch(/features: 4 images\n$/);
  });

  it('stays silent off a terminal for short jobs, and prints every 10% for long ones', () => {
    const short = capture(false);
    const quick = progressBar('x', 10, { stream: short.stream });
    for (let i = 0; i < 10; i++) quick.tick();
    quick.done();
    expect(short.text()).toBe('');

    const long = capture(false);
    const slow = progressBar('features', 2000, { stream: long.stream });
    for (let i = 0; i < 2000; i++) slow.tick();
    expect(long.text().trim().split('\n')).toHaveLength(9);
    expect(long.text()).toMatch(/^features: 200\/2000 \(10%\)/);
  });

  it('formats durations', () => {
    expect(formatSeconds(5)).toBe('5.0s');
    expect(formatSeconds(252)).toBe('4m12s');
    expect(formatSeconds(Number.NaN)).toBe('?');
  });
});
