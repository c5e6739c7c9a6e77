// Readable subtitle cues from timed tokens (words, or CJK characters / jieba words).
//
// 1. Tokens without letters or numbers ("%", quotes, dashes) join a neighbour, so no cue is ever
//    punctuation only; times are made monotonic; a token too wide for a line is cut.
// 2. Hard breaks: after sentence punctuation (。！？.!?…) and at pauses longer than `pauseSec`.
// 3. Between hard breaks, cue breaks are chosen by dynamic programming: every cue must fit in
//    `maxLines` lines of the line width and last at most `maxDurationSec`; fewer cues are preferred,
//    breaks after clause punctuation (，；、,;:) are much cheaper than between two words, and cues of
//    similar size are preferred to a full cue followed by a scrap.
// 4. Lines inside a cue break between tokens only (at spaces for Latin, between characters or jieba
//    words for CJK), balanced, preferring clause punctuation.
// 5. Cues shorter than `minDurationSec` are extended into the following gap without overlapping
//    the next cue; when that gap is too short, the cue merges with the next one if the result still
//    fits, else grows back into the preceding gap, else merges with the previous cue if that fits.
import type { TimedToken } from '../pipeline-types';
import { alignerUnits, attachTimes } from './units';
import { displayWidth, endsClause, endsSentence, hasWide, hasWordChar, isOpening } from './script';

export interface Cue {
  start: number;
  end: number;
  lines: string[];
}

export interface CueOptions {
  /** Lines per cue. */
  maxLines: number;
  /** Line width in display columns for text without CJK/full-width characters (1 column per character). */
  maxLineWidthLatin: number;
  /** Line width in display columns for text with CJK/full-width characters (2 columns each: 36 = 18 characters). */
  maxLineWidthCjk: number;
  /** Longest cue, seconds. */
  maxDurationSec: number;
  /** Shortest cue, seconds (reached by extending into silence where there is room). */
  minDurationSec: number;
  /** A silence longer than this between two tokens always starts a new cue, seconds. */
  pauseSec: number;
}

export const CUE_DEFAULTS: Readonly<CueOptions> = Object.freeze({
  maxLines: 2,
  maxLineWidthLatin: 42,
  maxLineWidthCjk: 36,
  maxDurationSec: 7,
  minDurationSec: 0.8,
  pauseSec: 0.5,
});

/** Costs of the break choices (dimensionless; one extra cue costs 1). */
const COST = {
  cue: 1,
  /** Ending a cue between two words of one clause. */
  cueBreakInClause: 2,
  /** Ending a cue after clause punctuation. */
  cueBreakAtClause: 0.3,
  /** Breaking a line between two words of one clause (after clause punctuation: 0). */
  lineBreakInClause: 0.5,
  /** A line shorter than a third of the width in a multi-line cue. */
  shortLine: 0.5,
} as const;

interface Piece {
  text: string;
  start: number;
  end: number;
  width: number;
  lead: number;
  trail: number;
  wide: boolean;
  sentence: boolean;
  clause: boolean;
}

/** Tolerance for comparing times (seconds). */
const TIME_EPS = 1e-9;

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const collapse = (s: string) => s.replace(/\s+/gu, ' ');

function resolveOptions(opts: Partial<CueOptions> | undefined): CueOptions {
  const o = { ...CUE_DEFAULTS, ...opts };
  return {
    maxLines: Math.max(1, Math.floor(o.maxLines)),
    maxLineWidthLatin: Math.max(1, o.maxLineWidthLatin),
    maxLineWidthCjk: Math.max(2, o.maxLineWidthCjk),
    maxDurationSec: o.maxDurationSec > 0 ? o.maxDurationSec : Infinity,
    minDurationSec: Math.max(0, o.minDurationSec),
    pauseSec: o.pauseSec >= 0 ? o.pauseSec : Infinity,
  };
}

