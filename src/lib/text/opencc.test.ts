import { describe, expect, it } from 'vitest';
import { loadTraditional, toTraditional, toTraditionalTokens } from './opencc';
import type { TimedToken } from '../pipeline-types';

/** One token per character, 0.25 s each, starting at `t0`. */
const perChar = (text: string, t0 = 0): TimedToken[] => [...text].map((ch, k) => ({ text: ch, start: t0 + k * 0.25, end: t0 + k * 0.25 + 0.2 }));

describe('toTraditional (s2twp)', () => {
  it('converts with Taiwan phrases', async () => {
    expect(await toTraditional('软件')).toBe('軟體');
    expect(await toTraditional('鼠标')).toBe('滑鼠');
    expect(await toTraditional('信息')).toBe('資訊');
    expect(await toTraditional('我们去公园散步，头发里面。')).toBe('我們去公園散步，頭髮裡面。');
    expect(await toTraditional('')).toBe('');
    expect(await toTraditional('Hello, world 123')).toBe('Hello, world 123');
  });

  it('loads the converter once', async () => {
    expect(await loadTraditional()).toBe(await loadTraditional());
  });
});

describe('toTraditionalTokens', () => {
  it('maps a phrase spread over character tokens back character by character, keeping times', async () => {
    const tokens = perChar('这个软件的鼠标信息', 10);
    const out = await toTraditionalTokens(tokens);
    expect(out.map((t) => t.text).join('')).toBe('這個軟體的滑鼠資訊');
    expect(out.map((t) => t.text)).toEqual([...'這個軟體的滑鼠資訊']);
    expect(out.map((t) => [t.start, t.end])).toEqual(tokens.map((t) => [t.start, t.end]));
  });

  it('keeps word tokens, punctuation and spaces in place', async () => {
    const tokens: TimedToken[] = [
      { text: '“软件', start: 0, end: 0.5 },
      { text: '，”', start: 0.5, end: 0.6 },
      { text: ' Mac', start: 1, end: 1.3 },
      { text: '鼠标。', start: 1.4, end: 2 },
    ];
    const out = await toTraditionalTokens(tokens);
    expect(out).toEqual([
      { text: '“軟體', start: 0, end: 0.5 },
      { text: '，”', start: 0.5, end: 0.6 },
      { text: ' Mac', start: 1, end: 1.3 },
      { text: '滑鼠。', start: 1.4, end: 2 },
    ]);
  });

  it('converts token by token inside a clause whose length changes, other clauses keep phrase context', async () => {
    const whole = await toTraditional('内存');
    expect([...whole].length).not.toBe(2); // 記憶體: the phrase changes length
    const tokens = perChar('内存不够，鼠标坏了');
    const out = await toTraditionalTokens(tokens);
    expect(out.length).toBe(tokens.length);
    expect(out.map((t) => [t.start, t.end])).toEqual(tokens.map((t) => [t.start, t.end]));
    const texts = out.map((t) => t.text);
    expect(texts.slice(0, 5).join('')).toBe(((await toTraditional('内')) + (await toTraditional('存')) + '不夠，'));
    expect(texts.slice(5).join('')).toBe('滑鼠壞了'); // second clause: whole-clause conversion
  });

  it('returns [] for no tokens', async () => {
    expect(await toTraditionalTokens([])).toEqual([]);
  });
});
