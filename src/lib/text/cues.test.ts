import { describe, expect, it } from 'vitest';
import type { TimedToken } from '../pipeline-types';
import { buildCues, CUE_DEFAULTS, fitLines, type Cue } from './cues';
import { displayWidth } from './script';
import { alignerUnits, attachTimes } from './units';

const EPS = 1e-9;

/** Tokens for a text the way the aligner path makes them: units + attachTimes, `step` s per unit, no pauses. */
function timed(text: string, t0 = 0, step = 0.3, dur = 0.25): TimedToken[] {
  const units = alignerUnits(text);
  // The fallback is the chunk span: it must contain every unit's time (attachTimes clamps into it).
  const span = { start: t0, end: t0 + Math.max(1, (units.length - 1) * step + dur) };
  return attachTimes(text, units, units.map((_, k) => ({ start: t0 + k * step, end: t0 + k * step + dur })), span);
}

const hasCjk = (s: string) => /\p{Script=Han}/u.test(s);
const strip = (s: string) => s.replace(/\s+/gu, '');

/** Every invariant a cue list must satisfy. */
function checkCues(cues: Cue[], tokens: TimedToken[]) {
  cues.forEach((c, k) => {
    expect(c.lines.length).toBeGreaterThan(0);
    expect(c.lines.length).toBeLessThanOrEqual(CUE_DEFAULTS.maxLines);
    for (const line of c.lines) {
      expect(line).toBe(line.trim());
      expect(/[\p{L}\p{N}]/u.test(c.lines.join(''))).toBe(true); // never punctuation only
      expect(displayWidth(line)).toBeLessThanOrEqual(hasCjk(line) ? CUE_DEFAULTS.maxLineWidthCjk : CUE_DEFAULTS.maxLineWidthLatin);
    }
    expect(c.end).toBeGreaterThanOrEqual(c.start);
    expect(c.end - c.start).toBeLessThanOrEqual(CUE_DEFAULTS.maxDurationSec + EPS);
    if (k > 0) {
      expect(c.start).toBeGreaterThanOrEqual(cues[k - 1].end - EPS); // no overlap, monotonic
      expect(c.start).toBeGreaterThanOrEqual(cues[k - 1].start);
    }
  });
  // No text lost or invented (apart from whitespace).
  const wordTokens = tokens.filter((t) => t.text);
  expect(strip(cues.flatMap((c) => c.lines).join(''))).toBe(strip(wordTokens.map((t) => t.text).join('')).replace(/^[^\p{L}\p{N}]+$/u, ''));
}

describe('CUE_DEFAULTS', () => {
  it('has the named defaults', () => {
    expect(CUE_DEFAULTS).toEqual({
      maxLines: 2,
      maxLineWidthLatin: 42,
      maxLineWidthCjk: 36,
      maxDurationSec: 7,
      minDurationSec: 0.8,
      pauseSec: 0.5,
    });
  });
});

