/**
 * ASR prompt, greedy decoding and output parsing (shared/research/qwen3-asr-official.md §4.2–§4.4).
 */
import { argmax } from './numerics';
import { DecoderSession, embedInputs, encodeAudio, type EncodeOptions, type ReferenceModel } from './model';
import { createTokenizer, type RefTokenizer } from './tokenizer';

/** "english" / "ENGLISH" → "English" (first letter upper-case, the rest lower-case). */
export function normalizeLanguageName(name: string): string {
  const s = name.trim();
  if (!s) return s;
  return s[0].toUpperCase() + s.slice(1).toLowerCase();
}

/** Tokenizer with the model's special ids (from its tokenizer_config.json when present). */
export function tokenizerFor(model: ReferenceModel): RefTokenizer {
  return createTokenizer(model.addedTokens);
}

/**
 * `<|im_start|>system\n{context}<|im_end|>\n<|im_start|>user\n<|audio_start|>` + A × `<|audio_pad|>` +
 * `<|audio_end|><|im_end|>\n<|im_start|>assistant\n` [+ `language {Name}<asr_text>`].
 * The whole rendered string is tokenised with the added tokens split out first (so the context merges with
 * the "system\n" around it exactly as the official processor does).
 */
export function buildAsrPrompt(tok: RefTokenizer, audioTokens: number, opts: { context?: string; language?: string } = {}): number[] {
  if (!Number.isInteger(audioTokens) || audioTokens < 0) throw new Error('buildAsrPrompt: bad audio token count');
  const context = opts.context ?? '';
  let s = `<|im_start|>system\n${context}<|im_end|>\n<|im_start|>user\n<|audio_start|>`;
  s += '<|audio_pad|>'.repeat(audioTokens);
  s += '<|audio_end|><|im_end|>\n<|im_start|>assistant\n';
  if (opts.language) s += `language ${normalizeLanguageName(opts.language)}<asr_text>`;
  const ids = tok.encode(s);
  const nPad = ids.filter((x) => x === tok.special.audioPad).length;
  if (nPad !== audioTokens) throw new Error(`buildAsrPrompt: context text produced extra audio placeholders`);
  return ids;
}

export interface GreedyOptions extends EncodeOptions {
  maxNewTokens: number;
  context?: string;
  language?: string;
  /** Keep the logits of every step (each is headRows doubles). Default false. */
  keepLogits?: boolean;
  /** Stop ids (default <|im_end|> and <|endoftext|> of the model). */
  stopIds?: number[];
  rmsEps?: number;
  tokenizer?: RefTokenizer;
}

export interface GreedyResult {
  /** Generated ids, without the stop id. */
  ids: number[];
  /** The stop id that ended generation, or null when maxNewTokens was reached. */
  stopId: number | null;
  promptIds: number[];
  audioTokens: number;
  /** Logits of each step (steps = ids.length, plus one when a stop id was produced). */
  stepLogits?: Float64Array[];
  /** Decoded generated text (special tokens skipped, <asr_text> kept). */
  text: string;
}

