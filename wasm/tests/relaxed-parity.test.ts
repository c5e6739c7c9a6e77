// The relaxed-SIMD build (engine-mt-relaxed: q4_0 matmuls on i16x8.relaxed_dot_i8x16_i7x16_s,
// kernels_simd128.cpp) must compute exactly what the plain SIMD128 build computes: same integer
// block sums, same floating-point order. On the tiny q4_0 model, for three clips and both numerics
// paths: the encoder output and the logits at every position are bit-identical to the plain
// single-thread build, and greedy decoding gives the same tokens. The prompt prefill runs the
// relaxed panel GEMM; passes of fewer than 8 tokens (and the decode steps) its GEMV. Chromium runs the browser twin in
// e2e/engine-parity.spec.ts.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureModel } from '../../tools/model-gen/index';
import { NUMERICS, type EngineBinding, type EngineModel } from '../../src/lib/engine-binding';
import { loadEngine, relaxedSimdSupported, shutdownEngine, variantAvailable } from './load-engine';
import { speech } from './test-audio';

const CLIPS = [
  { name: '1 s', sec: 1, offset: 1.1 },
  { name: '8.5 s', sec: 8.5, offset: 0.3 },
  { name: '20 s', sec: 20, offset: 2 },
];
const PATHS = [
  { name: 'fast', numerics: 0 },
  { name: 'exact', numerics: NUMERICS.exactF32Matmul },
];
const MAX_NEW = 24;

/** Index of the first element where the two arrays differ bit for bit, or -1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  expect(b.length).toBe(a.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

it('Node runs relaxed SIMD here (else the relaxed build goes untested in Node)', () => {
  expect(relaxedSimdSupported()).toBe(true);
});

describe.skipIf(!variantAvailable('st') || !variantAvailable('mt-relaxed-node'))('relaxed-SIMD build = plain build, bit for bit', () => {
  let plain: EngineBinding, relaxed: EngineBinding;
  let mPlain: EngineModel, mRelaxed: EngineModel;

  beforeAll(async () => {
    const bytes = readFileSync(await ensureModel('tiny', { seed: 1 }));
    plain = await loadEngine('st');
    relaxed = await loadEngine('mt-relaxed-node');
    mPlain = plain.loadModel(bytes, 1);
    mRelaxed = relaxed.loadModel(bytes, 2);
  });
  afterAll(() => {
    mPlain?.free();
    mRelaxed?.free();
    if (relaxed) shutdownEngine(relaxed);
  });

  it('reports its kernel family', () => {
    expect(relaxed.buildInfo.kernels).toBe('wasm-simd128-relaxed');
    expect(plain.buildInfo.kernels).toBe('wasm-simd128');
    expect(mPlain.info.quant).toBe('q4_0');
  });

  it('text-only passes of 1 to 7 tokens (the GEMV path: fewer than 8 rows) give the same logits', () => {
    const ids = mPlain.tokenize('<|im_start|>user\nhello there, general kenobi<|im_end|>\n');
    expect(ids.length).toBeGreaterThanOrEqual(7);
    for (const p of PATHS) {
      for (let n = 1; n <= 7; n++) {
        const positions = Array.from({ length: n }, (_, i) => i);
        const la = mPlain.logits(ids.slice(0, n), null, positions, p.numerics);
        const lb = mRelaxed.logits(ids.slice(0, n), null, positions, p.numerics);
        expect(firstBitDifference(la, lb), `${n} tokens, ${p.name} path`).toBe(-1);
      }
    }
  });

  for (const clip of CLIPS) {
    for (const p of PATHS) {
      it(`${clip.name}, ${p.name} path: encoder, logits at every position, tokens`, () => {
        const pcm = speech(clip.sec, clip.offset);
        const encA = mPlain.encode(pcm, p.numerics);
        const encB = mRelaxed.encode(pcm, p.numerics);
        expect(firstBitDifference(encA.data, encB.data), 'encoder output').toBe(-1);

        const opts = { maxNewTokens: MAX_NEW, numerics: p.numerics, repetitionGuard: false };
        const a = mPlain.transcribe(pcm, opts);
        const b = mRelaxed.transcribe(pcm, opts);
        expect(a.tokens.length).toBeGreaterThan(0);
        expect(b.tokens).toEqual(a.tokens);

        // Logits over the prompt and the generated tokens, one full pass each (prefill-size GEMMs).
        const ids = mPlain.tokenize('<|im_start|>user\n<|audio_start|>' + '<|audio_pad|>'.repeat(encA.tokens) + '<|audio_end|><|im_end|>\n');
        const all = [...ids, ...a.tokens];
        const positions = Array.from({ length: all.length }, (_, i) => i);
        const la = mPlain.logits(all, encA.data, positions, p.numerics);
        const lb = mRelaxed.logits(all, encB.data, positions, p.numerics);
        expect(firstBitDifference(la, lb), 'logits').toBe(-1);
      });
    }
  }
});
