// Working with a transcript in the page, as pure functions (no DOM, no runes; tested in Node):
//
// - Edits. The user's text for a chunk is kept apart from the recognised transcript, as an overlay
//   (chunk index → text), and `applyEdits` lays it over the transcript before anything is shown or
//   exported, so every export (TXT, SRT, VTT, JSON, copy) carries the edits and "undo" is just
//   dropping the entry.
//
//   Word timings of an edited chunk are re-mapped, not dropped: the tokens the edit left alone keep
//   their aligner times (the unchanged whole tokens, in order, found like a diff), and each stretch
//   of text the user changed gets the time span of the tokens it replaced, shared between its words
//   (CJK characters) in proportion to their length. So correcting one word keeps every other word's timing, the subtitles stay precise, and
//   the changed words still sit where the replaced ones were said. A chunk whose timing was one token
//   over the whole chunk (no aligner) stays one token; a chunk emptied by the edit has no tokens and
//   leaves the exports.
//
// - Search: case-insensitive matches in the chunks' texts.
// - Display: a chunk's text cut into segments at token and match boundaries (words to highlight and
//   click, matches to mark), the token or chunk playing at a time, the chunk before/after a time.
import type { TimedToken, Transcript, TranscriptChunk } from './pipeline-types';
import { alignerUnits, attachTimes, type TimeSpan } from './text/units';
import { isTight, isWordChar } from './text/script';

/** Chunk index → the user's text for it. */
export type Edits = ReadonlyMap<number, string>;

/** Only chunks that were transcribed (status 'done') can be edited. */
export function isEditable(c: TranscriptChunk): boolean {
  return c.status === 'done';
}

/** The text of a chunk as shown (and as the edit box starts): trimmed. */
export function chunkText(c: TranscriptChunk): string {
  return c.text.trim();
}

/** What the user typed, as chunk text: line breaks become spaces, ends trimmed. */
export function normaliseEdit(text: string): string {
  return text.replace(/[ \t]*[\r\n]+[ \t]*/g, ' ').trim();
}

/**
 * The transcript with the edits applied: edited chunks get the new text and re-mapped tokens (see the
 * top of this file). The input is not modified; without edits that change anything it is returned as
 * is, and chunks that are not edited are the same objects.
 */
export function applyEdits(t: Transcript, edits: Edits): Transcript {
  if (edits.size === 0) return t;
  let changed = false;
  const chunks = t.chunks.map((c) => {
    const text = edits.get(c.index);
    if (text === undefined || !isEditable(c)) return c;
    const next = editChunk(c, text);
    if (next !== c) changed = true;
    return next;
  });
  return changed ? { ...t, chunks } : t;
}

/**
 * The transcript with every token's time inside its chunk's span. The aligner's times are not bounded
 * by the audio it was given (a slot can name any of its 5000 × 80 ms positions), and a word timed
 * after its chunk ended (or after the recording ended) can neither be played nor shown in the right
 * cue. Chunks whose tokens already fit are the same objects; without any to fix, so is the transcript.
 */
export function fitTokensToChunks(t: Transcript): Transcript {
  let changed = false;
  const chunks = t.chunks.map((c) => {
    const tokens = c.tokens;
    if (!tokens || tokens.every((k) => k.start >= c.start && k.end <= c.end && k.start <= k.end)) return c;
    changed = true;
    const hi = Math.max(c.start, c.end);
    const fit = (x: number) => (Number.isFinite(x) ? Math.min(Math.max(x, c.start), hi) : c.start);
    return { ...c, tokens: tokens.map((k) => ({ text: k.text, start: fit(k.start), end: Math.max(fit(k.start), fit(k.end)) })) };
  });
  return changed ? { ...t, chunks } : t;
}

/** One chunk with new text (the same object when the text does not change). */
export function editChunk(c: TranscriptChunk, text: string): TranscriptChunk {
  const next = normaliseEdit(text);
  if (next === chunkText(c)) return c;
  const edited: TranscriptChunk = { ...c, text: next };
  if (c.tokens) edited.tokens = retimeTokens(c.tokens, next, { start: c.start, end: c.end });
  return edited;
}

/** True when the boundary between characters `a` and `b` would cut a word in two (Latin-like scripts). */
function cutsWord(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  return isWordChar(a) && isWordChar(b) && !isTight(a) && !isTight(b);
}

const lastChar = (s: string): string | undefined => [...s.slice(-2)].at(-1);
const firstChar = (s: string): string | undefined => [...s.slice(0, 2)][0];
/** The character of `s` that ends just before position `p` / starts at `p` (surrogate pairs whole). */
const charBefore = (s: string, p: number): string | undefined => (p > 0 ? lastChar(s.slice(Math.max(0, p - 2), p)) : undefined);
const charAt = (s: string, p: number): string | undefined => (p < s.length ? firstChar(s.slice(p, p + 2)) : undefined);

