// Token parity across builds, part 1 (WASM in Node): the tiny q4_0 model transcribes three clips
// (1 s, 8.5 s, 20 s of speech) for 40 tokens on the fast path (q8 activations) and on the exact
// f32 path, with the single-thread and the threaded (2 threads) builds; both must give the same
// tokens. The cases are then written to .cache/engine-cases/ (PCM files + index.json) for
//   - the native test wasm/tests/native/test_engine_tokens.cpp (g++ build, AVX2 kernels), and
//   - the Chromium test e2e/engine-parity.spec.ts (both builds in a browser worker),
// which must reproduce the same tokens (package.json runs vitest before both).
// With every run, index.json records the ST build's top-2 logits at each step (one debug-logits
// call over the prompt + generated tokens), so a native mismatch can be reported with margins.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureModel } from '../../tools/model-gen/index';
import { NUMERICS, type EngineBinding, type EngineModel, type TranscribeResult } from '../../src/lib/engine-binding';
import { loadEngine, ROOT, shutdownEngine, variantAvailable } from './load-engine';
import { speech } from './test-audio';

const CASES_DIR = join(ROOT, '.cache/engine-cases');
const MAX_NEW = 40;
const CLIPS = [
  { name: 'speech 1 s', file: 'speech-1s.f32', sec: 1, offset: 1.1 },
  { name: 'speech 8.5 s', file: 'speech-8.5s.f32', sec: 8.5, offset: 0.3 },
  { name: 'speech 20 s', file: 'speech-20s.f32', sec: 20, offset: 2 },
];
const PATHS = [
  { path: 'fast', numerics: 0 },
  { path: 'exact', numerics: NUMERICS.exactF32Matmul },
];

interface Run {
  path: string;
  numerics: number;
  max_new_tokens: number;
  repetition_guard: number;
  prompt_tokens: number;
  tokens: number[];
  /** ST build, per step: [top1 id, top1 logit, top2 id, top2 logit] */
  steps: [number, number, number, number][];
}

const both = variantAvailable('st') && variantAvailable('mt-node');

describe.skipIf(!both)('WASM ST = WASM MT tokens; cases for the native and Chromium checks', () => {
  let st: EngineBinding, mt: EngineBinding;
  let mST: EngineModel, mMT: EngineModel;
  let modelPath: string;
  let bytes: Uint8Array;
  const cases: { name: string; pcm: string; samples: number; runs: Run[] }[] = [];

  beforeAll(async () => {
    modelPath = await ensureModel('tiny', { seed: 1 });
    bytes = readFileSync(modelPath);
    st = await loadEngine('st');
    mt = await loadEngine('mt-node');
    mST = st.loadModel(bytes, 1);
    mMT = mt.loadModel(bytes, 2);
  });
  afterAll(() => {
    mST?.free();
    mMT?.free();
    if (mt) shutdownEngine(mt);
  });

  for (const clip of CLIPS) {
    it(`${clip.name}: the same ${MAX_NEW} tokens from both builds, fast and exact paths`, () => {
      const pcm = speech(clip.sec, clip.offset);
      const runs: Run[] = [];
      for (const p of PATHS) {
        const opts = { maxNewTokens: MAX_NEW, numerics: p.numerics, repetitionGuard: false };
        const a: TranscribeResult = mST.transcribe(pcm, opts);
        const b: TranscribeResult = mMT.transcribe(pcm, opts);
        expect(b.tokens, `${clip.name} ${p.path}: MT vs ST`).toEqual(a.tokens);
        expect(a.tokens.length).toBeGreaterThan(0);
        // Top-2 logits of every step, recomputed without the KV cache in one call; the argmax must
        // be the token the session chose (the cached decode and the full pass agree bit for bit).
        const ids = [...a.tokens];
        const promptIds = promptOf(mST, pcm, a);
        const all = [...promptIds, ...ids];
        const stopped = a.tokens.length < MAX_NEW;
        const positions = Array.from({ length: ids.length + (stopped ? 1 : 0) }, (_, i) => promptIds.length - 1 + i);
        const rows = mST.info.text.head_rows;
        const logits = mST.logits(all.slice(0, positions[positions.length - 1] + 1), mST.encode(pcm, p.numerics).data, positions, p.numerics);
        const steps: Run['steps'] = positions.map((_, s) => top2(logits.subarray(s * rows, (s + 1) * rows)));
        steps.forEach((t, s) => { if (s < ids.length) expect(t[0], `${clip.name} ${p.path} step ${s}`).toBe(ids[s]); });
        runs.push({ path: p.path, numerics: p.numerics, max_new_tokens: MAX_NEW, repetition_guard: 0, prompt_tokens: a.prompt_tokens, tokens: a.tokens, steps });
      }
      cases.push({ name: clip.name, pcm: clip.file, samples: pcm.length, runs });
      writePcm(clip.file, pcm);
    });
  }

  it('writes .cache/engine-cases/index.json', () => {
    expect(cases.length).toBe(CLIPS.length);
    const index = {
      version: 1,
      note: 'written by wasm/tests/native-parity.test.ts; tokens from the WASM builds (ST = MT)',
      model: relative(join(ROOT, '.cache'), modelPath),
      model_bytes: bytes.byteLength,
      cases: CLIPS.map((c) => cases.find((x) => x.name === c.name)!),
    };
    const tmp = join(CASES_DIR, `index.json.tmp-${process.pid}`);
    writeFileSync(tmp, JSON.stringify(index, null, 1) + '\n');
    renameSync(tmp, join(CASES_DIR, 'index.json'));
  });
});

/** The prompt ids the session used: the engine's tokenizer on the rendered template. */
function promptOf(m: EngineModel, pcm: Float32Array, r: TranscribeResult): number[] {
  const enc = m.encode(pcm);
  const ids = m.tokenize('<|im_start|>system\n<|im_end|>\n<|im_start|>user\n<|audio_start|>' + '<|audio_pad|>'.repeat(enc.tokens) +
    '<|audio_end|><|im_end|>\n<|im_start|>assistant\n');
  expect(ids.length).toBe(r.prompt_tokens);
  return ids;
}

function top2(v: Float32Array): [number, number, number, number] {
  let a = 0, b = -1;
  for (let i = 1; i < v.length; i++) {
    if (v[i] > v[a]) { b = a; a = i; } else if (b < 0 || v[i] > v[b]) b = i;
  }
  return [a, v[a], b, v[b]];
}

function writePcm(file: string, pcm: Float32Array): void {
  mkdirSync(CASES_DIR, { recursive: true });
  const tmp = join(CASES_DIR, `${file}.tmp-${process.pid}`);
  writeFileSync(tmp, new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  renameSync(tmp, join(CASES_DIR, file));
  rmSync(tmp, { force: true });
}