describe('buildCues', () => {
  it('returns no cues for no tokens or punctuation only', () => {
    expect(buildCues([])).toEqual([]);
    expect(buildCues([{ text: '%', start: 0, end: 0 }, { text: '“”', start: 0, end: 0 }])).toEqual([]);
  });

  it('wraps long CJK text in ≤ 2 lines of ≤ 18 characters', () => {
    const text = '人工智能技术的发展正在深刻改变我们的生活方式和工作方式而且这种变化还会继续加速下去我们需要做好准备迎接未来的挑战';
    const tokens = timed(text, 0, 0.12, 0.1); // fast speech: width, not duration, limits the cues
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    expect(cues.length).toBeGreaterThan(1);
    for (const c of cues) {
      expect(c.lines.length).toBeLessThanOrEqual(2);
      for (const line of c.lines) expect([...line].length).toBeLessThanOrEqual(18);
    }
    expect(cues.flatMap((c) => c.lines).join('')).toBe(text);
  });

  it('wraps Latin text in lines of ≤ 42 characters, broken at spaces', () => {
    const text =
      'So I was thinking that maybe we could all go to the park this afternoon if the weather stays nice and everyone happens to be free after lunch';
    const tokens = timed(text, 0, 0.2, 0.18);
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    const words = new Set(text.split(' '));
    for (const c of cues) {
      for (const line of c.lines) {
        expect(line.length).toBeLessThanOrEqual(42);
        for (const w of line.split(' ')) expect(words.has(w)).toBe(true); // never inside a word
      }
    }
    expect(cues.flatMap((c) => c.lines).join(' ')).toBe(text);
  });

  it('splits a 12 s run of tokens (no punctuation, no pause) into cues of at most 7 s', () => {
    const tokens = Array.from({ length: 24 }, (_, k) => ({ text: (k ? ' ' : '') + 'go', start: k * 0.5, end: k * 0.5 + 0.5 }));
    expect(tokens.at(-1)!.end - tokens[0].start).toBe(12);
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    expect(cues.length).toBeGreaterThanOrEqual(2);
    for (const c of cues) expect(c.end - c.start).toBeLessThanOrEqual(7);
    expect(cues[0].start).toBe(0);
    expect(cues.at(-1)!.end).toBe(12);
  });

  it('splits at 。 even when both sentences would fit one cue', () => {
    const tokens = timed('今天天气很好。我们去公园散步。');
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    expect(cues.map((c) => c.lines)).toEqual([['今天天气很好。'], ['我们去公园散步。']]);
    expect(cues[0].start).toBe(0);
    expect(cues[1].start).toBeCloseTo(6 * 0.3);
  });

  it('splits at sentence ends in Latin text but not after "Mr."', () => {
    const tokens = timed('I met Mr. Smith today. He was happy!');
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    expect(cues.map((c) => c.lines.join(' '))).toEqual(['I met Mr. Smith today.', 'He was happy!']);
  });

  it('splits at a 0.8 s pause', () => {
    const tokens: TimedToken[] = [
      { text: 'we', start: 1, end: 1.3 },
      { text: ' are', start: 1.3, end: 1.6 },
      { text: ' here', start: 1.6, end: 2 },
      { text: ' and', start: 2.8, end: 3.1 }, // 0.8 s of silence before
      { text: ' there', start: 3.1, end: 3.6 },
    ];
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    expect(cues).toEqual([
      { start: 1, end: 2, lines: ['we are here'] },
      { start: 2.8, end: 3.6, lines: ['and there'] },
    ]);
  });

  it('does not split at a short pause', () => {
    const tokens: TimedToken[] = [
      { text: 'we', start: 1, end: 1.3 },
      { text: ' are', start: 1.7, end: 2 }, // 0.4 s
    ];
    expect(buildCues(tokens)).toEqual([{ start: 1, end: 2, lines: ['we are'] }]);
  });

  it('extends a short cue to the minimum duration into the following gap, without overlapping', () => {
    const isolated = buildCues([{ text: 'Yes.', start: 2, end: 2.2 }]);
    expect(isolated).toEqual([{ start: 2, end: 2.8, lines: ['Yes.'] }]);

    // the next cue leaves 0.4 s and cannot take "Yes." (the pair would last over 7 s): it grows to
    // the next cue's start, then back into the silence before it
    const cues = buildCues([
      { text: 'Yes.', start: 2, end: 2.2 },
      { text: 'And', start: 2.6, end: 4.5 },
      { text: ' then', start: 4.6, end: 6.8 },
      { text: ' nothing.', start: 6.9, end: 9.5 },
    ]);
    expect(cues.map((c) => c.lines.join(' '))).toEqual(['Yes.', 'And then nothing.']);
    expect(cues[0].end).toBeCloseTo(2.6);
    expect(cues[0].start).toBeCloseTo(1.8);
    expect(cues[1].start).toBe(2.6);
  });

  it('merges a short cue with the next one when there is no room and the pair fits', () => {
    const cues = buildCues([
      { text: 'Yes.', start: 2, end: 2.2 },
      { text: ' Exactly', start: 2.4, end: 3 },
      { text: ' so.', start: 3, end: 3.6 },
    ]);
    expect(cues).toEqual([{ start: 2, end: 3.6, lines: ['Yes. Exactly so.'] }]);
  });

  it('uses the preceding gap when the following one is too short and merging does not fit', () => {
    const tokens: TimedToken[] = [
      { text: 'Well.', start: 0, end: 0.9 },
      { text: ' Yes.', start: 3, end: 3.2 },
      { text: ' And', start: 3.3, end: 5.5 },
      { text: ' then', start: 5.6, end: 7.8 },
      { text: ' nothing.', start: 7.9, end: 10.1 },
    ];
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    expect(cues.map((c) => c.lines.join(' '))).toEqual(['Well.', 'Yes.', 'And then nothing.']);
    expect(cues[1].end).toBeCloseTo(3.3);
    expect(cues[1].start).toBeCloseTo(2.5);
  });

  it('merges a tiny cue with no room into its neighbour', () => {
    const cues = buildCues([
      { text: '好。', start: 1, end: 1.2 },
      { text: '我', start: 1.2, end: 1.4 },
      { text: '们', start: 1.4, end: 1.6 },
      { text: '走', start: 1.6, end: 1.8 },
      { text: '吧。', start: 1.8, end: 2.2 },
    ]);
    expect(cues).toEqual([{ start: 1, end: 2.2, lines: ['好。我们走吧。'] }]);
  });

  it('never makes an empty or punctuation-only cue from "%" or quotes, nor a 00:00 cue from a 0–0 placeholder', () => {
    const tokens: TimedToken[] = [
      { text: '“', start: 0, end: 0 },
      { text: '涨', start: 5, end: 5.2 },
      { text: '了', start: 5.2, end: 5.4 },
      { text: '50', start: 5.4, end: 5.8 },
      { text: '%', start: 0, end: 0 }, // the seed's placeholder for a unit that cleans to nothing
      { text: '”', start: 0, end: 0 },
      { text: '。', start: 0, end: 0 },
      { text: ' "', start: 6, end: 6 },
      { text: 'Yes', start: 6, end: 6.3 },
      { text: '"', start: 6.3, end: 6.3 },
    ];
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    expect(cues[0].start).toBe(5);
    expect(cues.map((c) => c.lines.join('|'))).toEqual(['“涨了50%”。', '"Yes"']);
  });

  it('keeps a cue of one overlong token under the maximum duration', () => {
    const cues = buildCues([{ text: 'Mmmmm', start: 1, end: 12 }]);
    expect(cues).toEqual([{ start: 1, end: 8, lines: ['Mmmmm'] }]);
  });

  it('cuts a token too wide for one line', () => {
    const text = '15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35';
    const cues = buildCues([{ text, start: 0, end: 4 }]);
    checkCues(cues, [{ text, start: 0, end: 4 }]);
    expect(cues.flatMap((c) => c.lines).join(' ')).toBe(text);
  });

  it('repairs tokens going back in time and overlapping', () => {
    const tokens: TimedToken[] = [
      { text: 'one', start: 2, end: 3 },
      { text: ' two', start: 1, end: 2.5 },
      { text: ' three', start: 2.4, end: NaN },
      { text: ' four.', start: 3, end: 3.5 },
    ];
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    expect(cues).toEqual([{ start: 2, end: 3.5, lines: ['one two three four.'] }]);
  });

  it('prefers a break after ，when the cue is full', () => {
    const text = '我们今天下午去公园散步然后去看电影，晚上回家以后我们一起做饭吃饭，再看一会儿书然后睡觉';
    const tokens = timed(text, 0, 0.12, 0.1);
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    const lines = cues.flatMap((c) => c.lines);
    // both commas end a line (or a cue)
    expect(lines.filter((l) => l.endsWith('，')).length).toBe(2);
  });

  it('accepts pre-grouped (jieba) words and never breaks inside them', () => {
    const words = ['人工智能', '技术', '的', '发展', '正在', '深刻', '改变', '我们', '的', '生活', '方式', '和', '工作', '方式', '，', '而且', '这种', '变化', '还会', '继续', '加速'];
    const tokens: TimedToken[] = [];
    let t = 0;
    for (const w of words) {
      tokens.push({ text: w, start: t, end: t + 0.1 * [...w].length });
      t += 0.12 * [...w].length;
    }
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
    const set = new Set(words);
    for (const line of cues.flatMap((c) => c.lines)) {
      // the line splits into whole words
      let rest = line;
      while (rest) {
        const w = [...set].filter((x) => rest.startsWith(x)).sort((a, b) => b.length - a.length)[0];
        expect(w, `line "${line}"`).toBeDefined();
        rest = rest.slice(w.length);
      }
    }
  });

  it('measures mixed CJK/Latin lines by display width', () => {
    const text = '我们用Python和JavaScript写了一个语音识别的网页应用程序然后部署到服务器上给大家使用';
    const tokens = timed(text, 0, 0.1, 0.08);
    const cues = buildCues(tokens);
    checkCues(cues, tokens);
  });

  it('honours options', () => {
    const tokens = timed('one two three four five six seven eight', 0, 0.3, 0.25);
    const cues = buildCues(tokens, { maxLineWidthLatin: 10, maxLines: 1 });
    for (const c of cues) {
      expect(c.lines.length).toBe(1);
      expect(c.lines[0].length).toBeLessThanOrEqual(10);
    }
    expect(cues.map((c) => c.lines[0]).join(' ')).toBe('one two three four five six seven eight');
  });

  it('keeps every invariant on random token streams', () => {
    let x = 12345;
    const random = () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 0x1_0000_0000;
    };
    const pick = <T,>(a: T[]) => a[Math.floor(random() * a.length)];
    const latin = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dogs', 'internationalisation', 'a', 'I', "isn't"];
    const cjk = [...'我们今天去公园散步天气很好的人工智能'];
    const punct = ['', '', '', ',', '.', '?', '!', '，', '。', '%', '”'];
    for (let run = 0; run < 200; run++) {
      const tokens: TimedToken[] = [];
      let t = random() * 3;
      const n = Math.floor(random() * 120);
      const script = random();
      for (let k = 0; k < n; k++) {
        const useCjk = script < 0.4 || (script < 0.7 && random() < 0.5);
        let text = useCjk ? pick(cjk) : (k ? ' ' : '') + pick(latin);
        text += pick(punct);
        if (random() < 0.05) text = pick(['%', '“', '"', ' —', '…']); // stray punctuation tokens
        const gap = random() < 0.1 ? random() * 2 : random() * 0.1;
        const dur = random() < 0.02 ? 9 : random() * 0.5;
        const start = random() < 0.03 ? 0 : t + gap; // some 0–0 placeholders
        tokens.push({ text, start, end: random() < 0.03 ? start : start + dur });
        t = Math.max(t, start + dur);
      }
      const cues = buildCues(tokens);
      checkCues(cues, tokens);
      // minimum duration reached unless the neighbours leave no room
      cues.forEach((c, k) => {
        if (c.end - c.start >= CUE_DEFAULTS.minDurationSec - EPS) return;
        const prevEnd = k > 0 ? cues[k - 1].end : 0;
        const nextStart = k + 1 < cues.length ? cues[k + 1].start : Infinity;
        expect(nextStart - prevEnd).toBeLessThan(CUE_DEFAULTS.minDurationSec + EPS);
      });
    }
  });
});

