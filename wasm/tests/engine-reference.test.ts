// The engine (WASM, both builds) against the independent float64 reference (tools/reference) on a
// random-weight model in the exact published file format (tools/model-gen): encoder outputs,
// decoder logits at every prompt position, greedy tokens, prompt and tokenizer, and the chatllm
// numerics switches. Logits are compared, not only tokens (research/qwen3-asr-official.md
// addendum 1: tanh-vs-erf GELU moves logits by 1e-3 without changing a greedy token).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAsrPrompt, greedyDecode, tokenizerFor } from '../../tools/reference/asr';
import { decoderForward, encodeAudio, loadModel, type ReferenceModel } from '../../tools/reference/model';
import { ensureModel } from '../../tools/model-gen/index';
import { NUMERICS, type EngineBinding, type EngineModel } from '../../src/lib/engine-binding';
import { loadEngine, shutdownEngine, variantAvailable, type Variant } from './load-engine';
import { noise, speech } from './test-audio';

/** max |a − b| / rms(b) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0, ss = 0;
  for (let i = 0; i < b.length; i++) { max = Math.max(max, Math.abs(a[i] - b[i])); ss += b[i] * b[i]; }
  return max / Math.sqrt(ss / b.length);
}
/** rms(a − b) / rms(b) */
function rmsRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, ss = 0;
  for (let i = 0; i < b.length; i++) { d += (a[i] - b[i]) ** 2; ss += b[i] * b[i]; }
  return Math.sqrt(d / ss);
}
function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const EXACT = NUMERICS.exactF32Matmul;

let bytes: Uint8Array;
let ref: ReferenceModel;

beforeAll(async () => {
  bytes = readFileSync(await ensureModel('tiny', { seed: 1 }));
  ref = loadModel(bytes);
});

