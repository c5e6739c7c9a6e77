import { describe, expect, it } from 'vitest';
import { alignerUnits, attachTimes, type AlignerUnit } from './units';

const unitTexts = (text: string) => alignerUnits(text).map((u) => u.unit);

/** Small deterministic PRNG (xorshift32). */
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

describe('alignerUnits', () => {
  it('splits Chinese into one unit per ideograph, dropping punctuation', () => {
    expect(unitTexts('你好，世界。')).toEqual(['你', '好', '世', '界']);
    expect(alignerUnits('你好，世界。')).toEqual([
      { unit: '你', from: 0, to: 1 },
      { unit: '好', from: 1, to: 2 },
      { unit: '世', from: 3, to: 4 },
      { unit: '界', from: 4, to: 5 },
    ]);
  });

  it('splits English per whitespace word, keeping letters, numbers and the ASCII apostrophe', () => {
    expect(unitTexts("Hello, world! It's 3.5 e-mail.")).toEqual(['Hello', 'world', "It's", '35', 'email']);
    const units = alignerUnits("Hello, world! It's 3.5 e-mail.");
    expect(units[3]).toEqual({ unit: '35', from: 19, to: 22 }); // "3.5": the deleted "." is inside the range
    expect(units[4]).toEqual({ unit: 'email', from: 23, to: 29 });
  });

  it('keeps a curly apostrophe out (only ASCII \' is kept)', () => {
    expect(unitTexts('don’t')).toEqual(['dont']);
  });

  it('splits mixed text: ideographs alone, runs of other letters together', () => {
    expect(unitTexts('我用Python写code，OK？')).toEqual(['我', '用', 'Python', '写', 'codeOK']); // "，" is deleted first
    // the filter runs before the CJK split: "ab,cd" is one run, "ab,你" is "ab" + "你"
    expect(unitTexts('ab,cd ab,你')).toEqual(['abcd', 'ab', '你']);
    // kana and hangul are not CJK ideographs here: runs stay together
    expect(unitTexts('こんにちは 世界 안녕하세요')).toEqual(['こんにちは', '世', '界', '안녕하세요']);
  });

  it('gives nothing for punctuation, symbols, emoji or empty text', () => {
    expect(alignerUnits('')).toEqual([]);
    expect(alignerUnits('   ')).toEqual([]);
    expect(alignerUnits('%')).toEqual([]);
    expect(alignerUnits('“”，。！？…—%~/《》')).toEqual([]);
    expect(alignerUnits('😀 🎉')).toEqual([]);
    expect(unitTexts('好😀棒')).toEqual(['好', '棒']);
  });

  it('handles astral ideographs (UTF-16 pairs) and compatibility ideographs', () => {
    const units = alignerUnits('𠀀a𪜀');
    expect(units).toEqual([
      { unit: '𠀀', from: 0, to: 2 },
      { unit: 'a', from: 2, to: 3 },
      { unit: '𪜀', from: 3, to: 5 },
    ]);
    expect(unitTexts('\uF900\u{2F800}')).toEqual(['\uF900', '\u{2F800}']);
  });

  it('splits on the whitespace Python splits on (ideographic space, no-break space)', () => {
    expect(unitTexts('a\u3000b\u00a0c\td')).toEqual(['a', 'b', 'c', 'd']);
  });
});

/** Checks every invariant of attachTimes' output for one text. */
function checkAttach(text: string, units: AlignerUnit[], times: { start: number; end: number }[]) {
  const tokens = attachTimes(text, units, times, { start: 1, end: 9 });
  expect(tokens.map((t) => t.text).join('')).toBe(text);
  if (!text) {
    expect(tokens).toEqual([]);
    return tokens;
  }
  expect(tokens.length).toBe(Math.max(1, units.length));
  let pos = 0;
  tokens.forEach((t, k) => {
    if (units.length) {
      // the token holds its unit's whole range
      expect(pos).toBeLessThanOrEqual(units[k].from);
      expect(pos + t.text.length).toBeGreaterThanOrEqual(units[k].to);
    }
    pos += t.text.length;
    expect(Number.isFinite(t.start) && Number.isFinite(t.end)).toBe(true);
    expect(t.end).toBeGreaterThanOrEqual(t.start);
    if (k > 0) expect(t.start).toBeGreaterThanOrEqual(tokens[k - 1].end);
  });
  return tokens;
}

