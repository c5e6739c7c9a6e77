import { describe, expect, it } from 'vitest';
import { transcriptToJson, transcriptToSrt, transcriptToText } from './export';
import type { TimedToken, Transcript, TranscriptChunk } from './pipeline-types';
import {
  applyEdits,
  chunkAt,
  editChunk,
  fitTokensToChunks,
  findMatches,
  neighbourChunk,
  normaliseEdit,
  retimeTokens,
  segmentText,
  tokenAt,
} from './transcript-edit';

/** Tokens from [text, start, end] triples. */
const toks = (...list: [string, number, number][]): TimedToken[] => list.map(([text, start, end]) => ({ text, start, end }));

const EN = toks(['The', 1, 1.2], [' quick', 1.3, 1.6], [' brown', 1.7, 2.0], [' fox', 2.1, 2.4], [' jumps.', 2.5, 3.0]);
const ZH = toks(['今天', 5, 5.4], ['天气', 5.4, 5.8], ['很', 5.8, 6.0], ['好。', 6.0, 6.4]);

function chunk(index: number, start: number, end: number, tokens: TimedToken[] | undefined, extra: Partial<TranscriptChunk> = {}): TranscriptChunk {
  const text = tokens ? tokens.map((k) => k.text).join('') : 'some text';
  return { index, start, end, language: 'English', text, partial: '', status: 'done', tokens, ...extra };
}

function transcript(chunks: TranscriptChunk[]): Transcript {
  return { fileName: 'talk.wav', durationSec: 10, chunks, speech: [], createdAt: '2026-01-01T00:00:00.000Z' };
}

/** Invariants every re-mapped token list keeps. */
function expectWellFormed(out: TimedToken[], text: string, span: { start: number; end: number }) {
  expect(out.map((k) => k.text).join('')).toBe(text);
  for (let i = 0; i < out.length; i++) {
    expect(out[i].end).toBeGreaterThanOrEqual(out[i].start);
    expect(out[i].start).toBeGreaterThanOrEqual(span.start - 1e-9);
    expect(out[i].end).toBeLessThanOrEqual(span.end + 1e-9);
    if (i > 0) expect(out[i].start).toBeGreaterThanOrEqual(out[i - 1].start - 1e-9);
  }
}

