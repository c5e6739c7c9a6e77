import { describe, expect, it, vi } from 'vitest';
import type { TimedToken } from '../pipeline-types';

const perChar = (text: string, t0 = 0): TimedToken[] => [...text].map((ch, k) => ({ text: ch, start: t0 + k * 0.3, end: t0 + k * 0.3 + 0.25 }));

describe('groupWords before jieba is loaded', () => {
  it('keeps per-character tokens and warns once', async () => {
    vi.resetModules();
    const { groupWords } = await import('./words');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const tokens = perChar('今天天气');
    expect(groupWords(tokens)).toEqual(tokens);
    expect(groupWords(tokens)).toEqual(tokens);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });
});

describe('initJieba when jieba-wasm cannot be loaded', () => {
  it('resolves false with a warning, and groupWords keeps the characters', async () => {
    vi.resetModules();
    vi.doMock('jieba-wasm', () => {
      throw new Error('wasm unavailable');
    });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const { groupWords, initJieba, jiebaReady } = await import('./words');
      expect(await initJieba()).toBe(false);
      expect(jiebaReady()).toBe(false);
      const tokens = perChar('公园散步');
      expect(groupWords(tokens)).toEqual(tokens);
      expect(warn).toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      vi.doUnmock('jieba-wasm');
    }
  });
});

describe('groupWords with jieba', async () => {
  vi.resetModules();
  const { groupWords, initJieba, jiebaReady } = await import('./words');

  it('initialises jieba-wasm in Node once', async () => {
    const first = initJieba();
    expect(initJieba()).toBe(first);
    expect(await first).toBe(true);
    expect(jiebaReady()).toBe(true);
  });

  it('merges characters into jieba words, start of the first and end of the last', () => {
    const tokens = perChar('今天天气很好我们去公园散步', 5);
    const words = groupWords(tokens);
    expect(words.map((w) => w.text)).toEqual(['今天天气', '很', '好', '我们', '去', '公园', '散步']);
    expect(words.map((w) => w.text).join('')).toBe('今天天气很好我们去公园散步');
    expect(words[0]).toEqual({ text: '今天天气', start: 5, end: tokens[3].end });
    expect(words.at(-1)).toEqual({ text: '散步', start: tokens[11].start, end: tokens[12].end });
  });

  it('keeps punctuation attached to its token and leaves non-CJK tokens unchanged', () => {
    const tokens: TimedToken[] = [
      { text: '“今', start: 0, end: 0.2 },
      { text: '天', start: 0.2, end: 0.4 },
      { text: '，”', start: 0.4, end: 0.45 },
      { text: '我', start: 1, end: 1.2 },
      { text: '们', start: 1.2, end: 1.4 },
      { text: '用', start: 1.4, end: 1.6 },
      { text: 'Python', start: 1.6, end: 2.2 },
      { text: ' 3', start: 2.2, end: 2.4 },
      { text: '写', start: 2.4, end: 2.6 },
      { text: '代', start: 2.6, end: 2.8 },
      { text: '码。', start: 2.8, end: 3 },
    ];
    const words = groupWords(tokens);
    expect(words.map((w) => w.text).join('')).toBe(tokens.map((t) => t.text).join(''));
    expect(words.map((w) => w.text)).toEqual(['“今天', '，”', '我们', '用', 'Python', ' 3', '写', '代码。']);
    expect(words[0]).toEqual({ text: '“今天', start: 0, end: 0.4 });
    expect(words[4]).toEqual(tokens[6]);
  });

  it('handles empty input and does not modify its input', () => {
    expect(groupWords([])).toEqual([]);
    const tokens = perChar('公园');
    const copy = structuredClone(tokens);
    groupWords(tokens);
    expect(tokens).toEqual(copy);
  });
});
