// Reference matrix of the engine (WASM single-thread build; the threaded build is covered by
// engine-reference.test.ts): tiny random-weight ASR models in f32, q8_0 and q4_0 (seed 1) × clips
// of 0.5 s, 8.5 s (past the 104-token attention window) and 25 s × the official numerics and
// chatllm.cpp's. For every cell: the encoder output and the decoder logits at EVERY prompt
// position against the float64 reference (tools/reference), for the exact f32 path
// (NUMERICS.exactF32Matmul) and the fast path (activations quantised to q8_0), plus greedy tokens
// with the reference following the engine's tokens (teacher forcing), so every step is compared.
//
// Error measures (over a whole tensor: [tokens][dim] for the encoder, [positions][vocab] for the
// logits; a = engine, b = reference):
//   relMax = max|a − b| / max|b|          relRms = rms(a − b) / rms(b)
// Tolerances (measured values are printed in a table at the end of the run):
//   EXACT     relMax ≤ 1e-4 for the exact path, any weight type. The exact path dequantises the
//             weights exactly, so q8_0/q4_0 behave like f32 (measured ~2e-6). 1e-4 is stricter than
//             the 1e-3 the issue allows because the tests below show that tanh GELU (6e-4 on this
//             model) and RMSNorm eps 1e-5 (8e-3) must fail it — 1e-3 would let tanh GELU through.
//   FAST      relMax ≤ 0.05 and relRms ≤ 0.03 for the q8-activation path on q8_0/q4_0 weights
//             (measured ~1.5e-2 / 1.3e-2): one q8_0 rounding of every activation (±0.4 %) per
//             matmul. On f32 weights the fast path IS the f32 path: bit-identical results.
//   CHATLLM   relMax ≤ 2e-3 for the chatllm switches (full attention, tanh GELU from an fp16
//             table, RMSNorm eps 1e-5) against the reference's float64 tanh GELU: the table rounds
//             the GELU input and output to fp16 (rel. 2^-11 each), measured ~6.5e-4. The decoder
//             alone (given the reference's encoder output) stays within EXACT.
//   AUDIO RT  chatllm numerics also round-trip the audio features through the embedding's type
//             (q8_0 / q4_0 blocks). That step is discontinuous: the fp16-GELU differences above
//             move some values across a rounding boundary, one quantisation step each, so the
//             end-to-end logits get relMax ≤ 1e-2 (q8_0, measured 4.6e-3) and ≤ 0.1 (q4_0,
//             measured 3.8e-2); fast path on q4_0 ≤ 0.2 / relRms ≤ 0.1 (measured 0.10 / 0.049).
//             Given the reference's round-tripped features, the engine's decoder is within EXACT.
//   Tokens    exact path, official numerics: identical to the reference; a different token only
//             where the reference's top-2 margin is < 1e-4, at most once per clip. Fast path and
//             chatllm numerics: every step where the engine's token is not the reference's argmax
//             has a reference margin (max − logit[engine token]) below twice the largest logit
//             error measured in the same cell, at most 3 such steps per clip.
// The reference's lm_head (151,936 rows × 340 positions) is the costly part: it is computed once
// per (model, clip, numerics) and shared by both engine paths; the product with the head is
// done here with a 4-position blocked loop, the same float64 arithmetic in the same order as
// DecoderSession.logits (checked bit-for-bit on one row) but 2.6× faster.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAsrPrompt, tokenizerFor } from '../../tools/reference/asr';
import { GGML_TYPE } from '../../tools/reference/ggmm';
import { DecoderSession, embedInputs, encodeAudio, loadModel, type AudioEmbedding, type ReferenceModel } from '../../tools/reference/model';
import { ensureModel, type QuantName } from '../../tools/model-gen/index';
import { f16BitsToF32, quantizeQ4_0, quantizeQ8_0 } from '../../tools/model-gen/quantize';
import { NUMERICS, type EngineBinding, type EngineModel } from '../../src/lib/engine-binding';
import { loadEngine, variantAvailable } from './load-engine';
import { speech } from './test-audio';