/** Greedy decoding with a KV cache: one prefill of the prompt, then one position per step. */
export function greedyDecode(model: ReferenceModel, pcm: Float32Array | Float64Array, opts: GreedyOptions): GreedyResult {
  const tok = opts.tokenizer ?? tokenizerFor(model);
  const enc = encodeAudio(model, pcm, opts);
  const promptIds = buildAsrPrompt(tok, enc.tokens, { context: opts.context, language: opts.language });
  const stop = new Set(opts.stopIds ?? [model.special.imEnd, model.special.endOfText]);
  const session = new DecoderSession(model, { rmsEps: opts.rmsEps });
  let hidden = session.append(embedInputs(model, promptIds, enc), promptIds.length);
  let lastRow = promptIds.length - 1;
  const ids: number[] = [];
  const stepLogits: Float64Array[] | undefined = opts.keepLogits ? [] : undefined;
  let stopId: number | null = null;
  for (let step = 0; step < opts.maxNewTokens; step++) {
    const logits = session.logits(hidden, [lastRow]);
    stepLogits?.push(logits);
    const next = argmax(logits);
    if (stop.has(next)) {
      stopId = next;
      break;
    }
    ids.push(next);
    if (step + 1 >= opts.maxNewTokens) break;
    hidden = session.append(model.row('model.embed_tokens.weight', next), 1);
    lastRow = 0;
  }
  return {
    ids,
    stopId,
    promptIds,
    audioTokens: enc.tokens,
    stepLogits,
    text: tok.decode(ids, { skipSpecial: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// Output parsing (§4.4)
// ---------------------------------------------------------------------------------------------

const REPEAT_THRESHOLD = 20;
const MAX_PATTERN = 20;

/** (a) A run of one character longer than the threshold becomes that character once. */
function collapseCharRuns(chars: string[], thr: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < chars.length) {
    let j = i + 1;
    while (j < chars.length && chars[j] === chars[i]) j++;
    const run = j - i;
    if (run > thr) out.push(chars[i]);
    else for (let k = i; k < j; k++) out.push(chars[k]);
    i = j;
  }
  return out;
}

function samePattern(chars: string[], a: number, b: number, k: number): boolean {
  for (let t = 0; t < k; t++) if (chars[a + t] !== chars[b + t]) return false;
  return true;
}

/**
 * (b) Scan left to right; at each position try pattern lengths 1..20 (shortest first). If `thr`
 * consecutive copies start there, keep one copy, skip every further consecutive copy, process the rest
 * recursively and stop. Positions are scanned while at least 2·thr characters remain; the rest is copied.
 */
function collapsePatternRepeats(chars: string[], thr: number): string[] {
  const n = chars.length;
  const out: string[] = [];
  let i = 0;
  while (i <= n - 2 * thr) {
    for (let k = 1; k <= MAX_PATTERN; k++) {
      if (i + k * thr > n) break;
      let ok = true;
      for (let r = 1; r < thr && ok; r++) ok = samePattern(chars, i, i + r * k, k);
      if (!ok) continue;
      let end = i + thr * k;
      while (end + k <= n && samePattern(chars, i, end, k)) end += k;
      out.push(...chars.slice(i, i + k));
      out.push(...collapsePatternRepeats(chars.slice(end), thr));
      return out;
    }
    out.push(chars[i]);
    i++;
  }
  out.push(...chars.slice(i));
  return out;
}

/** Repetition repair on code points, threshold 20. */
export function fixRepetitions(text: string, threshold = REPEAT_THRESHOLD): string {
  const chars = Array.from(text);
  return collapsePatternRepeats(collapseCharRuns(chars, threshold), threshold).join('');
}

/** Python str.strip() whitespace (approximately: Unicode White_Space plus the \x1c–\x1f separators). */
function pyStrip(s: string): string {
  return s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/gu, '');
}

/**
 * Parse the decoded generated text (special tokens skipped, `<asr_text>` kept).
 * Returns language "" for `language None` or when no tag is present.
 */
export function parseAsrOutput(raw: string, forcedLanguage?: string | null): { language: string; text: string } {
  let s = pyStrip(raw ?? '');
  if (!s) return { language: forcedLanguage ? normalizeLanguageName(forcedLanguage) : '', text: '' };
  s = fixRepetitions(s);
  if (forcedLanguage) return { language: normalizeLanguageName(forcedLanguage), text: s };
  const tag = '<asr_text>';
  const at = s.indexOf(tag);
  if (at < 0) return { language: '', text: s };
  const metaPart = s.slice(0, at);
  const rest = pyStrip(s.slice(at + tag.length));
  if (metaPart.toLowerCase().includes('language none')) return { language: '', text: rest };
  let language = '';
  for (const line of metaPart.split(/\r?\n/)) {
    const l = pyStrip(line);
    if (!l) continue;
    if (l.toLowerCase().startsWith('language ')) {
      language = normalizeLanguageName(l.slice('language '.length));
      break;
    }
  }
  return { language, text: rest };
}