/**
 * Tokens for `text` (an edit of the text the tokens spell): the tokens whose text is still there, as
 * whole words, in order, keep their times (the most text kept, found by dynamic programming, like a
 * diff at the level of tokens); each stretch of new text between two kept tokens gets the time span
 * of the tokens it replaces (or, when it was only inserted, the gap between its neighbours), shared
 * between its words by length. The result concatenates exactly to `text`, with non-decreasing times
 * inside `span`.
 */
export function retimeTokens(tokens: TimedToken[], text: string, span: TimeSpan): TimedToken[] {
  if (!text) return [];
  const clampT = (x: number) => Math.min(Math.max(x, span.start), Math.max(span.start, span.end));
  if (tokens.length <= 1) {
    const only = tokens[0];
    return [{ text, start: clampT(only?.start ?? span.start), end: clampT(only?.end ?? span.end) }];
  }
  // The tokens spell the old text; its ends are compared trimmed, as the edit is.
  const old = tokens.map((k) => ({ ...k }));
  old[0].text = old[0].text.trimStart();
  old[old.length - 1].text = old[old.length - 1].text.trimEnd();
  const n = old.length;
  const len = text.length;

  /** Old token i can stay as it is at position p of the new text (whole, not cutting a word). */
  const fits = (i: number, p: number): boolean => {
    const tok = old[i].text;
    if (!tok || !text.startsWith(tok, p)) return false;
    return !cutsWord(charBefore(text, p), firstChar(tok)) && !cutsWord(lastChar(tok), charAt(text, p + tok.length));
  };
  // best[i * (len + 1) + p]: most characters kept from old tokens i.. in text from p on.
  const W = len + 1;
  const best = new Int32Array((n + 1) * W);
  for (let i = n - 1; i >= 0; i--) {
    for (let p = len; p >= 0; p--) {
      let v = Math.max(best[(i + 1) * W + p], p < len ? best[i * W + p + 1] : 0);
      if (fits(i, p)) v = Math.max(v, old[i].text.length + best[(i + 1) * W + p + old[i].text.length]);
      best[i * W + p] = v;
    }
  }
  // The kept tokens: (old index, position in the new text).
  const kept: { i: number; p: number }[] = [];
  for (let i = 0, p = 0; i < n && p <= len; ) {
    const here = best[i * W + p];
    if (here === 0) break;
    if (fits(i, p) && here === old[i].text.length + best[(i + 1) * W + p + old[i].text.length]) {
      kept.push({ i, p });
      p += old[i].text.length;
      i++;
    } else if (best[(i + 1) * W + p] === here) i++;
    else p++;
  }

  const out: TimedToken[] = [];
  let prefix = ''; // spaces waiting for the next token
  let prevI = -1;
  let prevEnd = 0;
  for (const k of [...kept, { i: n, p: len }]) {
    const middle = text.slice(prevEnd, k.p);
    if (middle) {
      // The time the new text takes: that of the tokens it replaces, or the gap where it was inserted.
      const replaced = k.i - prevI > 1;
      const from = replaced ? old[prevI + 1].start : prevI >= 0 ? old[prevI].end : span.start;
      const to = replaced ? old[k.i - 1].end : k.i < n ? old[k.i].start : span.end;
      const s0 = clampT(from);
      const e0 = Math.max(s0, clampT(to));
      if (/\S/.test(middle)) out.push(...proportionalTokens(prefix + middle, { start: s0, end: e0 }));
      else if (k.i < n) prefix += middle;
      else if (out.length) out[out.length - 1] = { ...out[out.length - 1], text: out[out.length - 1].text + prefix + middle };
      else out.push({ text: prefix + middle, start: s0, end: e0 });
      if (/\S/.test(middle)) prefix = '';
    }
    if (k.i < n) {
      out.push({ ...old[k.i], text: prefix + old[k.i].text });
      prefix = '';
      prevI = k.i;
      prevEnd = k.p + old[k.i].text.length;
    }
  }
  return out;
}

/** Tokens of `text` (the aligner's units) sharing `span` in proportion to their length. */
export function proportionalTokens(text: string, span: TimeSpan): TimedToken[] {
  const units = alignerUnits(text);
  const total = units.reduce((sum, u) => sum + u.unit.length, 0) || 1;
  const width = Math.max(0, span.end - span.start);
  let done = 0;
  const times = units.map((u) => {
    const start = span.start + (width * done) / total;
    done += u.unit.length;
    return { start, end: span.start + (width * done) / total };
  });
  return attachTimes(text, units, times, span);
}

