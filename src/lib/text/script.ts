// Character classes shared by the text stage and the subtitle writer: which code points the
// ForcedAligner treats as CJK ideographs, which are "tight" (written without spaces), how wide a
// character is on screen, and which characters are punctuation that belongs to a neighbour.

/** Code point ranges the official aligner times one by one (Qwen3ForceAlignProcessor, see research §5.3). */
const ALIGNER_CJK_RANGES: readonly (readonly [number, number])[] = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b820, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

/** True for a code point the aligner treats as a CJK ideograph (its own unit, kept even when unassigned). */
export function isAlignerCjk(cp: number): boolean {
  for (const [lo, hi] of ALIGNER_CJK_RANGES) if (cp >= lo && cp <= hi) return true;
  return false;
}

/** Whitespace as Python's `str.split()` sees it (str.isspace), which the aligner's split uses. */
export function isSplitSpace(cp: number): boolean {
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

/** True when a character carries speech content: a letter or a number (any script). */
export function isWordChar(ch: string): boolean {
  return LETTER_OR_NUMBER.test(ch);
}

/** True when a string has at least one letter or number (i.e. is not punctuation/space/symbols only). */
export function hasWordChar(s: string): boolean {
  return /[\p{L}\p{N}]/u.test(s);
}

const HAN = /\p{Script=Han}/u;

/** True when the string contains a Han ideograph (Chinese character, Japanese kanji). */
export function hasHan(s: string): boolean {
  return HAN.test(s);
}

/**
 * "Tight" characters are written without spaces between them: Han, kana, bopomofo, CJK
 * punctuation and full-width forms. Hangul is not tight (Korean separates words with spaces).
 */
export function isTight(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  return (
    HAN.test(ch) ||
    (cp >= 0x3000 && cp <= 0x30ff) || // CJK symbols and punctuation, hiragana, katakana
    (cp >= 0x3100 && cp <= 0x312f) || // bopomofo
    (cp >= 0x31f0 && cp <= 0x31ff) || // katakana phonetic extensions
    (cp >= 0xff00 && cp <= 0xffef) // half-width and full-width forms
  );
}

/** Display width in columns: East Asian wide/full-width characters and emoji count 2, combining marks 0, others 1. */
export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x1100) return cp === 0x200b ? 0 : /\p{M}/u.test(ch) ? 0 : 1;
  if (/[\p{M}\u200b-\u200f\u2060\ufeff]/u.test(ch)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x2fffd) ||
    (cp >= 0x30000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Display width of a string (sum of its characters' widths). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/** True when the string has a character of display width 2 (CJK text is measured against the CJK line limit). */
export function hasWide(s: string): boolean {
  for (const ch of s) if (charWidth(ch) === 2) return true;
  return false;
}

/** Opening brackets and quotes: they belong to the word that follows them. */
const OPENING = new Set([...'([{（［｛〔〈《「『【〖〘〚“‘«‹¿¡']);

/** True for an opening bracket/quote (attaches to the following word). */
export function isOpening(ch: string): boolean {
  return OPENING.has(ch);
}

/** Closing brackets and quotes, skipped when looking for the punctuation that ends a sentence. */
const CLOSING = new Set([...')]}）］｝〕〉》」』】〗〙〛”’»›"\'']);

/** True for a closing bracket/quote. */
export function isClosing(ch: string): boolean {
  return CLOSING.has(ch);
}

/** Punctuation that ends a sentence (a hard cue break). */
const SENTENCE_END = new Set([...'。！？.!?…．｡‼⁇⁈⁉']);

/** Punctuation that ends a clause (a preferred break when a line or cue is full). */
const CLAUSE_END = new Set([...'，；、,;:：—–']);

/** Last character of a string once trailing spaces and closing quotes/brackets are skipped ('' when none). */
function lastSignificant(s: string): string {
  const chars = [...s];
  for (let i = chars.length - 1; i >= 0; i--) {
    const ch = chars[i];
    if (/\s/u.test(ch) || isClosing(ch)) continue;
    return ch;
  }
  return '';
}

/** A few Latin abbreviations whose final period does not end a sentence. */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'vs', 'etc', 'e.g', 'i.e', 'jr', 'sr', 'no', 'inc', 'ltd', 'co']);

/** True when a token ends a sentence (。！？.!? …, possibly followed by closing quotes). */
export function endsSentence(text: string): boolean {
  const last = lastSignificant(text);
  if (!SENTENCE_END.has(last)) return false;
  if (last === '.') {
    // "Mr." / "e.g." / an initial ("J.") does not end a sentence.
    const word = text.trim().replace(/\.+$/u, '').split(/\s+/u).pop()!.replace(/^[("'“‘«]+/u, '');
    if (ABBREVIATIONS.has(word.toLowerCase())) return false;
    if (/^\p{Lu}$/u.test(word) && word !== 'I') return false;
  }
  return true;
}

/** True when a token ends a clause (，；, ; : …) — a soft break point. */
export function endsClause(text: string): boolean {
  return CLAUSE_END.has(lastSignificant(text));
}
