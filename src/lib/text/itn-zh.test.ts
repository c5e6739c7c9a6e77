import { describe, it, expect } from 'vitest';
import type { TimedToken } from '../pipeline-types';
import { itnZh, itnZhTokens } from './itn-zh';
import { ITN_ZH_CASES } from './itn-zh-cases';

/** Small deterministic PRNG (xorshift32) so failures are reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const ALL_CASES = Object.values(ITN_ZH_CASES).flat();
const INPUTS = ALL_CASES.map(([input]) => input).filter((x) => x.length > 0);
const SEPARATORS = ['', '', '', '，', '。', ' ', '我', '的', 'and ', '了'];

/** Splits text into tokens of 1–3 characters (mostly 1, as for Chinese) with increasing times. */
function tokenize(text: string, rand: () => number): TimedToken[] {
  const chars = [...text];
  const out: TimedToken[] = [];
  let t = 0;
  for (let k = 0; k < chars.length; ) {
    const r = rand();
    const len = r < 0.7 ? 1 : r < 0.9 ? 2 : 3;
    const piece = chars.slice(k, k + len).join('');
    const dur = 0.05 + rand() * 0.2;
    out.push({ text: piece, start: t, end: t + dur });
    t += dur + (rand() < 0.2 ? rand() * 0.3 : 0);
    k += len;
    // Occasionally an empty token (e.g. a dropped special token) between two others.
    if (rand() < 0.03) out.push({ text: '', start: t, end: t });
  }
  return out;
}

function randomMixture(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 6);
  let s = '';
  for (let k = 0; k < n; k++) {
    if (k > 0) s += SEPARATORS[Math.floor(rand() * SEPARATORS.length)];
    s += INPUTS[Math.floor(rand() * INPUTS.length)];
  }
  return s;
}

describe('itnZh case table', () => {
  it('has at least 250 cases, 60 of them unchanged', () => {
    expect(ALL_CASES.length).toBeGreaterThanOrEqual(250);
    expect(ALL_CASES.filter(([a, b]) => a === b).length).toBeGreaterThanOrEqual(60);
    expect(ITN_ZH_CASES.unchanged.length).toBeGreaterThanOrEqual(60);
  });

  for (const [category, cases] of Object.entries(ITN_ZH_CASES)) {
    describe(category, () => {
      it.each(cases.map(([input, expected]) => [input, expected]))('%s → %s', (input, expected) => {
        expect(itnZh(input)).toBe(expected);
      });
    });
  }
});