describe('retimeTokens', () => {
  const span = { start: 1, end: 3 };

  it('keeps the times of unchanged words and gives a replaced word the time of the one it replaces', () => {
    const text = 'The quick red fox jumps.';
    const out = retimeTokens(EN, text, span);
    expectWellFormed(out, text, span);
    expect(out.map((k) => k.text)).toEqual(['The', ' quick', ' red', ' fox', ' jumps.']);
    expect(out[0]).toEqual(EN[0]);
    expect(out[1]).toEqual(EN[1]);
    expect(out[2]).toMatchObject({ start: 1.7, end: 2.0 });
    expect(out[3]).toEqual(EN[3]);
    expect(out[4]).toEqual(EN[4]);
  });

  it('shares the replaced span between several new words by length', () => {
    const out = retimeTokens(EN, 'The quick red or amber fox jumps.', span);
    expectWellFormed(out, 'The quick red or amber fox jumps.', span);
    const middle = out.slice(2, 5);
    expect(middle.map((k) => k.text)).toEqual([' red', ' or', ' amber']);
    expect(middle[0].start).toBeCloseTo(1.7);
    expect(middle[2].end).toBeCloseTo(2.0);
    // "red" 3 letters, "or" 2, "amber" 5 → 30 %, 20 %, 50 % of 0.3 s.
    expect(middle[0].end - middle[0].start).toBeCloseTo(0.09);
    expect(middle[1].end - middle[1].start).toBeCloseTo(0.06);
  });

  it('drops deleted words and keeps the rest', () => {
    const out = retimeTokens(EN, 'The quick fox jumps.', span);
    expectWellFormed(out, 'The quick fox jumps.', span);
    expect(out).toEqual([EN[0], EN[1], EN[3], EN[4]]);
  });

  it('times an inserted word in the gap where it was inserted', () => {
    const out = retimeTokens(EN, 'The quick brown sly fox jumps.', span);
    expectWellFormed(out, 'The quick brown sly fox jumps.', span);
    expect(out[3]).toMatchObject({ text: ' sly', start: 2.0, end: 2.1 });
  });

  it('does not keep a token that is only the start of a changed word', () => {
    const out = retimeTokens(EN, 'Theo quick brown fox jumps.', span);
    expectWellFormed(out, 'Theo quick brown fox jumps.', span);
    expect(out[0]).toMatchObject({ text: 'Theo', start: 1, end: 1.2 });
    expect(out.slice(1)).toEqual(EN.slice(1));
  });

  it('handles a change of the first and of the last word', () => {
    const text = 'A quick brown fox leaps!';
    const out = retimeTokens(EN, text, span);
    expectWellFormed(out, text, span);
    expect(out[0]).toMatchObject({ text: 'A', start: 1, end: 1.2 });
    expect(out.at(-1)).toMatchObject({ text: ' leaps!', start: 2.5, end: 3.0 });
  });

  it('re-maps CJK text (jieba words and single characters)', () => {
    const text = '今天天氣很好。';
    const out = retimeTokens(ZH, text, { start: 5, end: 6.4 });
    expectWellFormed(out, text, { start: 5, end: 6.4 });
    expect(out[0]).toEqual(ZH[0]);
    expect(out.slice(-2)).toEqual(ZH.slice(-2));
    const changed = out.slice(1, -2);
    expect(changed.map((k) => k.text).join('')).toBe('天氣');
    expect(changed[0].start).toBeCloseTo(5.4);
    expect(changed.at(-1)!.end).toBeCloseTo(5.8);
  });

  it('keeps the words between two separate changes', () => {
    const text = 'A quick brown fox leaps!';
    const out = retimeTokens(EN, text, span);
    expect(out.slice(1, 4)).toEqual(EN.slice(1, 4));
  });

  it('stays well-formed for random edits, and fast for a long chunk', () => {
    const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu'.split(' ');
    let seed = 7;
    const rand = (k: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % k;
    };
    const long: TimedToken[] = [];
    for (let k = 0; k < 160; k++) long.push({ text: (k ? ' ' : '') + words[rand(words.length)], start: k * 0.18, end: k * 0.18 + 0.15 });
    const longSpan = { start: 0, end: 30 };
    const base = long.map((k) => k.text).join('');
    for (let round = 0; round < 30; round++) {
      const parts = base.split(' ');
      for (let e = 0; e < 3; e++) {
        const at = rand(parts.length);
        const op = rand(3);
        if (op === 0) parts.splice(at, 1);
        else if (op === 1) parts.splice(at, 0, 'inserted');
        else parts[at] = parts[at].toUpperCase();
      }
      const text = parts.join(' ').trim();
      const t0 = performance.now();
      const out = retimeTokens(long, text, longSpan);
      expect(performance.now() - t0).toBeLessThan(250);
      expectWellFormed(out, text, longSpan);
      // Most words were not touched and keep their own times.
      const keptTimes = out.filter((k) => long.some((o) => o.start === k.start && o.end === k.end && o.text.trim() === k.text.trim()));
      expect(keptTimes.length).toBeGreaterThan(140);
    }
  });

  it('a chunk timed as one token stays one token; an emptied chunk has none', () => {
    const whole = toks(['hello there', 1, 3]);
    expect(retimeTokens(whole, 'hello world', span)).toEqual([{ text: 'hello world', start: 1, end: 3 }]);
    expect(retimeTokens(EN, '', span)).toEqual([]);
  });

  it('a text rewritten from scratch shares the whole span', () => {
    const text = 'Completely different words here';
    const out = retimeTokens(EN, text, span);
    expectWellFormed(out, text, span);
    expect(out[0].start).toBeCloseTo(1);
    expect(out.at(-1)!.end).toBeCloseTo(3);
  });

  it('ignores a leading space of the recognised text', () => {
    const lead = toks([' Hello', 1, 1.5], [' world.', 1.6, 2]);
    const out = retimeTokens(lead, 'Hello there world.', span);
    expectWellFormed(out, 'Hello there world.', span);
    expect(out[0]).toMatchObject({ text: 'Hello', start: 1, end: 1.5 });
    expect(out.at(-1)).toMatchObject({ text: ' world.', start: 1.6, end: 2 });
  });
});

