// The ForcedAligner's alignment units, and turning its per-unit times into TimedTokens.
//
// Unit rule (official Qwen3ForceAlignProcessor for every language but Japanese/Korean, research
// qwen3-asr-official.md §5.3 + addendum 2): split on whitespace; in each piece keep only letters,
// numbers, the ASCII apostrophe and CJK-ideograph code points; every CJK ideograph is a unit of its
// own and each maximal run of the other kept characters is one unit. Pieces that keep nothing are
// not units. A unit keeps its raw characters; its range in the text may include deleted characters
// ("3.5" → unit "35" spanning 3 characters).
import type { TimedToken } from '../pipeline-types';
import { isAlignerCjk, isOpening, isSplitSpace, isWordChar } from './script';

export interface AlignerUnit {
  /** The unit as the aligner sees it (kept characters only). */
  unit: string;
  /** Range [from, to) in the original text, UTF-16 indices; `to` is just past the unit's last kept character. */
  from: number;
  to: number;
}

export interface TimeSpan {
  start: number;
  end: number;
}

/** Splits text into the aligner's units, with each unit's range in the text. */
export function alignerUnits(text: string): AlignerUnit[] {
  const units: AlignerUnit[] = [];
  let run = '';
  let runFrom = -1;
  let runTo = -1;
  const flush = () => {
    if (run) units.push({ unit: run, from: runFrom, to: runTo });
    run = '';
    runFrom = runTo = -1;
  };
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const next = i + ch.length;
    if (isSplitSpace(cp)) {
      flush(); // a whitespace split ends the current piece (and so its run)
    } else if (isAlignerCjk(cp)) {
      flush();
      units.push({ unit: ch, from: i, to: next });
    } else if (ch === "'" || isWordChar(ch)) {
      if (!run) runFrom = i;
      run += ch;
      runTo = next;
    }
    // anything else (punctuation, symbols, marks, controls) is deleted and does not end a run
    i = next;
  }
  flush();
  return units;
}

/**
 * Token boundary inside the gap text between two units (the characters after one unit and before
 * the next): whitespace and what follows it go with the next unit; without whitespace, opening
 * quotes/brackets at the end of the gap go with the next unit and the rest (closing punctuation)
 * with the previous one. Returns an index into the gap.
 */
function splitGap(text: string, from: number, to: number, quoteOpens: (i: number) => boolean): number {
  for (let i = from; i < to; i++) if (/\s/u.test(text[i])) return i;
  let cut = to;
  while (cut > from) {
    const ch = text[cut - 1];
    if (isOpening(ch) || (ch === '"' && quoteOpens(cut - 1))) cut--;
    else break;
  }
  return cut;
}

/** For every ASCII double quote: does it open a quotation (even count of quotes before it)? */
function quoteParity(text: string): (i: number) => boolean {
  const opens = new Map<number, boolean>();
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') {
      opens.set(i, count % 2 === 0);
      count++;
    }
  }
  return (i) => opens.get(i) ?? false;
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * Turns recognised text plus the aligner's per-unit times (seconds, one per unit of `units`) into
 * TimedTokens that concatenate exactly to `text`. Each token holds one unit plus the punctuation and
 * spaces around it: leading whitespace goes with the following token, trailing punctuation with the
 * preceding unit, text before the first unit with the first token and after the last with the last.
 * Text without units (empty, punctuation only) becomes one token spanning `fallback` (no token at
 * all for empty text). Missing or non-finite times are filled from neighbours / `fallback`; the
 * result has non-decreasing starts, end ≥ start and no overlaps (an end is cut back to the next start),
 * and every time lies inside `fallback` when it is a real span (the chunk).
 */
export function attachTimes(text: string, units: AlignerUnit[], times: TimeSpan[], fallback: TimeSpan = { start: 0, end: 0 }): TimedToken[] {
  if (!text) return [];
  const fbStart = finite(fallback.start) ? fallback.start : 0;
  const fbEnd = finite(fallback.end) ? Math.max(fallback.end, fbStart) : fbStart;
  const usable =
    units.length > 0 && units.every((u, k) => u.from >= 0 && u.to <= text.length && u.from < u.to && (k === 0 || u.from >= units[k - 1].to));
  // No units (punctuation only), or a unit list that does not belong to this text: one token for all of it.
  if (!usable) return [{ text, start: fbStart, end: fbEnd }];

  // Boundaries: token k covers [bounds[k], bounds[k+1]).
  const opens = quoteParity(text);
  const bounds = [0];
  for (let k = 1; k < units.length; k++) bounds.push(splitGap(text, units[k - 1].to, units[k].from, opens));
  bounds.push(text.length);

  // Times: take the aligner's, fill gaps, then repair order.
  const raw = units.map((_, k) => times[k]);
  const starts: number[] = [];
  const ends: number[] = [];
  let prevEnd = fbStart;
  for (let k = 0; k < units.length; k++) {
    const t = raw[k];
    let s = t && finite(t.start) ? t.start : NaN;
    let e = t && finite(t.end) ? t.end : NaN;
    if (Number.isNaN(s) && Number.isNaN(e)) {
      // No time for this unit: the next known start (or the fallback end) bounds it.
      let nextStart = fbEnd;
      for (let m = k + 1; m < units.length; m++) {
        const tm = raw[m];
        if (tm && finite(tm.start)) {
          nextStart = tm.start;
          break;
        }
      }
      s = prevEnd;
      e = Math.max(prevEnd, nextStart);
      // Share the unknown stretch evenly among consecutive untimed units.
      let run = 1;
      for (let m = k + 1; m < units.length && !(raw[m] && finite(raw[m].start)); m++) run++;
      e = s + (e - s) / run;
    } else if (Number.isNaN(s)) s = e;
    else if (Number.isNaN(e)) e = s;
    starts.push(s);
    ends.push(e);
    prevEnd = Math.max(prevEnd, e);
  }
  // The aligner's classes address up to 400 s, far beyond a chunk: a time outside the chunk span
  // (a poor alignment, or a random-weight model) is clamped into it.
  if (fbEnd > fbStart) {
    for (let k = 0; k < starts.length; k++) {
      starts[k] = Math.min(Math.max(starts[k], fbStart), fbEnd);
      ends[k] = Math.min(Math.max(ends[k], fbStart), fbEnd);
    }
  }
  for (let k = 1; k < starts.length; k++) starts[k] = Math.max(starts[k], starts[k - 1]);
  for (let k = 0; k < ends.length; k++) {
    ends[k] = Math.max(ends[k], starts[k]);
    if (k + 1 < starts.length) ends[k] = Math.min(ends[k], starts[k + 1]);
  }

  return units.map((_, k) => ({ text: text.slice(bounds[k], bounds[k + 1]), start: starts[k], end: ends[k] }));
}