// ---- search ----------------------------------------------------------------------------------------------

export interface TextMatch {
  /** Position of the chunk in the transcript's chunk list. */
  chunk: number;
  /** Range [from, to) in the chunk's shown text (`chunkText`). */
  from: number;
  to: number;
}

/** Lower case, character by character where that keeps the length (so positions stay valid). */
function fold(s: string): string {
  let out = '';
  for (const ch of s) {
    const low = ch.toLowerCase();
    out += low.length === ch.length ? low : ch;
  }
  return out;
}

/** Every match of `query` (case-insensitive, surrounding spaces ignored) in the texts of the chunks, in order. */
export function findMatches(chunks: readonly Pick<TranscriptChunk, 'text' | 'status'>[], query: string): TextMatch[] {
  const q = fold(query.trim());
  if (!q) return [];
  const out: TextMatch[] = [];
  chunks.forEach((c, chunk) => {
    if (c.status !== 'done') return;
    const text = fold(chunkText(c as TranscriptChunk));
    for (let at = text.indexOf(q); at >= 0; at = text.indexOf(q, at + q.length)) out.push({ chunk, from: at, to: at + q.length });
  });
  return out;
}

// ---- display ---------------------------------------------------------------------------------------------

export interface Segment {
  text: string;
  /** Index of the token the segment belongs to (-1: the text has no usable tokens). */
  token: number;
  /** Index (in the list given) of the match the segment is part of, -1 for none. */
  match: number;
}

/**
 * Cuts a chunk's shown text (`chunkText`) into segments at token boundaries and at match boundaries.
 * Tokens are used when they spell the text; otherwise the text is one token-less piece.
 */
export function segmentText(text: string, tokens: readonly TimedToken[] | undefined, matches: readonly { from: number; to: number }[] = []): Segment[] {
  if (!text) return [];
  // Token ranges in the trimmed text.
  const ranges: { from: number; to: number }[] = [];
  if (tokens && tokens.length) {
    const joined = tokens.map((k) => k.text).join('');
    const lead = joined.length - joined.trimStart().length;
    if (joined.trim() === text) {
      let at = -lead;
      for (const k of tokens) {
        const from = Math.max(0, at);
        at += k.text.length;
        ranges.push({ from, to: Math.min(text.length, Math.max(from, at)) });
      }
    }
  }
  const cuts = new Set<number>([0, text.length]);
  for (const r of ranges) cuts.add(r.from).add(r.to);
  for (const m of matches) cuts.add(Math.max(0, Math.min(text.length, m.from))).add(Math.max(0, Math.min(text.length, m.to)));
  const points = [...cuts].sort((a, b) => a - b);
  const out: Segment[] = [];
  let tok = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const from = points[k];
    const to = points[k + 1];
    if (to <= from) continue;
    while (tok < ranges.length && ranges[tok].to <= from) tok++;
    const token = ranges.length ? Math.min(tok, ranges.length - 1) : -1;
    const match = matches.findIndex((m) => m.from <= from && to <= m.to);
    out.push({ text: text.slice(from, to), token, match });
  }
  return out;
}

/**
 * The token playing at `time`: the last one that has started (so a short pause between two words keeps
 * the word before lit), or -1 before the first one or after the last one ended.
 */
export function tokenAt(tokens: readonly TimedToken[], time: number): number {
  let lo = 0;
  let hi = tokens.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid].start <= time) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return -1;
  if (found === tokens.length - 1 && time >= tokens[found].end && tokens[found].end > tokens[found].start) return -1;
  return found;
}

/** Position of the chunk whose span holds `time` (start ≤ time < end), or -1. Chunks are in time order. */
export function chunkAt(chunks: readonly Pick<TranscriptChunk, 'start' | 'end'>[], time: number): number {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (time < chunks[mid].start) hi = mid - 1;
    else if (time >= chunks[mid].end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * The chunk to go to from `time`: the next one that starts after it (`dir` 1), or going back (`dir` -1)
 * the start of the chunk playing when more than `graceSec` of it has played, else the one before.
 * Returns a position in `chunks`, or -1 when there is none that way.
 */
export function neighbourChunk(chunks: readonly Pick<TranscriptChunk, 'start' | 'end'>[], time: number, dir: 1 | -1, graceSec = 1): number {
  const EPS = 1e-3;
  if (dir === 1) return chunks.findIndex((c) => c.start > time + EPS);
  for (let k = chunks.length - 1; k >= 0; k--) {
    if (chunks[k].start < time - graceSec) return k;
  }
  return -1;
}
