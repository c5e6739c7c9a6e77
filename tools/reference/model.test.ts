import { describe, expect, it } from 'vitest';
import { dequantize, GGML_TYPE, parseGgmm } from './ggmm';
import { writeGgmm, type WriterTensor } from './ggmm-writer';
import { logMel } from './mel';
import { DecoderSession, decoderForward, embedInputs, encodeAudio, encodeMel, loadModel } from './model';
import { buildTinyModel } from './tiny-model';

const SMALL_VOCAB = 640;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function sine(N: number, f = 440, amp = 0.3): Float32Array {
  const x = new Float32Array(N);
  for (let i = 0; i < N; i++) x[i] = amp * Math.sin((2 * Math.PI * f * i) / 16000) + 0.05 * Math.sin(i * 0.37);
  return x;
}

/** A mel-like matrix [128][T] with smooth random content. */
function fakeMel(T: number, seed = 1): { T: number; data: Float64Array } {
  const data = new Float64Array(128 * T);
  for (let m = 0; m < 128; m++) for (let t = 0; t < T; t++) data[m * T + t] = Math.sin(m * 0.31 + t * 0.17 * seed) * 0.8 - 0.2;
  return { T, data };
}

describe('loadModel', () => {
  it('derives every dimension from the file', () => {
    const m = loadModel(
      buildTinyModel({
        audio: { d: 48, layers: 3, heads: 6, ffn: 80, conv: 4, nWindowInfer: 400 },
        text: { hidden: 40, layers: 3, heads: 6, kvHeads: 3, headDim: 12, intermediate: 72, vocab: SMALL_VOCAB, ropeTheta: 5e5, rmsEps: 1e-5 },
      }),
    );
    expect(m.isAligner).toBe(false);
    expect(m.audio).toMatchObject({ dModel: 48, layers: 3, heads: 6, headDim: 8, ffn: 80, convChannels: 4, outputDim: 40 });
    expect(m.audio).toMatchObject({ nWindow: 50, nWindowInfer: 400, chunkFrames: 100, tokensPerChunk: 13, windowTokens: 52, convFreq: 16 });
    expect(m.text).toMatchObject({ hidden: 40, layers: 3, heads: 6, kvHeads: 3, headDim: 12, intermediate: 72, vocab: SMALL_VOCAB });
    expect(m.text).toMatchObject({ ropeTheta: 5e5, rmsEps: 1e-5, headTensor: 'lm_head.weight', headRows: SMALL_VOCAB });
    expect(m.special).toMatchObject({ audioPad: 151676, audioStart: 151669, audioEnd: 151670, imEnd: 151645, asrText: 151704, timestamp: 151705 });
    expect(m.warnings).toEqual([]);
  });

  it('refuses a file without the encoder head count; falls back to documented defaults elsewhere, and says so', () => {
    expect(() => loadModel(buildTinyModel({ omitMeta: true, text: { vocab: SMALL_VOCAB } }))).toThrow(/attention heads/);
    const m = loadModel(
      buildTinyModel({
        text: { vocab: SMALL_VOCAB },
        metaPatch: (meta) => {
          const a = meta['config.json'].thinker_config.audio_config;
          delete a.n_window;
          delete a.n_window_infer;
          delete meta['config.json'].thinker_config.text_config.rms_norm_eps;
          delete meta['tokenizer_config.json'];
        },
      }),
    );
    expect(m.audio).toMatchObject({ nWindow: 50, nWindowInfer: 800, windowTokens: 104 });
    expect(m.text.rmsEps).toBe(1e-6);
    expect(m.special.audioPad).toBe(151676);
    expect(m.warnings.length).toBe(4);
  });

  it('rejects config.json values that contradict the tensor shapes', () => {
    expect(() =>
      loadModel(
        buildTinyModel({
          text: { vocab: SMALL_VOCAB },
          metaPatch: (meta) => {
            meta['config.json'].thinker_config.audio_config.encoder_ffn_dim = 65;
          },
        }),
      ),
    ).toThrow(/encoder_ffn_dim/);
  });

  it('takes special ids from tokenizer_config.json added_tokens_decoder', () => {
    const m = loadModel(
      buildTinyModel({
        text: { vocab: SMALL_VOCAB },
        metaPatch: (meta) => {
          const dec = meta['tokenizer_config.json'].added_tokens_decoder;
          delete dec['151676'];
          dec['151677'] = { content: '<|audio_pad|>', special: true };
        },
      }),
    );
    expect(m.special.audioPad).toBe(151677);
  });

  it('uses the embeddings as the head when lm_head.weight is absent', () => {
    const m = loadModel(buildTinyModel({ tied: true, text: { vocab: SMALL_VOCAB } }));
    expect(m.text.headTensor).toBe('model.embed_tokens.weight');
    const ids = [1, 5, 9];
    const r = decoderForward(m, ids, null, undefined, { returnHidden: true });
    const emb = m.weight('model.embed_tokens.weight');
    const H = m.text.hidden;
    for (const v of [0, 7, SMALL_VOCAB - 1]) {
      let s = 0;
      for (let k = 0; k < H; k++) s += emb[v * H + k] * r.hidden![k];
      expect(r.logits[v]).toBeCloseTo(s, 12);
    }
  });
});