describe('applyEdits', () => {
  const t = transcript([chunk(0, 1, 3, EN), chunk(1, 5, 6.4, ZH, { language: 'Chinese' }), chunk(2, 7, 8, undefined, { status: 'no-speech', text: '' })]);

  it('returns the same transcript without edits, and never modifies its input', () => {
    expect(applyEdits(t, new Map())).toBe(t);
    const before = structuredClone(t);
    applyEdits(t, new Map([[0, 'Edited.']]));
    expect(t).toEqual(before);
  });

  it('changes only the edited chunk (other chunks are the same objects)', () => {
    const out = applyEdits(t, new Map([[0, 'The quick red fox jumps.']]));
    expect(out).not.toBe(t);
    expect(out.chunks[0].text).toBe('The quick red fox jumps.');
    expect(out.chunks[1]).toBe(t.chunks[1]);
    expect(out.chunks[2]).toBe(t.chunks[2]);
  });

  it('ignores edits of chunks that have no text to edit, and edits that change nothing', () => {
    expect(applyEdits(t, new Map([[2, 'invented']]))).toBe(t);
    expect(applyEdits(t, new Map([[0, '  The quick brown fox jumps.  ']]))).toBe(t);
    expect(applyEdits(t, new Map([[9, 'no such chunk']]))).toBe(t);
  });

  it('every export carries the edit', () => {
    const out = applyEdits(t, new Map([[0, 'The quick red fox jumps.']]));
    expect(transcriptToText(out)).toContain('The quick red fox jumps.');
    expect(transcriptToSrt(out)).toContain('red fox');
    expect(transcriptToSrt(out)).not.toContain('brown');
    const json = JSON.parse(transcriptToJson(out));
    expect(json.segments[0].text).toBe('The quick red fox jumps.');
    expect(json.segments[0].words.map((w: { text: string }) => w.text)).toEqual(['The', 'quick', 'red', 'fox', 'jumps.']);
    expect(json.segments[0].words[2]).toMatchObject({ start: 1.7, end: 2 });
  });

  it('a chunk edited to nothing leaves the exports', () => {
    const out = applyEdits(t, new Map([[0, '   ']]));
    expect(out.chunks[0]).toMatchObject({ text: '', tokens: [] });
    expect(transcriptToText(out)).not.toContain('quick');
    expect(JSON.parse(transcriptToJson(out)).segments).toHaveLength(1);
  });

  it('a chunk without tokens gets the new text and still no tokens', () => {
    const plain = transcript([chunk(0, 0, 2, undefined)]);
    const out = editChunk(plain.chunks[0], 'other text');
    expect(out.text).toBe('other text');
    expect(out.tokens).toBeUndefined();
  });
});

describe('normaliseEdit', () => {
  it('turns line breaks into spaces and trims', () => {
    expect(normaliseEdit('  one\r\ntwo \n  three  ')).toBe('one two three');
  });
});

describe('findMatches', () => {
  const chunks = [
    { text: 'The Fox and the fox.', status: 'done' as const },
    { text: '', status: 'pending' as const },
    { text: 'no match here', status: 'done' as const },
    { text: 'FOXES', status: 'done' as const },
  ];

  it('finds every case-insensitive match with its chunk position and range', () => {
    expect(findMatches(chunks, 'fox')).toEqual([
      { chunk: 0, from: 4, to: 7 },
      { chunk: 0, from: 16, to: 19 },
      { chunk: 3, from: 0, to: 3 },
    ]);
  });

  it('finds nothing for an empty query, and CJK matches work', () => {
    expect(findMatches(chunks, '  ')).toEqual([]);
    expect(findMatches([{ text: '今天天气很好', status: 'done' }], '天气')).toEqual([{ chunk: 0, from: 2, to: 4 }]);
  });
});