/** True when the characters that are not spaces are all opening quotes/brackets. */
function openingOnly(text: string): boolean {
  const chars = [...text].filter((ch) => !/\s/u.test(ch));
  return chars.length > 0 && chars.every((ch) => isOpening(ch));
}

/**
 * Step 1: drops empty tokens, moves tokens without letters/numbers into a neighbour (opening
 * quotes and anything before the first word forward, the rest backward), repairs times.
 */
function cleanTokens(tokens: TimedToken[]): TimedToken[] {
  const out: TimedToken[] = [];
  let prefix = '';
  let lastTime = 0;
  for (const t of tokens) {
    if (!t || typeof t.text !== 'string' || t.text === '') continue;
    const start = finite(t.start) ? t.start : lastTime;
    const end = finite(t.end) ? t.end : Infinity; // unknown: until the next token starts
    lastTime = Math.max(lastTime, start, finite(end) ? end : start);
    if (hasWordChar(t.text)) {
      out.push({ text: prefix + t.text, start, end });
      prefix = '';
    } else if (prefix || out.length === 0 || openingOnly(t.text) || (/^\s/u.test(t.text) && /["']/u.test(t.text))) {
      prefix += t.text;
    } else {
      out[out.length - 1].text += t.text;
    }
  }
  if (prefix && out.length) out[out.length - 1].text += prefix;
  // Times: non-decreasing starts, end ≥ start, an end never runs past the next start.
  for (let k = 0; k < out.length; k++) {
    if (k > 0) out[k].start = Math.max(out[k].start, out[k - 1].start);
    out[k].end = Math.max(out[k].end, out[k].start);
  }
  for (let k = 0; k < out.length; k++) {
    if (k + 1 < out.length) out[k].end = Math.min(out[k].end, out[k + 1].start);
    if (!finite(out[k].end)) out[k].end = out[k].start;
  }
  return out;
}

/** Cuts a token wider than `limit` columns into pieces that fit (at spaces when possible), times shared by length. */
function cutWide(t: TimedToken, limit: number): TimedToken[] {
  const text = t.text;
  const fits = (s: string) => displayWidth(collapse(s).trim()) <= limit;
  if (fits(text)) return [t];
  const parts: string[] = [];
  let cur = '';
  for (const ch of text) {
    if (!fits(cur + ch) && cur.trim()) {
      const space = cur.search(/\s\S*$/u); // cut at the last space when there is one
      parts.push(space > 0 ? cur.slice(0, space) : cur);
      cur = space > 0 ? cur.slice(space) : '';
    }
    cur += ch;
  }
  if (hasWordChar(cur) || parts.length === 0) parts.push(cur);
  else parts[parts.length - 1] += cur;
  const out: TimedToken[] = [];
  let pos = 0;
  for (const p of parts) {
    const s = t.start + ((t.end - t.start) * pos) / text.length;
    pos += p.length;
    out.push({ text: p, start: s, end: t.start + ((t.end - t.start) * pos) / text.length });
  }
  return out;
}

function toPieces(tokens: TimedToken[], o: CueOptions): Piece[] {
  const pieces: Piece[] = [];
  for (const token of tokens) {
    const limit = hasWide(token.text) ? o.maxLineWidthCjk : o.maxLineWidthLatin;
    for (const t of cutWide(token, limit)) {
      const norm = collapse(t.text);
      pieces.push({
        text: t.text,
        start: t.start,
        end: t.end,
        width: displayWidth(norm),
        lead: norm.startsWith(' ') ? 1 : 0,
        trail: norm.length > 1 && norm.endsWith(' ') ? 1 : 0,
        wide: hasWide(t.text),
        sentence: endsSentence(t.text),
        clause: endsClause(t.text),
      });
    }
  }
  return pieces;
}

interface Layout {
  /** Indices of the pieces that start the 2nd, 3rd, … line. */
  breaks: number[];
  cost: number;
}

interface Range {
  a: number;
  b: number;
  breaks: number[];
  start: number;
  end: number;
}

/** Measures and lays out runs of pieces. */
class Measure {
  private readonly sumWidth: number[] = [0];
  private readonly sumWide: number[] = [0];

  constructor(
    readonly pieces: Piece[],
    readonly o: CueOptions,
  ) {
    for (const p of pieces) {
      this.sumWidth.push(this.sumWidth.at(-1)! + p.width);
      this.sumWide.push(this.sumWide.at(-1)! + (p.wide ? 1 : 0));
    }
  }

  /** Display width of pieces [a, b) on one line (spaces at both ends trimmed). */
  width(a: number, b: number): number {
    return this.sumWidth[b] - this.sumWidth[a] - this.pieces[a].lead - this.pieces[b - 1].trail;
  }

  /** Line width limit for pieces [a, b): the CJK limit as soon as one is wide. */
  limit(a: number, b: number): number {
    return this.sumWide[b] - this.sumWide[a] > 0 ? this.o.maxLineWidthCjk : this.o.maxLineWidthLatin;
  }

  /** Best split of pieces [a, b) into as few lines as possible (≤ maxLines), or null if they don't fit. */
  layout(a: number, b: number): Layout | null {
    const lim = this.limit(a, b);
    const total = this.width(a, b);
    if (total <= lim) return { breaks: [], cost: 0 };
    const n = b - a;
    for (let lines = 2; lines <= Math.min(this.o.maxLines, n); lines++) {
      if (total > lim * lines + lines) continue;
      const avg = total / lines;
      const lineCost = (x: number, y: number) => {
        const w = this.width(x, y);
        return ((w - avg) / lim) ** 2 + (w < lim / 3 ? COST.shortLine : 0);
      };
      const breakCost = (first: number) => {
        const prev = this.pieces[first - 1];
        return prev.clause || prev.sentence ? 0 : COST.lineBreakInClause;
      };
      if (lines === 2) {
        // The common case, linear: try every break.
        let bestCost = Infinity;
        let bestBreak = -1;
        for (let k = a + 1; k < b; k++) {
          if (this.width(a, k) > lim) break;
          if (this.width(k, b) > lim) continue;
          const c = lineCost(a, k) + lineCost(k, b) + breakCost(k);
          if (c < bestCost) {
            bestCost = c;
            bestBreak = k;
          }
        }
        if (bestBreak >= 0) return { breaks: [bestBreak], cost: bestCost };
        continue;
      }
      // f[l][k]: best cost of pieces [a, a+k) in l lines; from[l][k]: start of the last line.
      const f: number[][] = [];
      const from: number[][] = [];
      for (let l = 1; l <= lines; l++) {
        f.push(new Array<number>(n + 1).fill(Infinity));
        from.push(new Array<number>(n + 1).fill(-1));
      }
      for (let k = 1; k <= n; k++) if (this.width(a, a + k) <= lim) f[0][k] = lineCost(a, a + k);
      for (let l = 2; l <= lines; l++) {
        for (let k = l; k <= n; k++) {
          for (let m = k - 1; m >= l - 1; m--) {
            if (this.width(a + m, a + k) > lim) break;
            if (f[l - 2][m] === Infinity) continue;
            const c = f[l - 2][m] + lineCost(a + m, a + k) + breakCost(a + m);
            if (c < f[l - 1][k]) {
              f[l - 1][k] = c;
              from[l - 1][k] = m;
            }
          }
        }
      }
      if (f[lines - 1][n] < Infinity) {
        const breaks: number[] = [];
        let k = n;
        for (let l = lines; l >= 2; l--) {
          k = from[l - 1][k];
          breaks.unshift(a + k);
        }
        return { breaks, cost: f[lines - 1][n] };
      }
    }
    return null;
  }

  /** The text lines of pieces [a, b) broken before the given pieces. */
  lines(a: number, b: number, breaks: number[]): string[] {
    const starts = [a, ...breaks, b];
    const out: string[] = [];
    for (let k = 0; k + 1 < starts.length; k++) {
      let s = '';
      for (let m = starts[k]; m < starts[k + 1]; m++) s += this.pieces[m].text;
      const line = collapse(s).trim();
      if (line) out.push(line);
    }
    return out;
  }
}

/** Cue ranges over one run of pieces [s0, s1) between hard breaks (dynamic programming). */
function splitSegment(m: Measure, s0: number, s1: number, out: Range[]): void {
  const { pieces, o } = m;
  const widest = Math.max(o.maxLineWidthLatin, o.maxLineWidthCjk) * o.maxLines + o.maxLines;
  const n = s1 - s0;
  const best = new Array<number>(n + 1).fill(Infinity);
  const from = new Array<number>(n + 1).fill(-1);
  const lay: (Layout | null)[] = new Array<Layout | null>(n + 1).fill(null);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    const b = s0 + j;
    for (let i = j - 1; i >= 0; i--) {
      const a = s0 + i;
      const single = j - i === 1;
      if (!single && (m.width(a, b) > widest || pieces[b - 1].end - pieces[a].start > o.maxDurationSec)) break;
      if (best[i] === Infinity) continue;
      const layout = m.layout(a, b);
      if (!layout) continue;
      const capacity = m.limit(a, b) * o.maxLines;
      const fill = Math.min(1, m.width(a, b) / capacity);
      const last = pieces[b - 1];
      const breakCost = j === n ? 0 : last.clause || last.sentence ? COST.cueBreakAtClause : COST.cueBreakInClause;
      const c = best[i] + COST.cue + layout.cost + breakCost + (1 - fill) ** 2;
      if (c < best[j]) {
        best[j] = c;
        from[j] = i;
        lay[j] = layout;
      }
    }
    if (best[j] === Infinity) {
      // Cannot happen (a single piece always fits), but never lose text: a cue of the last piece alone.
      best[j] = best[j - 1] + COST.cue;
      from[j] = j - 1;
      lay[j] = { breaks: [], cost: 0 };
    }
  }
  const ranges: Range[] = [];
  for (let j = n; j > 0; j = from[j]) {
    const a = s0 + from[j];
    const b = s0 + j;
    ranges.unshift({ a, b, breaks: lay[j]!.breaks, start: pieces[a].start, end: pieces[b - 1].end });
  }
  out.push(...ranges);
}

/** Re-lays out the union of two neighbouring ranges, or null when it does not fit one cue. */
function mergeRanges(m: Measure, x: Range, y: Range): Range | null {
  const layout = m.layout(x.a, y.b);
  if (!layout) return null;
  const start = m.pieces[x.a].start;
  const end = m.pieces[y.b - 1].end;
  if (end - start > m.o.maxDurationSec) return null;
  return { a: x.a, b: y.b, breaks: layout.breaks, start, end };
}

/**
 * Builds subtitle cues from timed tokens (one transcript, in order; chunk tokens joined with
 * joinChunkTokens). Tokens may be per word, per CJK character or pre-grouped jieba words; a line
 * or cue never breaks inside a token.
 */
export function buildCues(tokens: TimedToken[], opts?: Partial<CueOptions>): Cue[] {
  const o = resolveOptions(opts);
  const pieces = toPieces(cleanTokens(tokens), o);
  if (pieces.length === 0) return [];
  const m = new Measure(pieces, o);

  // Hard breaks, then cue breaks inside each run.
  let ranges: Range[] = [];
  let s0 = 0;
  for (let k = 0; k < pieces.length; k++) {
    const last = k === pieces.length - 1;
    if (last || pieces[k].sentence || pieces[k + 1].start - pieces[k].end > o.pauseSec) {
      splitSegment(m, s0, k + 1, ranges);
      s0 = k + 1;
    }
  }

  // A single overlong piece may not outlast maxDuration.
  for (const r of ranges) r.end = Math.min(Math.max(r.end, r.start), r.start + o.maxDurationSec);

  // A short cue without room to grow into the following gap merges with the next cue when the
  // result still fits; failing that it grows backwards (below) when the preceding gap allows, and
  // otherwise merges with the previous cue when that fits.
  const short = (r: Range) => r.end - r.start < o.minDurationSec - TIME_EPS;
  for (let k = 0; k < ranges.length; ) {
    const r = ranges[k];
    const prevEnd = k > 0 ? ranges[k - 1].end : 0;
    const nextStart = k + 1 < ranges.length ? ranges[k + 1].start : Infinity;
    if (!short(r) || nextStart - r.start >= o.minDurationSec - TIME_EPS) {
      k++;
      continue;
    }
    const withNext = k + 1 < ranges.length ? mergeRanges(m, r, ranges[k + 1]) : null;
    if (withNext) {
      ranges.splice(k, 2, withNext);
      continue;
    }
    const withPrev = k > 0 && nextStart - prevEnd < o.minDurationSec - TIME_EPS ? mergeRanges(m, ranges[k - 1], r) : null;
    if (withPrev) {
      ranges.splice(k - 1, 2, withPrev);
      k--;
      continue;
    }
    k++;
  }

  // Minimum duration: extend into the following gap, then into the preceding one; never overlap.
  const cues: Cue[] = [];
  ranges = ranges.filter((r) => r.b > r.a);
  for (let k = 0; k < ranges.length; k++) {
    const r = ranges[k];
    const prevEnd = cues.length ? cues[cues.length - 1].end : 0;
    const nextStart = k + 1 < ranges.length ? ranges[k + 1].start : Infinity;
    let start = Math.max(r.start, prevEnd);
    let end = Math.min(Math.max(r.end, start), nextStart);
    if (end - start < o.minDurationSec - TIME_EPS) end = Math.max(end, Math.min(start + o.minDurationSec, nextStart));
    if (end - start < o.minDurationSec - TIME_EPS) start = Math.max(prevEnd, Math.min(start, end - o.minDurationSec), 0);
    end = Math.max(end, start);
    const lines = m.lines(r.a, r.b, r.breaks);
    if (lines.length) cues.push({ start, end, lines });
  }
  // Cues squeezed into one instant (an aligner that piled several words onto the same time) that
  // could not merge: the cue before them and the run share its span in equal slices, so every cue
  // keeps a positive duration, in order, without overlaps.
  for (let i = 0; i < cues.length; i++) {
    if (cues[i].end - cues[i].start > TIME_EPS) continue;
    if (i === 0) {
      cues[0].start = Math.max(0, cues[0].start - o.minDurationSec);
      if (cues[0].end - cues[0].start > TIME_EPS) continue;
      cues[0].end = cues[0].start + o.minDurationSec;
      continue;
    }
    let j = i;
    while (j < cues.length && cues[j].end - cues[j].start <= TIME_EPS) j++;
    const p = cues[i - 1];
    const from = p.start, to = cues[j - 1].end, n = j - i + 1;
    for (let k = 0; k < n; k++) {
      const c = cues[i - 1 + k];
      c.start = from + ((to - from) * k) / n;
      c.end = from + ((to - from) * (k + 1)) / n;
    }
    i = j - 1;
  }
  return cues;
}

/**
 * Lays plain text (no timings) out in at most `maxLines` lines of the line width, breaking at
 * spaces (Latin) or between characters (CJK), the aligner's units; null when it does not fit one cue.
 */
export function fitLines(text: string, opts?: Partial<CueOptions>): string[] | null {
  const o = resolveOptions(opts);
  const tokens = attachTimes(text, alignerUnits(text), [], { start: 0, end: 0 });
  const pieces = toPieces(cleanTokens(tokens), o);
  if (pieces.length === 0) return null;
  const m = new Measure(pieces, o);
  const layout = m.layout(0, pieces.length);
  return layout ? m.lines(0, pieces.length, layout.breaks) : null;
}