describe('fitLines', () => {
  it('lays out text that fits one cue, or returns null', () => {
    expect(fitLines('Hello world')).toEqual(['Hello world']);
    const long = '今天天气很好，我们去公园散步。然后我们去看电影吧';
    const lines = fitLines(long)!;
    expect(lines.length).toBe(2);
    expect(lines.join('')).toBe(long);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(18);
    expect(fitLines('字'.repeat(40))).toBeNull();
    expect(fitLines('')).toBeNull();
  });
});

describe('buildCues with words piled onto one instant', () => {
  it('gives every cue a positive duration, in order, without overlaps', () => {
    // An aligner that collapsed: the last 40 words all at 12.774 s (as clamped to the chunk end).
    const text = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const units = alignerUnits(text);
    const times = units.map((_, k) => (k < 20 ? { start: k * 0.4, end: k * 0.4 + 0.3 } : { start: 12.774, end: 12.774 }));
    const tokens = attachTimes(text, units, times, { start: 0, end: 12.774 });
    const cues = buildCues(tokens);
    expect(cues.length).toBeGreaterThan(2);
    for (let k = 0; k < cues.length; k++) {
      expect(cues[k].end).toBeGreaterThan(cues[k].start);
      expect(cues[k].lines.length).toBeLessThanOrEqual(2);
      if (k > 0) expect(cues[k].start).toBeGreaterThanOrEqual(cues[k - 1].end - 1e-9);
    }
    expect(cues.flatMap((c) => c.lines).join(' ').split(/\s+/)).toEqual(text.split(' '));
  });
});
