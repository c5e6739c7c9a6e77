/**
 * Qwen3-ForcedAligner reference (shared/research/qwen3-asr-official.md §5 and addendum 2).
 *
 * Units: split on whitespace, keep letters/numbers/ASCII apostrophe (and anything inside the CJK ranges),
 * then every CJK ideograph is a unit of its own and each maximal non-CJK run stays one unit.
 * Input: <|audio_start|> A×<|audio_pad|> <|audio_end|> then BPE(NFC(unit)) <timestamp><timestamp> per unit
 * (one bare pair when there is no unit). Logits are read AT the slot positions, argmax × segment time,
 * then the LIS repair of §5.4 and truncation to integer milliseconds.
 *
 * Language handling (documented choice): the official toolkit uses nagisa for Japanese and soynlp for
 * Korean; neither is available here, so every language uses the rule above (Korean therefore splits by
 * whitespace, like the Transformers port; Japanese kana runs stay one unit per whitespace word).
 */
import { argmax } from './numerics';
import { decoderForward, encodeAudio, type EncodeOptions, type ReferenceModel } from './model';
import { createTokenizer, type RefTokenizer } from './tokenizer';

/** The aligner's 11 languages and their ISO codes. */
export const ALIGNER_LANGUAGES: Record<string, string> = {
  chinese: 'Chinese',
  zh: 'Chinese',
  english: 'English',
  en: 'English',
  cantonese: 'Cantonese',
  yue: 'Cantonese',
  french: 'French',
  fr: 'French',
  german: 'German',
  de: 'German',
  italian: 'Italian',
  it: 'Italian',
  japanese: 'Japanese',
  ja: 'Japanese',
  korean: 'Korean',
  ko: 'Korean',
  portuguese: 'Portuguese',
  pt: 'Portuguese',
  russian: 'Russian',
  ru: 'Russian',
  spanish: 'Spanish',
  es: 'Spanish',
};

/** Canonical aligner language name, or null when none is given; throws for an unsupported language. */
export function normalizeAlignerLanguage(language?: string | null): string | null {
  if (language == null || language.trim() === '') return null;
  const v = ALIGNER_LANGUAGES[language.trim().toLowerCase()];
  if (!v) throw new Error(`aligner: unsupported language "${language}"`);
  return v;
}

const CJK_RANGES: [number, number][] = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b820, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

export function isCjkCodePoint(cp: number): boolean {
  for (const [a, b] of CJK_RANGES) if (cp >= a && cp <= b) return true;
  return false;
}

