// Words for display: merges runs of per-character CJK tokens into jieba words (jieba-wasm), so
// subtitles and word lists never break inside a word. Without jieba the tokens stay per character.
//
// Loading (initJieba): `import('jieba-wasm')` picks the build by the environment's export
// conditions. In Node (vitest) the "node" condition gives pkg/nodejs, a CommonJS module that reads
// its .wasm with fs and is ready on import. Under Vite (browser, worker; dev and build) the
// "browser"/"import" conditions give pkg/web, whose default export must be called with the .wasm
// location. That URL comes from a `?url` import, so Vite emits the 4 MB .wasm as a hashed asset and
// it is fetched only when initJieba() first runs. The import names the file by a relative path into
// node_modules because the package's "exports" map does not expose the .wasm
// ("jieba-wasm/pkg/web/jieba_rs_wasm_bg.wasm?url" fails to resolve under Vite 8).
import type { TimedToken } from '../pipeline-types';
import { hasHan, isTight, isWordChar } from './script';

type Cut = (text: string, hmm?: boolean | null) => string[];

let cut: Cut | null = null;
let loading: Promise<boolean> | null = null;
let warned = false;

interface JiebaModule {
  cut: Cut;
  default?: unknown;
}

async function loadJieba(): Promise<Cut> {
  const mod = (await import('jieba-wasm')) as unknown as JiebaModule;
  if (typeof mod.default === 'function') {
    // The web build: instantiate its wasm explicitly from the URL Vite gives the asset.
    const { default: wasmUrl } = await import('../../../node_modules/jieba-wasm/pkg/web/jieba_rs_wasm_bg.wasm?url');
    await (mod.default as (init: { module_or_path: string }) => Promise<unknown>)({ module_or_path: wasmUrl });
  }
  if (typeof mod.cut !== 'function') throw new Error('jieba-wasm has no cut()');
  return mod.cut;
}

/**
 * Loads jieba once (later calls share the same promise). Resolves true when word grouping is
 * available, false when loading failed (a warning is logged; groupWords then keeps characters).
 */
export function initJieba(): Promise<boolean> {
  loading ??= loadJieba().then(
    (c) => {
      cut = c;
      return true;
    },
    (e: unknown) => {
      console.warn('jieba-wasm could not be loaded; Chinese words are shown character by character.', e);
      warned = true;
      return false;
    },
  );
  return loading;
}

/** True once initJieba() has succeeded. */
export function jiebaReady(): boolean {
  return cut !== null;
}

/** A per-character CJK token: has a Han character and only tight (CJK) letters/numbers. */
function isCjkToken(text: string): boolean {
  if (!hasHan(text)) return false;
  for (const ch of text) if (isWordChar(ch) && !isTight(ch)) return false;
  return true;
}

/** Merges tokens [from, to) into one: texts concatenated, start of the first, end of the last. */
function merge(tokens: TimedToken[], from: number, to: number): TimedToken {
  if (to - from === 1) return { ...tokens[from] };
  let text = '';
  for (let k = from; k < to; k++) text += tokens[k].text;
  return { text, start: tokens[from].start, end: Math.max(tokens[to - 1].end, tokens[from].start) };
}

/** Groups one run of CJK tokens into jieba words; a word that spans several tokens merges them. */
function groupRun(tokens: TimedToken[], from: number, to: number, segment: Cut, out: TimedToken[]): void {
  let text = '';
  for (let k = from; k < to; k++) text += tokens[k].text;
  const wordEnds = new Set<number>();
  let pos = 0;
  for (const w of segment(text, true)) wordEnds.add((pos += w.length));
  if (pos !== text.length) {
    // jieba did not return the text back piece by piece: keep the characters.
    for (let k = from; k < to; k++) out.push({ ...tokens[k] });
    return;
  }
  let start = from;
  let end = 0;
  for (let k = from; k < to; k++) {
    end += tokens[k].text.length;
    if (wordEnds.has(end)) {
      out.push(merge(tokens, start, k + 1));
      start = k + 1;
    }
  }
  if (start < to) out.push(merge(tokens, start, to));
}

/**
 * Merges consecutive CJK character tokens into jieba words (start of the first character, end of
 * the last); other tokens are returned unchanged. Call initJieba() first; without it (or if it
 * failed) the tokens are returned as they are, with a one-time warning.
 */
export function groupWords(tokens: TimedToken[]): TimedToken[] {
  if (!cut) {
    if (!warned) {
      console.warn('groupWords: jieba is not loaded (call initJieba() first); keeping per-character tokens.');
      warned = true;
    }
    return tokens.map((t) => ({ ...t }));
  }
  const out: TimedToken[] = [];
  let k = 0;
  while (k < tokens.length) {
    if (!isCjkToken(tokens[k].text)) {
      out.push({ ...tokens[k] });
      k++;
      continue;
    }
    let m = k + 1;
    while (m < tokens.length && isCjkToken(tokens[m].text)) m++;
    groupRun(tokens, k, m, cut, out);
    k = m;
  }
  return out;
}