describe('audio encoder', () => {
  const model = loadModel(buildTinyModel({ text: { vocab: SMALL_VOCAB }, audio: { nWindowInfer: 200 } })); // windows of 26 tokens

  it('token counts (short clips padded to 0.5 s)', () => {
    expect(encodeAudio(model, sine(4800)).tokens).toBe(7);
    expect(encodeAudio(model, sine(4800), { padShort: false }).tokens).toBe(4);
    expect(encodeAudio(model, sine(16000)).tokens).toBe(13);
    const e = encodeAudio(model, sine(40000));
    expect(e.tokens).toBe(33);
    expect(e.dim).toBe(model.text.hidden);
    expect(e.data.length).toBe(33 * model.text.hidden);
  });

  it('zero-pads every chunk (also a lone short one) to 100 frames before the convolutions', () => {
    const short = fakeMel(30);
    const padded = { T: 100, data: new Float64Array(128 * 100) };
    for (let m = 0; m < 128; m++) for (let t = 0; t < 30; t++) padded.data[m * 100 + t] = short.data[m * 30 + t];
    const grab = (mel: { T: number; data: Float64Array }) => {
      let e: Float64Array | null = null;
      encodeMel(model, mel, { trace: (n, d) => n === 'embed' && (e = d.slice()) });
      return e! as Float64Array;
    };
    const a = grab(short);
    const b = grab(padded);
    const D = model.audio.dModel;
    expect(a.length).toBe(4 * D);
    expect(maxAbsDiff(a, b.subarray(0, 4 * D))).toBe(0);
  });

  it('restarts the sinusoidal positions in every chunk', () => {
    const one = fakeMel(100);
    const two = { T: 200, data: new Float64Array(128 * 200) };
    for (let m = 0; m < 128; m++) for (let t = 0; t < 200; t++) two.data[m * 200 + t] = one.data[m * 100 + (t % 100)];
    let e: Float64Array | null = null;
    encodeMel(model, two, { trace: (n, d) => n === 'embed' && (e = d.slice()) });
    const D = model.audio.dModel;
    const emb = e! as Float64Array;
    expect(maxAbsDiff(emb.subarray(0, 13 * D), emb.subarray(13 * D, 26 * D))).toBe(0);
  });

  it('attention is block-diagonal over windows of 13 * n_window_infer/100 tokens', () => {
    const mel = fakeMel(300); // 39 tokens = windows of 26 + 13
    const first = { T: 200, data: new Float64Array(128 * 200) };
    for (let m = 0; m < 128; m++) for (let t = 0; t < 200; t++) first.data[m * 200 + t] = mel.data[m * 300 + t];
    const D = model.text.hidden;
    const full = encodeMel(model, mel);
    const head = encodeMel(model, first);
    expect(full.tokens).toBe(39);
    expect(head.tokens).toBe(26);
    // the first window does not see the third second
    expect(maxAbsDiff(full.data.subarray(0, 26 * D), head.data)).toBeLessThan(1e-13);
    // with full attention it does
    const fullAtt = encodeMel(model, mel, { fullAttention: true });
    expect(maxAbsDiff(fullAtt.data.subarray(0, 26 * D), head.data)).toBeGreaterThan(1e-6);
    // inside one window both modes agree
    expect(maxAbsDiff(encodeMel(model, first, { fullAttention: true }).data, head.data)).toBeLessThan(1e-13);
  });

  it('the tanh GELU option changes the output slightly', () => {
    const mel = fakeMel(100);
    const d = maxAbsDiff(encodeMel(model, mel).data, encodeMel(model, mel, { gelu: 'tanh' }).data);
    expect(d).toBeGreaterThan(1e-7);
    expect(d).toBeLessThan(0.1);
  });

  it('encodeAudio = logMel + encodeMel', () => {
    const x = sine(20000);
    const a = encodeAudio(model, x);
    const b = encodeMel(model, logMel(x));
    expect(maxAbsDiff(a.data, b.data)).toBe(0);
  });
});

