// Joining chunk transcripts: CJK neighbours join without a space, everything else with one.
import type { TimedToken } from '../pipeline-types';
import { hasWordChar, isTight } from './script';

/** Does text `next` need a space after text `prev` when the two are joined? */
export function needsSpace(prev: string, next: string): boolean {
  if (!prev || !next || /\s$/u.test(prev) || /^\s/u.test(next)) return false;
  const last = [...prev.slice(-2)].at(-1)!;
  const first = [...next.slice(0, 2)][0];
  if (isTight(last) && isTight(first)) return false; // 你好 + 世界
  if (isTight(last) && !hasWordChar(last)) return false; // full-width punctuation carries its own spacing: 你好。+ OK
  return true;
}

/** Joins chunk texts (each trimmed, empty ones skipped) with the right separator per script. */
export function joinChunkTexts(texts: string[]): string {
  let out = '';
  for (const raw of texts) {
    const t = raw.trim();
    if (!t) continue;
    if (needsSpace(out, t)) out += ' ';
    out += t;
  }
  return out;
}

/**
 * Concatenates the token lists of consecutive chunks; where two chunks meet, the first token of the
 * later chunk gets a leading space when the scripts need one (the inputs are not modified).
 */
export function joinChunkTokens(chunks: TimedToken[][]): TimedToken[] {
  const out: TimedToken[] = [];
  for (const tokens of chunks) {
    tokens.forEach((t, k) => {
      if (k === 0 && out.length && needsSpace(out[out.length - 1].text, t.text)) out.push({ ...t, text: ' ' + t.text });
      else out.push({ ...t });
    });
  }
  return out;
}
