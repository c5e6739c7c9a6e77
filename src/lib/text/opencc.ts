// Optional Simplified → Traditional Chinese (Taiwan standard with Taiwan phrases, OpenCC "s2twp")
// with opencc-js, keeping word timings.
//
// Loading: `import('opencc-js/cn2t')` resolves to the package's ESM build (dist/esm/cn2t.js, the
// "import" condition) both under Vite and in Node/vitest; the dynamic import makes Vite put the
// ~1 MB dictionary in its own chunk, fetched only when Traditional output is first asked for.
import type { TimedToken } from '../pipeline-types';
import { hasWordChar } from './script';

type Convert = (text: string) => string;

let loading: Promise<Convert> | null = null;

/** Loads the s2twp converter once (later calls share it); a failed load is retried on the next call. */
export function loadTraditional(): Promise<Convert> {
  loading ??= import('opencc-js/cn2t')
    .then((m) => m.Converter({ from: 'cn', to: 'twp' }))
    .catch((e: unknown) => {
      loading = null;
      throw e;
    });
  return loading;
}

/** Converts Simplified Chinese to Traditional (Taiwan, with Taiwan phrases: 软件→軟體, 鼠标→滑鼠). */
export async function toTraditional(text: string): Promise<string> {
  if (!text) return text;
  return (await loadTraditional())(text);
}

/** Characters that do occur inside OpenCC phrases (transliterated names: 伍迪·艾伦, 伯克希尔-哈撒韦). */
const INSIDE_PHRASE = new Set([...'·‧・-‐‑–\'’']);

/** Groups of consecutive tokens no phrase can span: a group ends at whitespace or punctuation. */
function clauseGroups(tokens: TimedToken[]): TimedToken[][] {
  const groups: TimedToken[][] = [];
  let cur: TimedToken[] = [];
  tokens.forEach((t, k) => {
    cur.push(t);
    const last = [...t.text].at(-1) ?? '';
    const next = tokens[k + 1]?.text ?? '';
    if ((!hasWordChar(last) && !INSIDE_PHRASE.has(last)) || /^\s/u.test(next)) {
      groups.push(cur);
      cur = [];
    }
  });
  if (cur.length) groups.push(cur);
  return groups;
}

/**
 * Converts tokens to Traditional Chinese keeping their times. The text is converted with its phrase
 * context — clause by clause, which is the same as converting it whole because no OpenCC phrase spans
 * punctuation (other than the name separators · -) or spaces (鼠标 spread over two tokens still becomes 滑鼠), and confines a length change
 * to its clause. When a clause's converted text has as many characters as the original, the characters
 * are mapped back one by one onto its tokens; otherwise (a phrase changed length, e.g. 内存→記憶體)
 * that clause's tokens are converted one by one.
 */
export async function toTraditionalTokens(tokens: TimedToken[]): Promise<TimedToken[]> {
  if (tokens.length === 0) return [];
  const convert = await loadTraditional();
  const out: TimedToken[] = [];
  for (const group of clauseGroups(tokens)) {
    const text = group.map((t) => t.text).join('');
    const chars = [...convert(text)];
    if (chars.length === [...text].length) {
      let p = 0;
      for (const t of group) {
        const n = [...t.text].length;
        out.push({ ...t, text: chars.slice(p, p + n).join('') });
        p += n;
      }
    } else {
      for (const t of group) out.push({ ...t, text: convert(t.text) });
    }
  }
  return out;
}