/** Python str.isspace() characters (what str.split() with no argument splits on). */
export function isPyWhitespace(cp: number): boolean {
  return (
    (cp >= 0x09 && cp <= 0x0d) ||
    (cp >= 0x1c && cp <= 0x20) ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

const LETTER_OR_NUMBER = /^[\p{L}\p{N}]$/u;

/** Character filter: Unicode L* or N*, the ASCII apostrophe, or any code point in the CJK ranges. */
export function isKeptChar(ch: string): boolean {
  if (ch === "'") return true;
  const cp = ch.codePointAt(0)!;
  if (isCjkCodePoint(cp)) return true;
  return LETTER_OR_NUMBER.test(ch);
}

/** Split a transcript into alignment units (raw text kept; tokenised later from its NFC form). */
export function splitUnits(text: string, language?: string | null): string[] {
  normalizeAlignerLanguage(language);
  const units: string[] = [];
  let word: string[] = [];
  const flushWord = () => {
    const kept = word.filter(isKeptChar);
    word = [];
    let run = '';
    for (const ch of kept) {
      if (isCjkCodePoint(ch.codePointAt(0)!)) {
        if (run) units.push(run);
        run = '';
        units.push(ch);
      } else {
        run += ch;
      }
    }
    if (run) units.push(run);
  };
  for (const ch of text) {
    if (isPyWhitespace(ch.codePointAt(0)!)) flushWord();
    else word.push(ch);
  }
  flushWord();
  return units;
}

/**
 * Monotonicity repair of §5.4 (+ addendum 2 rule 3), then truncation toward zero to integer ms.
 *  (a) longest non-decreasing subsequence by the O(n²) DP (earliest parent j on ties; the end is the first
 *      index reaching the maximum) — its positions are "normal";
 *  (b) each maximal run [i, j) of other positions, m = j − i:
 *      m ≤ 2: nearest normal neighbour, the left one on ties (k − (i−1) ≤ j − k), else the one that exists;
 *      m > 2: with both neighbours L, R: step = (R − L)/(m + 1), value = L + step·(k − i + 1); else copy.
 */
export function fixTimestamps(values: number[]): number[] {
  const n = values.length;
  if (n === 0) return [];
  const dp = new Array<number>(n).fill(1);
  const parent = new Array<number>(n).fill(-1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (values[j] <= values[i] && dp[j] + 1 > dp[i]) {
        dp[i] = dp[j] + 1;
        parent[i] = j;
      }
    }
  }
  let end = 0;
  for (let i = 1; i < n; i++) if (dp[i] > dp[end]) end = i;
  const normal = new Array<boolean>(n).fill(false);
  for (let k = end; k >= 0; k = parent[k]) normal[k] = true;

  const out = values.slice();
  let i = 0;
  while (i < n) {
    if (normal[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && !normal[j]) j++;
    const m = j - i;
    const hasL = i - 1 >= 0;
    const hasR = j < n;
    const L = hasL ? values[i - 1] : 0;
    const R = hasR ? values[j] : 0;
    for (let k = i; k < j; k++) {
      if (m <= 2) {
        if (hasL && hasR) out[k] = k - (i - 1) <= j - k ? L : R;
        else if (hasL) out[k] = L;
        else if (hasR) out[k] = R;
      } else if (hasL && hasR) {
        const step = (R - L) / (m + 1);
        out[k] = L + step * (k - i + 1);
      } else {
        out[k] = hasL ? L : R;
      }
    }
    i = j;
  }
  return out.map((v) => Math.trunc(v));
}

export interface AlignOptions extends EncodeOptions {
  language?: string | null;
  tokenizer?: RefTokenizer;
  rmsEps?: number;
}

export interface AlignedUnit {
  text: string;
  /** Milliseconds (integers). */
  start: number;
  end: number;
}

export interface AlignResult {
  units: AlignedUnit[];
  /** argmax class at every slot (2 per unit; 2 for an empty text). */
  classes: number[];
  /** [slots][classifyNum] logits at the slot positions. */
  slotLogits: Float64Array;
  slotPositions: number[];
  inputIds: number[];
  audioTokens: number;
  /** classes × segment time, before the repair. */
  rawMs: number[];
  /** After the repair and truncation. */
  fixedMs: number[];
}

/** Aligner input ids for already split units. */
export function buildAlignerInput(tok: RefTokenizer, audioTokens: number, units: string[]): number[] {
  const s = tok.special;
  const ids: number[] = [s.audioStart];
  for (let i = 0; i < audioTokens; i++) ids.push(s.audioPad);
  ids.push(s.audioEnd);
  if (units.length === 0) {
    ids.push(s.timestamp, s.timestamp);
    return ids;
  }
  for (const u of units) {
    ids.push(...tok.encodePlain(u.normalize('NFC')));
    ids.push(s.timestamp, s.timestamp);
  }
  return ids;
}

export function align(model: ReferenceModel, pcm: Float32Array | Float64Array, text: string, opts: AlignOptions = {}): AlignResult {
  if (!model.isAligner || model.classifyNum === undefined) throw new Error('align: not a ForcedAligner model');
  const tok = opts.tokenizer ?? createTokenizer(model.addedTokens);
  const units = splitUnits(text, opts.language);
  const enc = encodeAudio(model, pcm, opts);
  const inputIds = buildAlignerInput(tok, enc.tokens, units);
  const slotPositions: number[] = [];
  inputIds.forEach((id, i) => {
    if (id === tok.special.timestamp) slotPositions.push(i);
  });
  const res = decoderForward(model, inputIds, enc, tok.special.audioPad, { positions: slotPositions, rmsEps: opts.rmsEps });
  const K = res.cols;
  const classes = slotPositions.map((_, r) => argmax(res.logits, r * K, K));
  const seg = model.timestampSegmentMs ?? 80;
  const rawMs = classes.map((c) => c * seg);
  const fixedMs = fixTimestamps(rawMs);
  const out: AlignedUnit[] = units.map((u, k) => ({ text: u, start: fixedMs[2 * k], end: fixedMs[2 * k + 1] }));
  return {
    units: out,
    classes,
    slotLogits: res.logits,
    slotPositions,
    inputIds,
    audioTokens: enc.tokens,
    rawMs,
    fixedMs,
  };
}
