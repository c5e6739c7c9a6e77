/**
 * Sanity of the random weights: a small, self-contained Qwen3 text-decoder forward pass over the
 * tiny model (dequantised weights) must give finite hidden states and spread logits whose
 * arg-max depends on the input, so greedy decoding in tests is meaningful.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateModel } from './index';
import { readGgmm, tensorToF32, type GgmmFile } from './reader';

let dir: string;
let file: GgmmFile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'model-gen-num-'));
  const res = await generateModel({ preset: 'tiny', seed: 1, out: join(dir, 'tiny.bin') });
  file = readGgmm(res.path);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function matvec(w: Float32Array, rows: number, cols: number, x: Float64Array): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const o = r * cols;
    for (let c = 0; c < cols; c++) s += w[o + c] * x[c];
    y[r] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps = 1e-6): Float64Array {
  let s = 0;
  for (const v of x) s += v * v;
  const k = 1 / Math.sqrt(s / x.length + eps);
  return x.map((v, i) => v * k * w[i]);
}

const rms = (x: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / x.length);
};

/** Logits at the last position and the RMS of the residual stream after each layer. */
function textForward(f: GgmmFile, ids: number[]): { logits: Float64Array; layerRms: number[] } {
  const c = f.config;
  const H = c.hiddenSize;
  const hd = c.headDim;
  const nq = c.numHeads;
  const nkv = c.numKvHeads;
  const I = c.intermediateSize;
  const W = (n: string) => tensorToF32(f, n);
  const emb = W('model.embed_tokens.weight');
  let hs = ids.map((id) => Float64Array.from(emb.subarray(id * H, (id + 1) * H)));
  const layerRms: number[] = [];
  const rope = (v: Float64Array, off: number, pos: number) => {
    const half = hd / 2;
    for (let i = 0; i < half; i++) {
      const ang = pos * c.ropeTheta ** (-(2 * i) / hd);
      const a = v[off + i];
      const b = v[off + i + half];
      v[off + i] = a * Math.cos(ang) - b * Math.sin(ang);
      v[off + i + half] = a * Math.sin(ang) + b * Math.cos(ang);
    }
  };
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const [wq, wk, wv, wo, qn, kn, n1, n2, wg, wu, wd] = [
      'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'self_attn.q_norm',
      'self_attn.k_norm', 'input_layernorm', 'post_attention_layernorm', 'mlp.gate_proj', 'mlp.up_proj',
      'mlp.down_proj',
    ].map((n) => W(`${p}${n}.weight`));
    const qs: Float64Array[] = [];
    const ks: Float64Array[] = [];
    const vs: Float64Array[] = [];
    hs.forEach((h, pos) => {
      const x = rmsNorm(h, n1);
      const q = matvec(wq, nq * hd, H, x);
      const k = matvec(wk, nkv * hd, H, x);
      for (let h2 = 0; h2 < nq; h2++) {
        q.set(rmsNorm(q.subarray(h2 * hd, (h2 + 1) * hd), qn), h2 * hd);
        rope(q, h2 * hd, pos);
      }
      for (let h2 = 0; h2 < nkv; h2++) {
        k.set(rmsNorm(k.subarray(h2 * hd, (h2 + 1) * hd), kn), h2 * hd);
        rope(k, h2 * hd, pos);
      }
      qs.push(q);
      ks.push(k);
      vs.push(matvec(wv, nkv * hd, H, x));
    });
    hs = hs.map((h, pos) => {
      const att = new Float64Array(nq * hd);
      for (let h2 = 0; h2 < nq; h2++) {
        const kv = Math.floor(h2 / (nq / nkv));
        const sc = [];
        for (let t = 0; t <= pos; t++) {
          let s = 0;
          for (let i = 0; i < hd; i++) s += qs[pos][h2 * hd + i] * ks[t][kv * hd + i];
          sc.push(s / Math.sqrt(hd));
        }
        const m = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let t = 0; t <= pos; t++) for (let i = 0; i < hd; i++) att[h2 * hd + i] += (e[t] / z) * vs[t][kv * hd + i];
      }
      const o = matvec(wo, H, nq * hd, att);
      const h1 = h.map((v, i) => v + o[i]);
      const x = rmsNorm(h1, n2);
      const g = matvec(wg, I, H, x);
      const u = matvec(wu, I, H, x);
      const a = g.map((v, i) => (v / (1 + Math.exp(-v))) * u[i]);
      const d = matvec(wd, H, I, a);
      return h1.map((v, i) => v + d[i]);
    });
    layerRms.push(rms(hs[hs.length - 1]));
  }
  const last = rmsNorm(hs[hs.length - 1], W('model.norm.weight'));
  const head = W('lm_head.weight');
  const rows = head.length / H;
  return { logits: matvec(head, rows, H, last), layerRms };
}

describe('random-weight numerics (tiny)', () => {
  it('hidden states stay finite and moderate; logits are spread; greedy choice depends on the input', () => {
    const prompts = [
      [151644, 8948, 198, 151645, 198, 151644, 872, 198],
      [151644, 77091, 198, 11528, 6364, 151704],
      [9707, 11, 1879, 0],
    ];
    const argmaxes = new Set<number>();
    for (const ids of prompts) {
      const { logits, layerRms } = textForward(file, ids);
      for (const r of layerRms) {
        expect(Number.isFinite(r)).toBe(true);
        expect(r).toBeGreaterThan(0.05);
        expect(r).toBeLessThan(10);
      }
      const mean = logits.reduce((a, b) => a + b, 0) / logits.length;
      const std = Math.sqrt(logits.reduce((a, b) => a + (b - mean) ** 2, 0) / logits.length);
      expect(std).toBeGreaterThan(1);
      expect(std).toBeLessThan(4);
      const sorted = Float64Array.from(logits).sort();
      expect(sorted[sorted.length - 1] - sorted[sorted.length - 2]).toBeGreaterThan(1e-3);
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
      argmaxes.add(best);
    }
    expect(argmaxes.size).toBeGreaterThan(1);
  });
});