for (const variant of ['st', 'mt-node'] as Variant[]) {
  describe.skipIf(!variantAvailable(variant))(`engine vs reference, WASM ${variant}`, () => {
    let engine: EngineBinding;
    let model: EngineModel;
    beforeAll(async () => {
      engine = await loadEngine(variant);
      model = engine.loadModel(bytes, variant === 'st' ? 1 : 2);
    });
    afterAll(() => { model?.free(); shutdownEngine(engine); });

    it('reads the dimensions from the file', () => {
      expect(model.info.kind).toBe('asr');
      expect(model.info.quant).toBe('q4_0');
      expect(model.info.audio.d_model).toBe(ref.audio.dModel);
      expect(model.info.audio.layers).toBe(ref.audio.layers);
      expect(model.info.text.hidden).toBe(ref.text.hidden);
      expect(model.info.text.head_dim).toBe(ref.text.headDim);
      expect(model.info.text.head_rows).toBe(ref.text.headRows);
      expect(model.info.languages).toContain('English');
      expect(model.info.threads).toBe(variant === 'st' ? 1 : 2);
    });

    for (const [name, make] of [
      ['0.3 s (padded to 0.5 s)', () => speech(0.3, 1.3)],
      ['3.37 s of speech', () => speech(3.37, 1)],
      ['11.2 s (two attention windows)', () => speech(11.2, 0.4)],
      ['2 s of noise', () => noise(2, 3)],
    ] as [string, () => Float32Array][]) {
      it(`encoder output matches for ${name} (f32 matmul)`, () => {
        const pcm = make();
        const want = encodeAudio(ref, pcm);
        const got = model.encode(pcm, EXACT);
        expect(got.tokens).toBe(want.tokens);
        expect(relErr(got.data, want.data)).toBeLessThan(2e-4);
      });
    }

    it('encoder with q8 activations (the fast path) stays close', () => {
      const pcm = speech(5.1, 2);
      const want = encodeAudio(ref, pcm);
      const got = model.encode(pcm);
      expect(rmsRelErr(got.data, want.data)).toBeLessThan(0.02);
      expect(relErr(got.data, want.data)).toBeLessThan(0.2);
    });

    it('chatllm full attention differs from the windows beyond 8 s and matches the reference', () => {
      const pcm = speech(11.2, 0.4);
      const want = encodeAudio(ref, pcm, { fullAttention: true });
      const got = model.encode(pcm, EXACT | NUMERICS.chatllmFullAttention);
      expect(relErr(got.data, want.data)).toBeLessThan(2e-4);
      const windowed = encodeAudio(ref, pcm);
      expect(relErr(windowed.data, want.data)).toBeGreaterThan(1e-2);
    });

    it('decoder logits match at every prompt position', () => {
      const pcm = speech(2.5, 1);
      const enc = encodeAudio(ref, pcm);
      const tok = tokenizerFor(ref);
      const ids = buildAsrPrompt(tok, enc.tokens, { context: 'Qwen, WebAssembly' });
      const positions = ids.map((_, i) => i).filter((i) => i % 3 === 0 || i === ids.length - 1);
      const want = decoderForward(ref, ids, enc, undefined, { positions });
      const got = model.logits(ids, Float32Array.from(enc.data), positions, EXACT);
      expect(got.length).toBe(want.logits.length);
      expect(maxAbs(got, want.logits)).toBeLessThan(2e-3);
    });

    it('decoder with q8 activations stays close', () => {
      const enc = encodeAudio(ref, speech(1.5, 2));
      const ids = buildAsrPrompt(tokenizerFor(ref), enc.tokens);
      const pos = [ids.length - 1];
      const want = decoderForward(ref, ids, enc, undefined, { positions: pos });
      const got = model.logits(ids, Float32Array.from(enc.data), pos);
      expect(rmsRelErr(got, want.logits)).toBeLessThan(0.05);
    });

    it('greedy decoding gives the reference tokens (ties aside) and streams text', () => {
      const pcm = speech(2.2, 1.1);
      const want = greedyDecode(ref, pcm, { maxNewTokens: 10, keepLogits: true });
      let streamed = '';
      const got = model.transcribe(pcm, { maxNewTokens: 10, numerics: EXACT, repetitionGuard: false }, (t) => { streamed += t; });
      expect(got.prompt_tokens).toBe(want.promptIds.length);
      expect(got.audio_tokens).toBe(want.audioTokens);
      for (let i = 0; i < want.ids.length; i++) {
        if (got.tokens[i] === want.ids[i]) continue;
        // A different token is only acceptable where the reference's top two are a near tie.
        const l = Array.from(want.stepLogits![i]).sort((a, b) => b - a);
        expect(l[0] - l[1]).toBeLessThan(1e-3);
        break;
      }
      expect(streamed).toBe(model.detokenize(got.tokens));
      expect(got.timings.decode_tokens).toBe(got.tokens.length);
    });

    it('forced language and context change the prompt like the reference', () => {
      const pcm = speech(1, 1);
      const enc = encodeAudio(ref, pcm);
      const tok = tokenizerFor(ref);
      const r = model.transcribe(pcm, { language: 'english', context: 'hello world', maxNewTokens: 2 });
      expect(r.language).toBe('English');
      expect(r.prompt_tokens).toBe(buildAsrPrompt(tok, enc.tokens, { context: 'hello world', language: 'English' }).length);
      expect(() => model.transcribe(pcm, { language: 'Klingon' })).toThrow(/not supported/);
    });

    it('tokenizes like the reference tokenizer', () => {
      const tok = tokenizerFor(ref);
      for (const s of ['system\n', 'Hello, world!', '今天天气很好，我们去公园散步。', ' leading  spaces\n\nand newlines', "I'M don't 2024年3月5日 12:30",
        'café', 'cafe\u0301', '🙂 emoji', '<|im_start|>user\n', 'naïve Ωmega ΣΑΣ', '   ']) {
        expect(model.tokenize(s)).toEqual(tok.encode(s));
      }
    });
  });
}