const EXACT = NUMERICS.exactF32Matmul;
const TOL_EXACT = 1e-4;
const TOL_FAST_MAX = 0.05;
const TOL_FAST_RMS = 0.03;
const TOL_CHATLLM = 2e-3;
/** Logits bounds per numerics and weight type (relMax exact; relMax and relRms fast). */
const BOUNDS: Record<Mode['name'], Record<QuantName, { exact: number; fastMax: number; fastRms: number }>> = {
  official: {
    f32: { exact: TOL_EXACT, fastMax: TOL_EXACT, fastRms: TOL_EXACT },
    q8_0: { exact: TOL_EXACT, fastMax: TOL_FAST_MAX, fastRms: TOL_FAST_RMS },
    q4_0: { exact: TOL_EXACT, fastMax: TOL_FAST_MAX, fastRms: TOL_FAST_RMS },
  } as Record<QuantName, { exact: number; fastMax: number; fastRms: number }>,
  chatllm: {
    f32: { exact: TOL_CHATLLM, fastMax: TOL_CHATLLM, fastRms: TOL_CHATLLM },
    q8_0: { exact: 1e-2, fastMax: TOL_FAST_MAX, fastRms: TOL_FAST_RMS },
    q4_0: { exact: 0.1, fastMax: 0.2, fastRms: 0.1 },
  } as Record<QuantName, { exact: number; fastMax: number; fastRms: number }>,
};
const TIE_MARGIN = 1e-4;
const NEW_TOKENS = 20;
const POS_CHUNK = 96;

const QUANTS: QuantName[] = ['f32', 'q8_0', 'q4_0'];
const CLIPS: { name: string; sec: number; offset: number }[] = [
  { name: '0.5 s', sec: 0.5, offset: 1.3 },
  { name: '8.5 s', sec: 8.5, offset: 0.7 },
  { name: '25 s', sec: 25, offset: 1 },
];
interface Mode {
  name: 'official' | 'chatllm';
  flags: number;
  enc: { fullAttention?: boolean; gelu?: 'erf' | 'tanh' };
  rmsEps?: number;
}
const MODES: Mode[] = [
  { name: 'official', flags: 0, enc: {} },
  { name: 'chatllm', flags: NUMERICS.chatllmAll, enc: { fullAttention: true, gelu: 'tanh' }, rmsEps: 1e-5 },
];

// ---- error statistics --------------------------------------------------------------------------

class ErrStats {
  maxAbs = 0;
  maxRef = 0;
  sumSqDiff = 0;
  sumSqRef = 0;
  add(a: ArrayLike<number>, b: ArrayLike<number>): this {
    if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
    for (let i = 0; i < b.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      if (!(d <= this.maxAbs)) this.maxAbs = Number.isNaN(d) ? Infinity : d;
      const r = Math.abs(b[i]);
      if (r > this.maxRef) this.maxRef = r;
      this.sumSqDiff += d * d;
      this.sumSqRef += b[i] * b[i];
    }
    return this;
  }
  get relMax(): number { return this.maxAbs / this.maxRef; }
  get relRms(): number { return Math.sqrt(this.sumSqDiff / this.sumSqRef); }
}
const stats = (a: ArrayLike<number>, b: ArrayLike<number>) => new ErrStats().add(a, b);

interface Row { quant: string; clip: string; mode: string; path: string; encMax: number; encRms: number; logMax: number; logRms: number; tokens: string }
const table: Row[] = [];
const fmt = (x: number) => (Number.isNaN(x) ? '   -   ' : Number.isFinite(x) ? x.toExponential(2) : String(x));

// ---- reference helpers -------------------------------------------------------------------------