describe('segmentText', () => {
  it('cuts at token boundaries and marks matches', () => {
    const text = 'The quick brown fox jumps.';
    const segs = segmentText(text, EN, [{ from: 6, to: 12 }]);
    expect(segs.map((s) => s.text).join('')).toBe(text);
    expect(segs).toEqual([
      { text: 'The', token: 0, match: -1 },
      { text: ' qu', token: 1, match: -1 },
      { text: 'ick', token: 1, match: 0 },
      { text: ' br', token: 2, match: 0 },
      { text: 'own', token: 2, match: -1 },
      { text: ' fox', token: 3, match: -1 },
      { text: ' jumps.', token: 4, match: -1 },
    ]);
  });

  it('treats text whose tokens do not spell it as one untimed piece', () => {
    expect(segmentText('something else', EN)).toEqual([{ text: 'something else', token: -1, match: -1 }]);
    expect(segmentText('', EN)).toEqual([]);
  });

  it('maps tokens with a leading space onto the trimmed text', () => {
    const segs = segmentText('Hello world', toks([' Hello', 0, 1], [' world', 1, 2]));
    expect(segs).toEqual([
      { text: 'Hello', token: 0, match: -1 },
      { text: ' world', token: 1, match: -1 },
    ]);
  });
});

describe('tokenAt / chunkAt / neighbourChunk', () => {
  it('the token playing is the last one started, none before the first or after the last', () => {
    expect(tokenAt(EN, 0.5)).toBe(-1);
    expect(tokenAt(EN, 1)).toBe(0);
    expect(tokenAt(EN, 1.25)).toBe(0); // the pause after "The"
    expect(tokenAt(EN, 1.9)).toBe(2);
    expect(tokenAt(EN, 2.9)).toBe(4);
    expect(tokenAt(EN, 3.1)).toBe(-1);
  });

  const spans = [
    { start: 1, end: 3 },
    { start: 5, end: 6.4 },
    { start: 7, end: 8 },
  ];

  it('finds the chunk whose span holds a time', () => {
    expect(chunkAt(spans, 0)).toBe(-1);
    expect(chunkAt(spans, 1)).toBe(0);
    expect(chunkAt(spans, 4)).toBe(-1);
    expect(chunkAt(spans, 6)).toBe(1);
    expect(chunkAt(spans, 8)).toBe(-1);
  });

  it('goes to the next chunk, or back to the start of this one / the one before', () => {
    expect(neighbourChunk(spans, 0, 1)).toBe(0);
    expect(neighbourChunk(spans, 1, 1)).toBe(1);
    expect(neighbourChunk(spans, 7.5, 1)).toBe(-1);
    expect(neighbourChunk(spans, 6.2, -1)).toBe(1); // 1.2 s into chunk 1: its start
    expect(neighbourChunk(spans, 5.3, -1)).toBe(0); // just started: the one before
    expect(neighbourChunk(spans, 1.5, -1)).toBe(-1);
  });
});

describe('fitTokensToChunks', () => {
  it('keeps word times inside their chunk, and changes nothing when they fit', () => {
    const ok = transcript([chunk(0, 1, 3, EN)]);
    expect(fitTokensToChunks(ok)).toBe(ok);
    const wild = transcript([chunk(0, 1, 3, toks(['a', 0.5, 0.8], [' b', 2.5, 64], [' c', 70, 71])), chunk(1, 5, 6.4, ZH)]);
    const out = fitTokensToChunks(wild);
    expect(out.chunks[0].tokens).toEqual(toks(['a', 1, 1], [' b', 2.5, 3], [' c', 3, 3]));
    expect(out.chunks[1]).toBe(wild.chunks[1]);
    expect(wild.chunks[0].tokens![2].start).toBe(70);
  });
});