describe('attachTimes', () => {
  const timesFor = (units: AlignerUnit[]) => units.map((_, k) => ({ start: 1 + k * 0.5, end: 1.4 + k * 0.5 }));
  const attach = (text: string) => {
    const units = alignerUnits(text);
    return checkAttach(text, units, timesFor(units));
  };

  it('attaches trailing punctuation to the preceding unit and spaces to the following one', () => {
    expect(attach('Hello, world! How are you?').map((t) => t.text)).toEqual(['Hello,', ' world!', ' How', ' are', ' you?']);
    expect(attach('你好，世界。').map((t) => t.text)).toEqual(['你', '好，', '世', '界。']);
  });

  it('gives leading punctuation and quotes to the first token, opening quotes to the following word', () => {
    expect(attach('“你好，”他说。').map((t) => t.text)).toEqual(['“你', '好，”', '他', '说。']);
    expect(attach('"Yes," she said "no".').map((t) => t.text)).toEqual(['"Yes,"', ' she', ' said', ' "no".']);
    expect(attach('他说“好”。').map((t) => t.text)).toEqual(['他', '说', '“好”。']);
    expect(attach('他说"好"。').map((t) => t.text)).toEqual(['他', '说', '"好"。']);
    expect(attach('  ...so').map((t) => t.text)).toEqual(['  ...so']);
  });

  it('keeps symbols with their number: 50% stays one token', () => {
    expect(attach('50%的人').map((t) => t.text)).toEqual(['50%', '的', '人']);
  });

  it('uses the unit times, in seconds', () => {
    const tokens = attach('你好');
    expect(tokens).toEqual([
      { text: '你', start: 1, end: 1.4 },
      { text: '好', start: 1.5, end: 1.9 },
    ]);
  });

  it('gives punctuation-only text one token over the fallback span, and empty text none', () => {
    expect(attachTimes('%', alignerUnits('%'), [], { start: 2, end: 3 })).toEqual([{ text: '%', start: 2, end: 3 }]);
    expect(attachTimes('“”。', [], [], { start: 2, end: 3 })).toEqual([{ text: '“”。', start: 2, end: 3 }]);
    expect(attachTimes('', [], [])).toEqual([]);
  });

  it('repairs times: non-decreasing, no overlaps, end ≥ start', () => {
    const text = 'a b c d';
    const units = alignerUnits(text);
    const tokens = checkAttach(text, units, [
      { start: 2, end: 3 },
      { start: 1, end: 0.5 }, // goes back in time, end before start
      { start: 2.5, end: 4 }, // overlaps the first
      { start: 5, end: 6 },
    ]);
    expect(tokens.map((t) => [t.start, t.end])).toEqual([
      [2, 2],
      [2, 2],
      [2.5, 4],
      [5, 6],
    ]);
  });

  it('fills missing or non-finite times from the neighbours and the fallback', () => {
    const text = 'one two three four';
    const units = alignerUnits(text);
    const tokens = checkAttach(text, units, [{ start: 1, end: 2 }, { start: NaN, end: NaN }, { start: 4, end: 5 }]);
    expect(tokens[1].start).toBe(2);
    expect(tokens[1].end).toBe(4);
    expect(tokens[3].start).toBe(5); // no time at all: after the last known one
  });

  it('ignores a unit list that does not belong to the text', () => {
    const tokens = attachTimes('abc', [{ unit: 'x', from: 5, to: 9 }], [{ start: 0, end: 1 }], { start: 3, end: 4 });
    expect(tokens).toEqual([{ text: 'abc', start: 3, end: 4 }]);
  });

  it('keeps the concatenation invariant on many texts', () => {
    const fixed = [
      '',
      ' ',
      '%',
      '“',
      '"',
      '……',
      'a',
      ' a ',
      '“Quoted” text, and (brackets) — dashes… “nested ‘quotes’”.',
      '「你好」，《书名》：第3.5章！',
      '二零一九年一月三十一日，百分之五十。',
      "rock'n'roll isn't dead",
      'x-ray e.g. U.S.A. 3,000.50 $5 €10 #tag @user',
      '\t\n line\r\nbreaks\n',
      '😀 emoji 👍🏽 and 你好😀',
      'مرحبا بالعالم',
      'Привет, мир!',
      'ＦＵＬＬ　ｗｉｄｔｈ　１２３',
      'café cafe\u0301',
    ];
    for (const text of fixed) attach(text);
    const alphabet = [...'你好世界我们 ,.!?，。！？“”‘’"\'()（）《》%~/-—…abcXYZ019😀\u3000\t\u00a0'];
    const random = rng(42);
    for (let n = 0; n < 500; n++) {
      let text = '';
      const len = Math.floor(random() * 25);
      for (let k = 0; k < len; k++) text += alphabet[Math.floor(random() * alphabet.length)];
      const units = alignerUnits(text);
      const times = units.map(() => {
        const s = random() * 10;
        return { start: s, end: s + random() - 0.2 };
      });
      checkAttach(text, units, random() < 0.1 ? times.slice(0, Math.floor(times.length / 2)) : times);
    }
  });
});

describe('attachTimes keeps times inside the chunk', () => {
  it('clamps aligner times beyond the chunk span', () => {
    const text = 'one two three';
    const units = alignerUnits(text);
    const toks = attachTimes(text, units, [{ start: 9, end: 11 }, { start: 12, end: 70 }, { start: 64, end: 80 }], { start: 10, end: 20 });
    expect(toks.map((t) => t.text).join('')).toBe(text);
    for (const t of toks) {
      expect(t.start).toBeGreaterThanOrEqual(10);
      expect(t.end).toBeLessThanOrEqual(20);
      expect(t.end).toBeGreaterThanOrEqual(t.start);
    }
    expect(toks[0].start).toBe(10);
  });
});