/** logits[p][v] = hidden[p]·head[v] in float64, summing over k in order (as DecoderSession.logits). */
function headProduct(hidden: Float64Array, n: number, head: Float64Array, rows: number, H: number): Float64Array {
  const out = new Float64Array(n * rows);
  let p = 0;
  for (; p + 4 <= n; p += 4) {
    const o0 = p * H, o1 = o0 + H, o2 = o1 + H, o3 = o2 + H;
    for (let v = 0; v < rows; v++) {
      const w = v * H;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < H; k++) {
        const x = head[w + k];
        s0 += hidden[o0 + k] * x;
        s1 += hidden[o1 + k] * x;
        s2 += hidden[o2 + k] * x;
        s3 += hidden[o3 + k] * x;
      }
      out[p * rows + v] = s0;
      out[(p + 1) * rows + v] = s1;
      out[(p + 2) * rows + v] = s2;
      out[(p + 3) * rows + v] = s3;
    }
  }
  for (; p < n; p++) {
    // One position: four head rows per pass (each sum still runs over k in order).
    const o = p * H;
    let v = 0;
    for (; v + 4 <= rows; v += 4) {
      const w0 = v * H, w1 = w0 + H, w2 = w1 + H, w3 = w2 + H;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < H; k++) {
        const x = hidden[o + k];
        s0 += x * head[w0 + k];
        s1 += x * head[w1 + k];
        s2 += x * head[w2 + k];
        s3 += x * head[w3 + k];
      }
      out[p * rows + v] = s0;
      out[p * rows + v + 1] = s1;
      out[p * rows + v + 2] = s2;
      out[p * rows + v + 3] = s3;
    }
    for (; v < rows; v++) {
      const w = v * H;
      let s = 0;
      for (let k = 0; k < H; k++) s += hidden[o + k] * head[w + k];
      out[p * rows + v] = s;
    }
  }
  return out;
}

