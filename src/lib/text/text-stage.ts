// The text stage applied to a chunk's timed tokens after alignment, in this order:
//   1. Chinese ITN (spoken numbers → digits), on Simplified text — it only knows Simplified forms;
//   2. optionally, jieba word grouping (on Simplified text, where jieba's dictionary works best);
//   3. Simplified → Traditional (Taiwan phrases).
// Each step keeps timings. A step that fails (e.g. a lazily loaded module that cannot be fetched)
// is skipped with a warning: the transcript is never lost.
import type { TimedToken } from '../pipeline-types';
import { toTraditionalTokens } from './opencc';
import { groupWords, initJieba } from './words';

export { joinChunkTexts, joinChunkTokens } from './join';

export interface TextStageOptions {
  /** Chinese inverse text normalisation (二零一九年 → 2019年). */
  itn: boolean;
  /** Simplified → Traditional Chinese, Taiwan standard and phrases (s2twp). */
  traditional: boolean;
  /** Merge per-character CJK tokens into jieba words (default false). */
  words?: boolean;
}

async function step(name: string, tokens: TimedToken[], run: () => Promise<TimedToken[]> | TimedToken[]): Promise<TimedToken[]> {
  try {
    return await run();
  } catch (e) {
    console.warn(`Text stage: ${name} failed; keeping the text without it.`, e);
    return tokens;
  }
}

/** Applies ITN, word grouping and Traditional conversion (each when asked) to timed tokens. */
export async function applyTextStage(tokens: TimedToken[], opts: TextStageOptions): Promise<TimedToken[]> {
  let out = tokens.map((t) => ({ ...t }));
  if (opts.itn) {
    // Loaded on first use (a dynamic import keeps this module loadable on its own).
    out = await step('Chinese ITN', out, async () => (await import('./itn-zh')).itnZhTokens(out));
  }
  if (opts.words) {
    out = await step('word grouping', out, async () => ((await initJieba()) ? groupWords(out) : out));
  }
  if (opts.traditional) {
    out = await step('Traditional Chinese conversion', out, () => toTraditionalTokens(out));
  }
  return out;
}
