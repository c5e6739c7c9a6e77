/**
 * Partial text of a growing utterance: which part is settled and which tail may still change.
 *
 * Live mode re-decodes the whole utterance so far every ~2 s (like the official streaming recipe,
 * research/qwen3-asr-official.md §6.2, which re-runs the model on all audio and keeps all but the
 * last few tokens of the previous output fixed). Our engine has no text-prefix input, so the settling
 * is done on the text: a unit (word, or CJK character) becomes settled when two consecutive passes
 * agree on it and it is not among the last `unfixed` units of the agreement. Settled text only grows;
 * a later pass that disagrees with it only changes the tail shown after it.
 */

const UNIT = /\s*[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]|\s*[^\s\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+|\s+$/gu;

/** Words (with their leading space) and single CJK characters; joined back they give the text. */
export function textUnits(text: string): string[] {
  return text.match(UNIT) ?? [];
}

function commonUnits(a: string[], b: string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n].trim() === b[n].trim()) n++;
  return n;
}

export interface PartialText {
  settled: string;
  tail: string;
}

export class PartialSettler {
  #settled: string[] = [];
  #previous: string[] | null = null;

  constructor(private readonly unfixed = 2) {}

  /** Takes the text of a new pass over the utterance so far. */
  update(text: string): PartialText {
    const units = textUnits(text);
    if (this.#previous) {
      const agree = commonUnits(this.#previous, units);
      const fix = agree - this.unfixed;
      if (fix > this.#settled.length && commonUnits(this.#settled, units) === this.#settled.length) {
        this.#settled = units.slice(0, fix);
      }
    }
    this.#previous = units;
    const kept = commonUnits(this.#settled, units);
    return { settled: this.#settled.join(''), tail: units.slice(kept).join('') };
  }
}