describe('text decoder', () => {
  const model = loadModel(buildTinyModel({ text: { vocab: SMALL_VOCAB }, seed: 77 }));
  const ids = [3, 17, 250, 9, 400, 12, 12, 600, 1];

  it('KV-cached incremental decoding equals the whole-sequence forward', () => {
    const all = decoderForward(model, ids, null, undefined, { positions: ids.map((_, i) => i) });
    const s = new DecoderSession(model);
    const emb = embedInputs(model, ids, null);
    const H = model.text.hidden;
    const V = model.text.headRows;
    // feed 3 tokens, then 1, then the rest
    const chunks = [[0, 3], [3, 4], [4, ids.length]];
    for (const [a, b] of chunks) {
      const h = s.append(emb.slice(a * H, b * H), b - a);
      const lg = s.logits(
        h,
        Array.from({ length: b - a }, (_, i) => i),
      );
      expect(maxAbsDiff(lg, all.logits.subarray(a * V, b * V))).toBeLessThan(1e-12);
    }
  });

  it('is causal: logits at p do not depend on later tokens', () => {
    const a = decoderForward(model, ids, null, undefined, { positions: [4] });
    const changed = ids.slice();
    changed[5] = 100;
    changed[8] = 200;
    const b = decoderForward(model, changed, null, undefined, { positions: [4] });
    const c = decoderForward(model, ids.slice(0, 5), null);
    expect(maxAbsDiff(a.logits, b.logits)).toBe(0);
    expect(maxAbsDiff(a.logits, c.logits)).toBeLessThan(1e-12);
    const d = decoderForward(model, changed, null, undefined, { positions: [5] });
    const e = decoderForward(model, ids, null, undefined, { positions: [5] });
    expect(maxAbsDiff(d.logits, e.logits)).toBeGreaterThan(1e-6);
  });

  it('with all layer matrices zero, logits = head · (RMSNorm(embedding) * norm weight)', () => {
    const zero = loadModel(
      buildTinyModel({
        text: { vocab: SMALL_VOCAB },
        edit: (name, _dims, data) => {
          if (/^model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/.test(name)) data.fill(0);
        },
      }),
    );
    const H = zero.text.hidden;
    const r = decoderForward(zero, [5, 42], null);
    const e = zero.row('model.embed_tokens.weight', 42);
    const w = zero.weight('model.norm.weight');
    const head = zero.weight('lm_head.weight');
    let ss = 0;
    for (let k = 0; k < H; k++) ss += e[k] * e[k];
    const inv = 1 / Math.sqrt(ss / H + 1e-6);
    for (const v of [0, 1, 99, SMALL_VOCAB - 1]) {
      let s = 0;
      for (let k = 0; k < H; k++) s += head[v * H + k] * e[k] * inv * w[k];
      expect(r.logits[v]).toBeCloseTo(s, 12);
    }
  });

  it('GQA: query head h uses kv head floor(h / (heads/kvHeads))', () => {
    // Rebuild the same model with kvHeads = heads, duplicating kv head j into heads 2j and 2j+1.
    const f = parseGgmm(buildTinyModel({ text: { vocab: SMALL_VOCAB, heads: 4, kvHeads: 2, headDim: 8 }, seed: 5 }));
    const hd = 8;
    const tensors: WriterTensor[] = [];
    for (const t of f.tensors.values()) {
      let data = dequantize(f, t);
      let dims = t.dims;
      if (/self_attn\.[kv]_proj\.weight$/.test(t.name)) {
        const H = dims[1];
        const dup = new Float64Array(4 * hd * H);
        for (let h = 0; h < 4; h++) dup.set(data.subarray(Math.floor(h / 2) * hd * H, (Math.floor(h / 2) + 1) * hd * H), h * hd * H);
        data = dup;
        dims = [4 * hd, H];
      }
      tensors.push({ name: t.name, dims, type: GGML_TYPE.F32, data });
    }
    const dupModel = loadModel(writeGgmm({ meta: f.meta, modelType: f.modelType, config: { ...f.config, numKeyValueHeads: 4 }, tensors }));
    const orig = loadModel(f.bytes);
    expect(dupModel.text.kvHeads).toBe(4);
    const a = decoderForward(orig, ids, null, undefined, { positions: [2, 8] });
    const b = decoderForward(dupModel, ids, null, undefined, { positions: [2, 8] });
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5); // f16 embeddings re-stored as f32: exact values
  });

  it('writes audio rows over the placeholders in order and checks their count', () => {
    const H = model.text.hidden;
    const audio = { tokens: 2, dim: H, data: Float64Array.from({ length: 2 * H }, (_, i) => i) };
    const x = embedInputs(model, [7, 151676, 8, 151676], audio);
    expect(Array.from(x.subarray(H, 2 * H))).toEqual(Array.from(audio.data.subarray(0, H)));
    expect(Array.from(x.subarray(3 * H, 4 * H))).toEqual(Array.from(audio.data.subarray(H)));
    expect(Array.from(x.subarray(0, H))).toEqual(Array.from(model.row('model.embed_tokens.weight', 7)));
    expect(() => embedInputs(model, [7, 151676], audio)).toThrow(/placeholders/);
    expect(() => embedInputs(model, [SMALL_VOCAB], null)).toThrow(/embedding/);
  });

  it('the audio rows actually reach the logits', () => {
    const H = model.text.hidden;
    const mk = (s: number) => ({ tokens: 1, dim: H, data: Float64Array.from({ length: H }, (_, i) => Math.sin(i * s)) });
    const a = decoderForward(model, [1, 151676, 2], mk(1));
    const b = decoderForward(model, [1, 151676, 2], mk(2));
    expect(maxAbsDiff(a.logits, b.logits)).toBeGreaterThan(1e-6);
  });

  it('rmsEps option overrides the file value', () => {
    const a = decoderForward(model, ids, null);
    const b = decoderForward(model, ids, null, undefined, { rmsEps: 1e-5 });
    const d = maxAbsDiff(a.logits, b.logits);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(1e-2);
  });
});