/** Round trip of one f32 row through q8_0 / q4_0 blocks (model-gen's quantisers, decoded here). */
function roundTrip(type: number, row: Float32Array): Float32Array {
  const n = row.length;
  if (type === GGML_TYPE.F32) return row;
  const out = new Float32Array(n);
  if (type === GGML_TYPE.Q8_0) {
    const buf = new Uint8Array((n / 32) * 34);
    quantizeQ8_0(row, 0, n, buf, 0);
    for (let b = 0; b < n / 32; b++) {
      const d = f16BitsToF32(buf[b * 34] | (buf[b * 34 + 1] << 8));
      for (let j = 0; j < 32; j++) out[b * 32 + j] = Math.fround(d * ((buf[b * 34 + 2 + j] << 24) >> 24));
    }
    return out;
  }
  if (type === GGML_TYPE.Q4_0) {
    const buf = new Uint8Array((n / 32) * 18);
    quantizeQ4_0(row, 0, n, buf, 0);
    for (let b = 0; b < n / 32; b++) {
      const d = f16BitsToF32(buf[b * 18] | (buf[b * 18 + 1] << 8));
      for (let j = 0; j < 16; j++) {
        const q = buf[b * 18 + 2 + j];
        out[b * 32 + j] = Math.fround(d * ((q & 15) - 8));
        out[b * 32 + j + 16] = Math.fround(d * ((q >> 4) - 8));
      }
    }
    return out;
  }
  throw new Error(`no round trip for type ${type}`);
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

interface RefRun {
  enc: AudioEmbedding;
  /** What the decoder was given for the audio positions (enc, round-tripped in chatllm mode). */
  audio: AudioEmbedding;
  ids: number[];
  /** Final-normed hidden states of every prompt position [L][H]. */
  hidden: Float64Array;
  session: DecoderSession;
}

function referenceRun(ref: ReferenceModel, pcm: Float32Array, mode: Mode, audioType?: number): RefRun {
  const enc = encodeAudio(ref, pcm, mode.enc);
  const ids = buildAsrPrompt(tokenizerFor(ref), enc.tokens);
  let audio: AudioEmbedding = enc;
  if (audioType !== undefined && audioType !== GGML_TYPE.F32) {
    const H = enc.dim;
    const data = new Float64Array(enc.data.length);
    for (let t = 0; t < enc.tokens; t++) data.set(roundTrip(audioType, Float32Array.from(enc.data.subarray(t * H, (t + 1) * H))), t * H);
    audio = { tokens: enc.tokens, dim: H, data };
  }
  const session = new DecoderSession(ref, { rmsEps: mode.rmsEps });
  const hidden = session.append(embedInputs(ref, ids, audio), ids.length);
  return { enc, audio, ids, hidden, session };
}

/** The same prompt in a fresh reference session (for a second teacher-forced run). */
function freshRun(ref: ReferenceModel, run: RefRun, mode: Mode): RefRun {
  const session = new DecoderSession(ref, { rmsEps: mode.rmsEps });
  session.append(embedInputs(ref, run.ids, run.audio), run.ids.length);
  return { ...run, session };
}

/**
 * Logits at every prompt position, compared chunk by chunk (the reference's logits of a chunk are
 * computed once and shared by every engine variant).
 */
function compareAllPositions(ref: ReferenceModel, run: RefRun, variants: ((positions: number[]) => Float32Array)[]): ErrStats[] {
  const H = ref.text.hidden;
  const V = ref.text.headRows;
  const head = ref.weight(ref.text.headTensor);
  const out = variants.map(() => new ErrStats());
  const L = run.ids.length;
  for (let p0 = 0; p0 < L; p0 += POS_CHUNK) {
    const positions = Array.from({ length: Math.min(POS_CHUNK, L - p0) }, (_, i) => p0 + i);
    const want = headProduct(run.hidden.subarray(p0 * H, (p0 + positions.length) * H), positions.length, head, V, H);
    variants.forEach((f, i) => out[i].add(f(positions), want));
  }
  return out;
}

interface TokenCheck { steps: number; mismatches: { step: number; margin: number }[] }

/**
 * Teacher-forced greedy check: the reference session (holding the prompt) follows the engine's
 * tokens; at each step the engine's choice is compared with the reference's argmax.
 */
function followTokens(ref: ReferenceModel, run: RefRun, lastLogits: Float64Array, tokens: number[], maxNew: number): TokenCheck {
  const stops = [ref.special.imEnd, ref.special.endOfText];
  const chosen = [...tokens];
  if (tokens.length < maxNew) chosen.push(-1); // the engine stopped: it picked a stop id
  const res: TokenCheck = { steps: chosen.length, mismatches: [] };
  let logits = lastLogits;
  for (let step = 0; step < chosen.length; step++) {
    const best = argmax(logits);
    let pick = chosen[step];
    if (pick === -1) pick = logits[stops[0]] >= logits[stops[1]] ? stops[0] : stops[1];
    if (pick !== best) res.mismatches.push({ step, margin: logits[best] - logits[pick] });
    if (step + 1 < chosen.length) {
      const h = run.session.append(ref.row('model.embed_tokens.weight', pick), 1);
      logits = headProduct(h, 1, ref.weight(ref.text.headTensor), ref.text.headRows, ref.text.hidden);
    }
  }
  return res;
}

function checkTokens(t: TokenCheck, margin: number, maxMismatches: number, what: string): string {
  for (const m of t.mismatches) expect(m.margin, `${what}: step ${m.step}`).toBeLessThan(margin);
  expect(t.mismatches.length, what).toBeLessThanOrEqual(maxMismatches);
  const worst = Math.max(0, ...t.mismatches.map((m) => m.margin));
  return `${t.steps - t.mismatches.length}/${t.steps}` + (t.mismatches.length ? ` (max margin ${fmt(worst)})` : '');
}

// ---- the matrix --------------------------------------------------------------------------------

describe.skipIf(!variantAvailable('st'))('engine reference matrix (WASM st)', () => {
  let engine: EngineBinding;
  beforeAll(async () => {
    engine = await loadEngine('st');
    for (const q of QUANTS) await ensureModel('tiny', { seed: 1, quant: q });
  });
  afterAll(() => {
    if (!table.length) return;
    const lines: string[] = ['quant | clip  | numerics | path  | encoder relMax / relRms | logits relMax / relRms | greedy tokens'];
    for (const r of table) {
      lines.push(`${r.quant.padEnd(5)} | ${r.clip.padEnd(5)} | ${r.mode.padEnd(8)} | ${r.path.padEnd(5)} | ${fmt(r.encMax)} / ${fmt(r.encRms)}     | ${fmt(r.logMax)} / ${fmt(r.logRms)}     | ${r.tokens}`);
    }
    console.log(`engine-matrix (relMax = max|a-b|/max|b|, relRms = rms(a-b)/rms(b)):\n${lines.join('\n')}`);
  });

  for (const quant of QUANTS) {
    describe(`tiny ${quant}`, () => {
      let ref: ReferenceModel;
      let model: EngineModel;
      let embedType: number;
      beforeAll(async () => {
        const bytes = readFileSync(await ensureModel('tiny', { seed: 1, quant }));
        ref = loadModel(bytes);
        model = engine.loadModel(bytes, 1);
        embedType = ref.file.tensors.get('model.embed_tokens.weight')!.type;
      });
      afterAll(() => {
        model?.free();
        ref = undefined as unknown as ReferenceModel; // let the dequantised weights go
      });

      it('is the requested weight type', () => {
        expect(model.info.quant).toBe(quant);
        expect(embedType).toBe(quant === 'f32' ? GGML_TYPE.F32 : quant === 'q8_0' ? GGML_TYPE.Q8_0 : GGML_TYPE.Q4_0);
      });

      for (const clip of CLIPS) {
        for (const mode of MODES) {
          it(`${clip.name}, ${mode.name} numerics: encoder, logits at every position, greedy tokens`, () => {
            const pcm = speech(clip.sec, clip.offset);
            const quantised = quant !== 'f32';
            const official = mode.name === 'official';
            // chatllm: audio features go through the embedding's type (a no-op for f32 weights).
            const roundTripType = official ? GGML_TYPE.F32 : embedType;
            const run = referenceRun(ref, pcm, mode, roundTripType);
            const L = run.ids.length;
            const H = ref.text.hidden;
            const label = `${quant} ${clip.name} ${mode.name}`;

            // Encoder, both paths.
            const encExact = model.encode(pcm, mode.flags | EXACT);
            const encFast = model.encode(pcm, mode.flags);
            expect(encExact.tokens).toBe(run.enc.tokens);
            expect(encFast.tokens).toBe(run.enc.tokens);
            const eExact = stats(encExact.data, run.enc.data);
            const eFast = stats(encFast.data, run.enc.data);
            if (!quantised) expect(encFast.data).toEqual(encExact.data);

            // Logits at every prompt position: the engine's decoder on the engine's own encoder
            // output (end to end). The debug entry point takes the features as given, so in
            // chatllm mode the round trip through the embedding type is applied here (on the
            // reference side too); the engine's own round trip is covered by the greedy tokens.
            const feed = (enc: Float32Array) => {
              if (roundTripType === GGML_TYPE.F32) return enc;
              const out = new Float32Array(enc.length);
              for (let t = 0; t < enc.length / H; t++) out.set(roundTrip(roundTripType, enc.subarray(t * H, (t + 1) * H)), t * H);
              return out;
            };
            const variants = [
              (pos: number[]) => model.logits(run.ids, feed(encExact.data), pos, mode.flags | EXACT),
              (pos: number[]) => model.logits(run.ids, feed(encFast.data), pos, mode.flags),
            ];
            // chatllm: also the decoder alone, on the reference's features as the reference's
            // decoder saw them (isolates the decoder from the round trip's amplification).
            if (!official) variants.push((pos: number[]) => model.logits(run.ids, Float32Array.from(run.audio.data), pos, mode.flags | EXACT));
            const [lExact, lFast, lDecoder] = compareAllPositions(ref, run, variants);

            // The head product helper is the reference's arithmetic, bit for bit.
            const last = run.session.logits(run.hidden.subarray((L - 1) * H, L * H), [0]);
            const mine = headProduct(run.hidden.subarray((L - 1) * H, L * H), 1, ref.weight(ref.text.headTensor), ref.text.headRows, H);
            expect(mine.every((x, i) => x === last[i])).toBe(true);

            // Greedy tokens, the reference following the engine (exact path, then fast path).
            const gen = (flags: number) => model.transcribe(pcm, { maxNewTokens: NEW_TOKENS, numerics: flags, repetitionGuard: false });
            const gExact = gen(mode.flags | EXACT);
            expect(gExact.prompt_tokens).toBe(L);
            expect(gExact.audio_tokens).toBe(run.enc.tokens);
            const gFast = gen(mode.flags);
            const tExact = followTokens(ref, run, last, gExact.tokens, NEW_TOKENS);
            // On f32 weights the fast path is the f32 path: the same tokens, nothing more to check.
            const tFast = quantised ? followTokens(ref, freshRun(ref, run, mode), last, gFast.tokens, NEW_TOKENS) : tExact;
            if (!quantised) expect(gFast.tokens).toEqual(gExact.tokens);

            const bound = BOUNDS[mode.name][quant];
            // Official numerics on the exact path: ties only. Elsewhere a token may differ only
            // where the reference's margin is below twice the largest logit error of this cell.
            const strictExact = official;
            const strictFast = official && !quantised;
            const tokExact = checkTokens(tExact, strictExact ? TIE_MARGIN : 2 * lExact.maxAbs, strictExact ? 1 : 3, `${label} tokens exact`);
            const tokFast = checkTokens(tFast, strictFast ? TIE_MARGIN : 2 * lFast.maxAbs, strictFast ? 1 : 3, `${label} tokens fast`);
            table.push({ quant, clip: clip.name, mode: mode.name, path: 'exact', encMax: eExact.relMax, encRms: eExact.relRms, logMax: lExact.relMax, logRms: lExact.relRms, tokens: tokExact });
            table.push({ quant, clip: clip.name, mode: mode.name, path: 'fast', encMax: eFast.relMax, encRms: eFast.relRms, logMax: lFast.relMax, logRms: lFast.relRms, tokens: tokFast });
            if (lDecoder) table.push({ quant, clip: clip.name, mode: mode.name, path: 'dec', encMax: NaN, encRms: NaN, logMax: lDecoder.relMax, logRms: lDecoder.relRms, tokens: '' });

            expect.soft(eExact.relMax, `${label} encoder exact`).toBeLessThan(official ? TOL_EXACT : TOL_CHATLLM);
            expect.soft(lExact.relMax, `${label} logits exact`).toBeLessThan(bound.exact);
            if (lDecoder) expect.soft(lDecoder.relMax, `${label} decoder alone`).toBeLessThan(TOL_EXACT);
            if (quantised) {
              expect.soft(eFast.relMax, `${label} encoder fast`).toBeLessThan(TOL_FAST_MAX);
              expect.soft(eFast.relRms, `${label} encoder fast`).toBeLessThan(TOL_FAST_RMS);
              expect.soft(lFast.relMax, `${label} logits fast`).toBeLessThan(bound.fastMax);
              expect.soft(lFast.relRms, `${label} logits fast`).toBeLessThan(bound.fastRms);
            } else {
              expect(lFast.maxAbs, `${label} f32 weights: fast path = exact path`).toBe(lExact.maxAbs);
            }
          });
        }
      }

      if (quant === 'f32') {
        it('the exact tolerance catches real numerics bugs (tanh GELU, RMSNorm eps 1e-5)', () => {
          const pcm = speech(8.5, 0.7);
          const run = referenceRun(ref, pcm, MODES[0]);
          const gelu = model.encode(pcm, EXACT | NUMERICS.chatllmGeluTanhF16);
          const eGelu = stats(gelu.data, run.enc.data);
          const engineEnc = model.encode(pcm, EXACT).data;
          const [lGelu, lEps] = compareAllPositions(ref, run, [
            (pos) => model.logits(run.ids, gelu.data, pos, EXACT | NUMERICS.chatllmGeluTanhF16),
            (pos) => model.logits(run.ids, engineEnc, pos, EXACT | NUMERICS.chatllmRmsEps1e5),
          ]);
          console.log(`bug detection (8.5 s, f32, exact path): tanh-GELU encoder relMax ${fmt(eGelu.relMax)}, logits relMax ${fmt(lGelu.relMax)}; eps 1e-5 logits relMax ${fmt(lEps.relMax)} (tolerance ${TOL_EXACT})`);
          // Each must fail the exact tolerance by a clear factor.
          expect(eGelu.relMax).toBeGreaterThan(3 * TOL_EXACT);
          expect(lGelu.relMax).toBeGreaterThan(3 * TOL_EXACT);
          expect(lEps.relMax).toBeGreaterThan(3 * TOL_EXACT);
          // And the looser 1e-3 of the issue would have let the GELU slip through: hence 1e-4.
          expect(lGelu.relMax).toBeLessThan(1e-3);
        });
      }
    });
  }
});