describe('itnZhTokens', () => {
  it('merges a converted span into one token and keeps the others ("二零二四年")', () => {
    const tokens: TimedToken[] = [...'二零二四年'].map((c, k) => ({ text: c, start: k * 0.1, end: (k + 1) * 0.1 }));
    const out = itnZhTokens(tokens);
    expect(out.map((t) => t.text)).toEqual(['2024', '年']);
    expect(out[0].start).toBeCloseTo(0, 9);
    expect(out[0].end).toBeCloseTo(0.4, 9);
    expect(out[1].start).toBeCloseTo(0.4, 9);
    expect(out[1].end).toBeCloseTo(0.5, 9);
    expect(out[1]).toBe(tokens[4]); // untouched tokens keep their identity
  });

  it('keeps untouched tokens (times and identity) around a conversion', () => {
    const tokens: TimedToken[] = [...'我有二十个苹果'].map((c, k) => ({ text: c, start: k, end: k + 0.5 }));
    const out = itnZhTokens(tokens);
    expect(out.map((t) => t.text)).toEqual(['我', '有', '20', '个', '苹', '果']);
    expect(out[2]).toEqual({ text: '20', start: 2, end: 3.5 });
    for (const k of [0, 1]) expect(out[k]).toBe(tokens[k]);
    for (const k of [3, 4, 5]) expect(out[k]).toBe(tokens[k + 1]);
  });

  it('takes whole tokens when a conversion starts or ends inside a multi-character token', () => {
    const tokens: TimedToken[] = [
      { text: '大约', start: 0, end: 0.4 },
      { text: '有三', start: 0.4, end: 0.8 },
      { text: '百', start: 0.8, end: 1.0 },
      { text: '五十人', start: 1.0, end: 1.6 },
      { text: '。', start: 1.6, end: 1.6 },
    ];
    const out = itnZhTokens(tokens);
    expect(out).toEqual([
      tokens[0],
      { text: '有350人', start: 0.4, end: 1.6 },
      tokens[4],
    ]);
    expect(out[0]).toBe(tokens[0]);
  });

  it('merges two conversions that share a token into one token', () => {
    // 十二 → 12 ends inside "二月五", which also holds 五 → 5: one token for both.
    const tokens: TimedToken[] = [
      { text: '十', start: 0, end: 1 },
      { text: '二月五', start: 1, end: 2 },
      { text: '号', start: 2, end: 3 },
    ];
    const out = itnZhTokens(tokens);
    expect(out).toEqual([{ text: '12月5', start: 0, end: 2 }, tokens[2]]);
    expect(out[1]).toBe(tokens[2]);
  });

  it('returns an equal list when nothing changes, and handles empty input', () => {
    const tokens: TimedToken[] = [{ text: '你好', start: 0, end: 1 }];
    const out = itnZhTokens(tokens);
    expect(out).toEqual(tokens);
    expect(out[0]).toBe(tokens[0]);
    expect(itnZhTokens([])).toEqual([]);
  });
});

describe('properties', () => {
  it('token and text versions agree on random mixtures split into random tokens', () => {
    const rand = rng(20240305);
    for (let iter = 0; iter < 2000; iter++) {
      const text = randomMixture(rand);
      const tokens = tokenize(text, rand);
      const out = itnZhTokens(tokens);
      const joined = out.map((t) => t.text).join('');
      expect(joined, text).toBe(itnZh(text));
      // Times stay ordered and every output token spans input tokens' times.
      for (let k = 0; k < out.length; k++) {
        expect(out[k].end).toBeGreaterThanOrEqual(out[k].start);
        if (k > 0) expect(out[k].start).toBeGreaterThanOrEqual(out[k - 1].end - 1e-9);
      }
    }
  });

  it('is idempotent on every case and on random mixtures', () => {
    for (const [input] of ALL_CASES) {
      const once = itnZh(input);
      expect(itnZh(once), input).toBe(once);
    }
    const rand = rng(7);
    for (let iter = 0; iter < 3000; iter++) {
      const text = randomMixture(rand);
      const once = itnZh(text);
      expect(itnZh(once), text).toBe(once);
    }
  });

  it('does not change text without Chinese numerals', () => {
    const alphabet = [
      ...'我你他们的了是在有这个人说去来吃饭好点分之比块元年月日号钟负百分号第初星期周',
      ...'abcXYZ 0123456789.,:%~-/!?，。！？、；：“”（）《》',
      '点',
      '分之',
      '百分比',
      '负责',
    ].filter((c) => !/[零〇幺一二两三四五六七八九十百千万亿几]/.test(c));
    const rand = rng(99);
    for (let iter = 0; iter < 2000; iter++) {
      let s = '';
      const n = Math.floor(rand() * 40);
      for (let k = 0; k < n; k++) s += alphabet[Math.floor(rand() * alphabet.length)];
      expect(itnZh(s)).toBe(s);
    }
  });

  it('converts a one-hour transcript (≈15,000 characters) in under 50 ms', () => {
    const rand = rng(1);
    let text = '';
    while (text.length < 15_000) text += randomMixture(rand) + '。';
    const tokens = tokenize(text, rand);
    itnZh(text); // warm-up (JIT)
    itnZhTokens(tokens);
    let best = Infinity;
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      itnZh(text);
      itnZhTokens(tokens);
      best = Math.min(best, performance.now() - t0);
    }
    expect(best).toBeLessThan(50);
  });
});
