// The engine's ForcedAligner (WASM) against the float64 reference on a random-weight aligner in
// the published format (classify_num 1000 in the tiny preset: the class count comes from the
// file). Classes are compared where the reference's top-2 margin is clearly above the engine's
// error (research/qwen3-asr-official.md addendum 2 rule 8).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { align, fixTimestamps, splitUnits } from '../../tools/reference/aligner';
import { loadModel, type ReferenceModel } from '../../tools/reference/model';
import { ensureModel } from '../../tools/model-gen/index';
import { NUMERICS, type EngineBinding, type EngineModel } from '../../src/lib/engine-binding';
import { loadEngine, shutdownEngine, variantAvailable, type Variant } from './load-engine';
import { speech } from './test-audio';

const EXACT = NUMERICS.exactF32Matmul;
const MARGIN = 2e-3;

let bytes: Uint8Array;
let ref: ReferenceModel;
beforeAll(async () => {
  bytes = readFileSync(await ensureModel('aligner-tiny', { seed: 1 }));
  ref = loadModel(bytes);
});

for (const variant of ['st', 'mt-node'] as Variant[]) {
  describe.skipIf(!variantAvailable(variant))(`aligner vs reference, WASM ${variant}`, () => {
    let engine: EngineBinding;
    let model: EngineModel;
    beforeAll(async () => {
      engine = await loadEngine(variant);
      model = engine.loadModel(bytes, variant === 'st' ? 1 : 2);
    });
    afterAll(() => { model?.free(); shutdownEngine(engine); });

    it('is recognised as an aligner with the file\'s class count', () => {
      expect(model.info.kind).toBe('aligner');
      expect(model.info.classify_num).toBe(ref.classifyNum);
      expect(model.info.text.head_rows).toBe(ref.classifyNum);
      expect(model.info.timestamp_segment_ms).toBe(80);
    });

    for (const [name, text, secs] of [
      ['English words', 'The quick brown fox, jumps over the lazy dog.', 4.4],
      ['Chinese characters', '今天天气很好，我们去公园散步。', 5.1],
      ['mixed scripts', '我用iPhone拍照 e-mail 3.5', 3],
    ] as [string, string, number][]) {
      it(`slot classes and repaired times match for ${name}`, () => {
        const pcm = speech(secs, 1);
        const want = align(ref, pcm, text);
        const units = splitUnits(text);
        const got = model.align(pcm, units, EXACT);
        expect(got.audio_tokens).toBe(want.audioTokens);
        expect(got.input_tokens).toBe(want.inputIds.length);
        expect(got.classes.length).toBe(want.classes.length);
        const K = ref.classifyNum!;
        let compared = 0;
        for (let s = 0; s < want.classes.length; s++) {
          const row = Array.from(want.slotLogits.subarray(s * K, (s + 1) * K)).sort((a, b) => b - a);
          if (row[0] - row[1] < MARGIN) continue;
          expect(got.classes[s]).toBe(want.classes[s]);
          compared++;
        }
        expect(compared).toBeGreaterThan(want.classes.length / 2);
        if (got.classes.every((c, i) => c === want.classes[i])) {
          expect(got.start_ms).toEqual(want.units.map((u) => u.start));
          expect(got.end_ms).toEqual(want.units.map((u) => u.end));
        }
        // Whatever the classes, the repaired sequence is non-decreasing.
        const seq = got.start_ms.flatMap((s, i) => [s, got.end_ms[i]]);
        for (let i = 1; i < seq.length; i++) expect(seq[i]).toBeGreaterThanOrEqual(seq[i - 1]);
      });
    }

    it('punctuation-only or empty text gives no units and does not crash', () => {
      const pcm = speech(1.2, 1);
      for (const text of ['', '。，！', '%', '"…"']) {
        const units = splitUnits(text);
        expect(units).toEqual([]);
        const got = model.align(pcm, units);
        expect(got.start_ms).toEqual([]);
        expect(got.input_tokens).toBe(got.audio_tokens + 4);
        expect(got.classes.length).toBe(2);
      }
    });

    it('the ASR model refuses to align and the aligner refuses to transcribe', () => {
      expect(() => model.transcribe(speech(1))).toThrow(/ForcedAligner/);
    });
  });
}

describe('timestamp repair', () => {
  it('matches the reference on random sequences', async () => {
    const engine = await loadEngine('st');
    const m = engine.loadModel(bytes, 1);
    // The engine's repair is exercised through align(); its rules are checked here against the
    // reference implementation on the classes the engine produced for a long random-ish text.
    const text = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    const got = m.align(speech(9, 0.7), splitUnits(text));
    const fixed = fixTimestamps(got.classes.map((c) => c * 80));
    expect(got.start_ms).toEqual(fixed.filter((_, i) => i % 2 === 0));
    expect(got.end_ms).toEqual(fixed.filter((_, i) => i % 2 === 1));
    m.free();
  });
});

describe.skipIf(!variantAvailable('st'))('aligner vs reference, f32 model (exact path)', () => {
  it('classes are identical at every slot, and so are the repaired times', async () => {
    const f32 = readFileSync(await ensureModel('aligner-tiny', { seed: 1, quant: 'f32' }));
    const refF32 = loadModel(f32);
    const engine = await loadEngine('st');
    const m = engine.loadModel(f32, 1);
    try {
      for (const [text, secs] of [['The quick brown fox, jumps over the lazy dog.', 4.4], ['今天天气很好，我们去公园散步。', 5.1], ['我用iPhone拍照 e-mail 3.5', 3]] as [string, number][]) {
        const pcm = speech(secs, 1);
        const want = align(refF32, pcm, text);
        const got = m.align(pcm, splitUnits(text), EXACT);
        expect(got.classes).toEqual(want.classes);
        expect(got.start_ms).toEqual(want.units.map((u) => u.start));
        expect(got.end_ms).toEqual(want.units.map((u) => u.end));
      }
    } finally {
      m.free();
    }
  });
});
