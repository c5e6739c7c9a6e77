/**
 * Reference forward pass of Qwen3-ASR / Qwen3-ForcedAligner in float64, from
 * shared/research/qwen3-asr-official.md §3–§4 with the Transformers-port rules of its addenda, reading
 * weights with the chatllm.cpp tensor names of shared/research/chatllm-qwen3-asr.md §1.7.
 *
 * Usage:
 *   const model = loadModel(fs.readFileSync(path));
 *   const enc = encodeAudio(model, pcm);
 *   const ids = buildAsrPrompt(createTokenizer(...), enc.tokens, {});
 *   const { logits } = decoderForward(model, ids, enc);
 */
import {
  dequantize,
  dequantizeRow,
  MODEL_TYPE_QWEN3_ASR,
  MODEL_TYPE_QWEN3_FORCED_ALIGNER,
  parseGgmm,
  type GgmmFile,
  type GgmmTensor,
} from './ggmm';
import { logMel, type LogMel } from './mel';
import { dot, gelu, geluTanh, layerNorm, linear, rmsNorm, ropeInPlace, silu, sinusoidTable, softmaxInPlace } from './numerics';
import { addedTokensFromMeta, createTokenizer, specialIdsFrom, defaultAddedTokens, type AddedToken, type SpecialIds } from './tokenizer';

export interface AudioConfig {
  dModel: number;
  layers: number;
  heads: number;
  headDim: number;
  ffn: number;
  /** downsample_hidden_size: channels of the three convolutions. */
  convChannels: number;
  nMel: number;
  nWindow: number;
  nWindowInfer: number;
  outputDim: number;
  /** LayerNorm eps of the encoder (1e-5). */
  lnEps: number;
  /** Mel frames per conv/position chunk = 2 * nWindow (100). */
  chunkFrames: number;
  /** Tokens out of a full chunk (13). */
  tokensPerChunk: number;
  /** Attention window in tokens = tokensPerChunk * floor(nWindowInfer / chunkFrames) (104). */
  windowTokens: number;
  /** Frequency rows after the three convolutions (16). */
  convFreq: number;
}

export interface TextConfig {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  /** vocab_size of the config struct. */
  vocab: number;
  /** Rows of model.embed_tokens.weight. */
  embedRows: number;
  /** Rows of the output head (vocab for ASR, classify_num for the aligner). */
  headRows: number;
  headTensor: string;
  ropeTheta: number;
  rmsEps: number;
}

export interface ReferenceModel {
  file: GgmmFile;
  meta: Record<string, any>;
  modelType: number;
  isAligner: boolean;
  audio: AudioConfig;
  text: TextConfig;
  classifyNum?: number;
  timestampSegmentMs?: number;
  special: SpecialIds;
  addedTokens: AddedToken[];
  supportLanguages: string[] | null;
  /** Defaults that had to be assumed because the file did not say. */
  warnings: string[];
  has(name: string): boolean;
  shape(name: string): number[];
  /** Whole tensor, dequantised to float64 and cached. */
  weight(name: string): Float64Array;
  /** One row of a 2-D tensor, dequantised (not cached). */
  row(name: string, r: number): Float64Array;
}

export interface AudioEmbedding {
  tokens: number;
  dim: number;
  /** [tokens][dim] */
  data: Float64Array;
}

export type TraceFn = (name: string, data: Float64Array, shape: number[]) => void;

/** ⌊(x − 1)/2⌋ + 1: output length of a 3-wide, stride-2, pad-1 convolution. */
export function convOutLen(x: number): number {
  return Math.floor((x - 1) / 2) + 1;
}

/** Output length of the three stride-2 convolutions. */
export function convOutLen3(x: number): number {
  return convOutLen(convOutLen(convOutLen(x)));
}

/** Audio tokens for T mel frames (chunked per chunkFrames, 100 by default). */
export function audioTokenCount(T: number, chunkFrames = 100): number {
  const full = Math.floor(T / chunkFrames);
  return full * convOutLen3(chunkFrames) + convOutLen3(T % chunkFrames);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Parse a GGMM file and derive every dimension from it. */
export function loadModel(bytes: Uint8Array | ArrayBuffer): ReferenceModel {
  const file = parseGgmm(bytes);
  const meta = file.meta ?? {};
  const warnings: string[] = [];
  const cfgJson = meta['config.json'] ?? {};
  const thinker = cfgJson.thinker_config ?? {};
  const audioJson = thinker.audio_config ?? {};
  const textJson = thinker.text_config ?? {};

  const isAligner = file.modelType === MODEL_TYPE_QWEN3_FORCED_ALIGNER;
  if (!isAligner && file.modelType !== MODEL_TYPE_QWEN3_ASR) throw new Error('unknown model type');

  const tensors = file.tensors;
  const need = (name: string): GgmmTensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`model: missing tensor ${name}`);
    return t;
  };
  const cache = new Map<string, Float64Array>();
  const weight = (name: string): Float64Array => {
    let w = cache.get(name);
    if (!w) {
      w = dequantize(file, need(name));
      cache.set(name, w);
    }
    return w;
  };
  const row = (name: string, r: number): Float64Array => {
    const cached = cache.get(name);
    const t = need(name);
    const len = t.dims[t.dims.length - 1];
    if (cached) {
      if (r < 0 || r >= t.nelements / len) throw new Error(`row ${r} out of range for ${name}`);
      return cached.slice(r * len, (r + 1) * len);
    }
    return dequantizeRow(file, t, r);
  };
  const pick = (jsonVal: unknown, fromShape: number | undefined, what: string, dflt?: number): number => {
    const j = num(jsonVal);
    if (j !== undefined && fromShape !== undefined && j !== fromShape) {
      throw new Error(`model: ${what} is ${j} in config.json but ${fromShape} from tensor shapes`);
    }
    const v = j ?? fromShape ?? dflt;
    if (v === undefined) throw new Error(`model: cannot determine ${what}`);
    if (j === undefined && fromShape === undefined) warnings.push(`${what} not in file; assumed ${v}`);
    return v;
  };

  // ---- audio encoder ----
  const conv1 = need('audio.conv2d1.weight');
  const convOut = need('audio.conv_out.weight');
  let encLayers = 0;
  while (tensors.has(`audio.layers.${encLayers}.self_attn.q_proj.weight`)) encLayers++;
  const dModel = pick(audioJson.d_model, convOut.dims[0], 'audio d_model');
  const convChannels = pick(audioJson.downsample_hidden_size, conv1.dims[0], 'audio downsample_hidden_size');
  const nMel = pick(audioJson.num_mel_bins, undefined, 'audio num_mel_bins', 128);
  if (nMel !== 128) throw new Error(`model: num_mel_bins ${nMel} unsupported (the front end makes 128)`);
  const convFreq = convOutLen3(nMel);
  if (convOut.dims[1] !== convChannels * convFreq) {
    throw new Error(`model: conv_out input ${convOut.dims[1]} != channels ${convChannels} x ${convFreq}`);
  }
  const encHeads = pick(audioJson.encoder_attention_heads ?? audioJson.num_attention_heads, undefined, 'audio attention heads');
  if (dModel % encHeads !== 0) throw new Error('model: audio d_model not divisible by heads');
  const nWindow = pick(audioJson.n_window, undefined, 'audio n_window', 50);
  const nWindowInfer = pick(audioJson.n_window_infer, undefined, 'audio n_window_infer', 800);
  const chunkFrames = 2 * nWindow;
  const tokensPerChunk = convOutLen3(chunkFrames);
  const audio: AudioConfig = {
    dModel,
    layers: pick(audioJson.encoder_layers, encLayers, 'audio encoder_layers'),
    heads: encHeads,
    headDim: dModel / encHeads,
    ffn: pick(audioJson.encoder_ffn_dim, need('audio.layers.0.mlp.fc0.weight').dims[0], 'audio encoder_ffn_dim'),
    convChannels,
    nMel,
    nWindow,
    nWindowInfer,
    outputDim: pick(audioJson.output_dim, need('multi_modal_projector.proj2.weight').dims[0], 'audio output_dim'),
    lnEps: 1e-5,
    chunkFrames,
    tokensPerChunk,
    windowTokens: tokensPerChunk * Math.floor(nWindowInfer / chunkFrames),
    convFreq,
  };
  if (audio.windowTokens <= 0) throw new Error('model: n_window_infer smaller than one chunk');

  // ---- text decoder (config struct first, cross-checked with shapes) ----
  const c = file.config;
  const embed = need('model.embed_tokens.weight');
  let decLayers = 0;
  while (tensors.has(`model.layers.${decLayers}.self_attn.q_proj.weight`)) decLayers++;
  if (decLayers !== c.numHiddenLayers) throw new Error(`model: ${decLayers} decoder layers in file, config says ${c.numHiddenLayers}`);
  if (embed.dims[1] !== c.hiddenSize) throw new Error('model: embed width != hidden_size');
  const q0 = need('model.layers.0.self_attn.q_proj.weight');
  const k0 = need('model.layers.0.self_attn.k_proj.weight');
  if (q0.dims[0] !== c.numAttentionHeads * c.headDim) throw new Error('model: q_proj rows != heads x head_dim');
  if (k0.dims[0] !== c.numKeyValueHeads * c.headDim) throw new Error('model: k_proj rows != kv_heads x head_dim');
  if (c.numAttentionHeads % c.numKeyValueHeads !== 0) throw new Error('model: heads not a multiple of kv heads');
  if (need('model.layers.0.mlp.gate_proj.weight').dims[0] !== c.intermediateSize) throw new Error('model: gate rows != intermediate');
  if (audio.outputDim !== c.hiddenSize) throw new Error('model: projector output != LLM hidden');
  const headTensor = tensors.has('lm_head.weight') ? 'lm_head.weight' : 'model.embed_tokens.weight';
  const headRows = need(headTensor).dims[0];
  let rmsEps = num(textJson.rms_norm_eps);
  if (rmsEps === undefined) {
    rmsEps = 1e-6;
    warnings.push('text rms_norm_eps not in file; assumed 1e-6');
  }
  const text: TextConfig = {
    hidden: c.hiddenSize,
    layers: c.numHiddenLayers,
    heads: c.numAttentionHeads,
    kvHeads: c.numKeyValueHeads,
    headDim: c.headDim,
    intermediate: c.intermediateSize,
    vocab: c.vocabSize,
    embedRows: embed.dims[0],
    headRows,
    headTensor,
    ropeTheta: c.ropeTheta,
    rmsEps,
  };

  let classifyNum: number | undefined;
  let timestampSegmentMs: number | undefined;
  if (isAligner) {
    classifyNum = c.classifyNum;
    if (classifyNum === undefined || classifyNum <= 0) throw new Error('model: aligner without classify_num');
    if (headRows !== classifyNum) throw new Error(`model: head has ${headRows} rows, classify_num is ${classifyNum}`);
    const ts = num(cfgJson.timestamp_segment_time) ?? num(thinker.timestamp_segment_time);
    if (ts === undefined) warnings.push('timestamp_segment_time not in file; assumed 80 ms');
    timestampSegmentMs = ts ?? 80;
  }

  const fromMeta = addedTokensFromMeta(meta);
  if (!fromMeta) warnings.push('no tokenizer_config.json added_tokens_decoder; default special ids used');
  const addedTokens = createTokenizer(fromMeta).added;
  const supportLanguages = Array.isArray(cfgJson.support_languages) ? (cfgJson.support_languages as string[]) : null;

  return {
    file,
    meta,
    modelType: file.modelType,
    isAligner,
    audio,
    text,
    classifyNum,
    timestampSegmentMs,
    special: specialIdsFrom(fromMeta ?? defaultAddedTokens()),
    addedTokens,
    supportLanguages,
    warnings,
    has: (name) => tensors.has(name),
    shape: (name) => need(name).dims.slice(),
    weight,
    row,
  };
}

// ---------------------------------------------------------------------------------------------
// Audio encoder
// ---------------------------------------------------------------------------------------------

/**
 * 3x3 convolution, stride 2, zero padding 1, on planes [cin][H][W] → [cout][H'][W'] (+ bias).
 * weight is PyTorch [cout][cin][3][3] with ky over H (frequency) and kx over W (time).
 */
export function conv2dStride2(
  input: Float64Array,
  cin: number,
  H: number,
  W: number,
  weight: Float64Array,
  bias: Float64Array,
  cout: number,
): { data: Float64Array; H: number; W: number } {
  if (input.length !== cin * H * W) throw new Error('conv2d: input size mismatch');
  if (weight.length !== cout * cin * 9) throw new Error('conv2d: weight size mismatch');
  const Ho = convOutLen(H);
  const Wo = convOutLen(W);
  const P = Ho * Wo;
  const K = cin * 9;
  // im2col: patch[p][ci*9 + ky*3 + kx] = input[ci][2y+ky-1][2x+kx-1] (zero outside), p = y*Wo + x
  const patch = new Float64Array(P * K);
  for (let y = 0; y < Ho; y++) {
    for (let x = 0; x < Wo; x++) {
      const po = (y * Wo + x) * K;
      for (let ci = 0; ci < cin; ci++) {
        for (let ky = 0; ky < 3; ky++) {
          const iy = 2 * y + ky - 1;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < 3; kx++) {
            const ix = 2 * x + kx - 1;
            if (ix < 0 || ix >= W) continue;
            patch[po + ci * 9 + ky * 3 + kx] = input[(ci * H + iy) * W + ix];
          }
        }
      }
    }
  }
  // out[co][p] = bias[co] + weight[co][:] . patch[p][:]
  const out = new Float64Array(cout * P);
  for (let co = 0; co < cout; co++) {
    const wo = co * K;
    for (let p = 0; p < P; p++) {
      const po = p * K;
      out[co * P + p] = bias[co] + dot(weight, wo, patch, po, K);
    }
  }
  return { data: out, H: Ho, W: Wo };
}

export interface EncodeOptions {
  /** Every audio token attends to every other one (chatllm.cpp numerics) instead of the official windows. */
  fullAttention?: boolean;
  /** 'erf' (official, default) or 'tanh'. */
  gelu?: 'erf' | 'tanh';
  /** Short-clip padding to 0.5 s before the mel (default true). */
  padShort?: boolean;
  trace?: TraceFn;
}

function applyGelu(v: Float64Array, kind: 'erf' | 'tanh'): void {
  const f = kind === 'tanh' ? geluTanh : gelu;
  for (let i = 0; i < v.length; i++) v[i] = f(v[i]);
}

/** Encoder on a log-mel [128][T] (mel-major). */
export function encodeMel(model: ReferenceModel, mel: { T: number; data: Float64Array }, opts: EncodeOptions = {}): AudioEmbedding {
  const a = model.audio;
  const geluKind = opts.gelu ?? 'erf';
  const T = mel.T;
  if (T <= 0) throw new Error('encodeMel: no frames');
  if (mel.data.length !== a.nMel * T) throw new Error('encodeMel: mel size mismatch');
  const trace = opts.trace;
  trace?.('mel', mel.data, [a.nMel, T]);

  const C = a.convChannels;
  const CF = a.chunkFrames;
  const D = a.dModel;
  const F3 = a.convFreq;
  const w1 = model.weight('audio.conv2d1.weight');
  const b1 = model.weight('audio.conv2d1.bias');
  const w2 = model.weight('audio.conv2d2.weight');
  const b2 = model.weight('audio.conv2d2.bias');
  const w3 = model.weight('audio.conv2d3.weight');
  const b3 = model.weight('audio.conv2d3.bias');
  const wOut = model.weight('audio.conv_out.weight');
  const pos = sinusoidTable(a.tokensPerChunk, D);

  const nChunks = Math.ceil(T / CF);
  const nTokens = audioTokenCount(T, CF);
  const x = new Float64Array(nTokens * D);
  let tok = 0;
  for (let ch = 0; ch < nChunks; ch++) {
    const t0 = ch * CF;
    const valid = Math.min(CF, T - t0);
    const keep = convOutLen3(valid);
    // Every chunk is zero-padded to CF frames (addendum 1, rule 1).
    const plane = new Float64Array(a.nMel * CF);
    for (let m = 0; m < a.nMel; m++) {
      for (let t = 0; t < valid; t++) plane[m * CF + t] = mel.data[m * T + t0 + t];
    }
    const c1 = conv2dStride2(plane, 1, a.nMel, CF, w1, b1, C);
    applyGelu(c1.data, geluKind);
    const c2 = conv2dStride2(c1.data, C, c1.H, c1.W, w2, b2, C);
    applyGelu(c2.data, geluKind);
    const c3 = conv2dStride2(c2.data, C, c2.H, c2.W, w3, b3, C);
    applyGelu(c3.data, geluKind);
    if (c3.H !== F3 || c3.W !== a.tokensPerChunk) throw new Error('encodeMel: unexpected conv output size');
    if (trace) {
      trace(`conv1.chunk${ch}`, c1.data, [C, c1.H, c1.W]);
      trace(`conv2.chunk${ch}`, c2.data, [C, c2.H, c2.W]);
      trace(`conv3.chunk${ch}`, c3.data, [C, c3.H, c3.W]);
    }
    // Flatten channel-major (c * F3 + f) per time step, conv_out (no bias), + sinusoid row of the step.
    const feats = new Float64Array(keep * C * F3);
    for (let t = 0; t < keep; t++) {
      for (let cc = 0; cc < C; cc++) {
        for (let f = 0; f < F3; f++) feats[t * C * F3 + cc * F3 + f] = c3.data[(cc * F3 + f) * c3.W + t];
      }
    }
    const h = linear(feats, keep, C * F3, wOut, D, null);
    for (let t = 0; t < keep; t++) {
      for (let k = 0; k < D; k++) x[(tok + t) * D + k] = h[t * D + k] + pos[t * D + k];
    }
    tok += keep;
  }
  if (tok !== nTokens) throw new Error('encodeMel: token count mismatch');
  trace?.('embed', x, [nTokens, D]);

  // Transformer layers, attention block-diagonal over windows of windowTokens tokens.
  const window = opts.fullAttention ? nTokens : a.windowTokens;
  let hcur: Float64Array = x;
  for (let l = 0; l < a.layers; l++) {
    hcur = encoderLayer(model, l, hcur, nTokens, window, geluKind);
    trace?.(`enc.layer${l}`, hcur, [nTokens, D]);
  }
  const p = `audio.ln_post`;
  let y = layerNorm(hcur, nTokens, D, model.weight(`${p}.weight`), model.weight(`${p}.bias`), a.lnEps);
  trace?.('ln_post', y, [nTokens, D]);
  y = linear(y, nTokens, D, model.weight('multi_modal_projector.proj1.weight'), D, model.weight('multi_modal_projector.proj1.bias'));
  applyGelu(y, geluKind);
  y = linear(y, nTokens, D, model.weight('multi_modal_projector.proj2.weight'), a.outputDim, model.weight('multi_modal_projector.proj2.bias'));
  trace?.('audio_out', y, [nTokens, a.outputDim]);
  return { tokens: nTokens, dim: a.outputDim, data: y };
}

function encoderLayer(model: ReferenceModel, l: number, x: Float64Array, n: number, window: number, geluKind: 'erf' | 'tanh'): Float64Array {
  const a = model.audio;
  const D = a.dModel;
  const pre = `audio.layers.${l}`;
  const W = (s: string) => model.weight(`${pre}.${s}`);
  const xn = layerNorm(x, n, D, W('input_layernorm.weight'), W('input_layernorm.bias'), a.lnEps);
  const q = linear(xn, n, D, W('self_attn.q_proj.weight'), D, W('self_attn.q_proj.bias'));
  const k = linear(xn, n, D, W('self_attn.k_proj.weight'), D, W('self_attn.k_proj.bias'));
  const v = linear(xn, n, D, W('self_attn.v_proj.weight'), D, W('self_attn.v_proj.bias'));
  const hd = a.headDim;
  const scale = 1 / Math.sqrt(hd);
  const att = new Float64Array(n * D);
  const scores = new Float64Array(window);
  for (let ws = 0; ws < n; ws += window) {
    const we = Math.min(n, ws + window);
    const len = we - ws;
    for (let h = 0; h < a.heads; h++) {
      const ho = h * hd;
      for (let i = ws; i < we; i++) {
        for (let j = ws; j < we; j++) {
          let s = 0;
          for (let d = 0; d < hd; d++) s += q[i * D + ho + d] * k[j * D + ho + d];
          scores[j - ws] = s * scale;
        }
        softmaxInPlace(scores, len);
        for (let j = ws; j < we; j++) {
          const pj = scores[j - ws];
          for (let d = 0; d < hd; d++) att[i * D + ho + d] += pj * v[j * D + ho + d];
        }
      }
    }
  }
  const o = linear(att, n, D, W('self_attn.o_proj.weight'), D, W('self_attn.o_proj.bias'));
  const h1 = new Float64Array(n * D);
  for (let i = 0; i < h1.length; i++) h1[i] = x[i] + o[i];
  const hn = layerNorm(h1, n, D, W('post_attention_layernorm.weight'), W('post_attention_layernorm.bias'), a.lnEps);
  const f0 = linear(hn, n, D, W('mlp.fc0.weight'), a.ffn, W('mlp.fc0.bias'));
  applyGelu(f0, geluKind);
  const f1 = linear(f0, n, a.ffn, W('mlp.fc1.weight'), D, W('mlp.fc1.bias'));
  for (let i = 0; i < h1.length; i++) h1[i] += f1[i];
  return h1;
}

/** Mel (with the 0.5 s short-clip rule unless padShort is false) then the encoder. */
export function encodeAudio(model: ReferenceModel, pcm: Float32Array | Float64Array, opts: EncodeOptions = {}): AudioEmbedding & { mel: LogMel } {
  const mel = logMel(pcm, { padShort: opts.padShort ?? true });
  return { ...encodeMel(model, mel, opts), mel };
}

// ---------------------------------------------------------------------------------------------
// Text decoder
// ---------------------------------------------------------------------------------------------

export interface DecoderOptions {
  /** Positions whose logits are returned (default: the last position only). */
  positions?: number[];
  /** Override the RMSNorm eps of the file (e.g. 1e-5 for chatllm numerics). */
  rmsEps?: number;
  /** Also return the final-normed hidden states of the requested positions. */
  returnHidden?: boolean;
  trace?: TraceFn;
}

export interface DecoderResult {
  /** [positions.length][cols] */
  logits: Float64Array;
  positions: number[];
  /** Head width: vocab rows (ASR) or classify_num (aligner). */
  cols: number;
  hidden?: Float64Array;
}

/** Token embeddings with the audio rows written over the audio placeholder positions, in order. */
export function embedInputs(
  model: ReferenceModel,
  inputIds: number[],
  audio: { data: Float64Array; tokens: number; dim: number } | null,
  audioTokenId: number = model.special.audioPad,
): Float64Array {
  const H = model.text.hidden;
  const L = inputIds.length;
  const x = new Float64Array(L * H);
  let used = 0;
  for (let i = 0; i < L; i++) {
    const id = inputIds[i];
    if (audio && id === audioTokenId) {
      if (audio.dim !== H) throw new Error(`audio width ${audio.dim} != hidden ${H}`);
      if (used >= audio.tokens) throw new Error('more audio placeholders than audio tokens');
      x.set(audio.data.subarray(used * H, (used + 1) * H), i * H);
      used++;
    } else {
      if (!Number.isInteger(id) || id < 0 || id >= model.text.embedRows) throw new Error(`token id ${id} outside the embedding`);
      x.set(model.row('model.embed_tokens.weight', id), i * H);
    }
  }
  if (audio && used !== audio.tokens) throw new Error(`prompt has ${used} audio placeholders for ${audio.tokens} audio tokens`);
  return x;
}

/** Incremental Qwen3 decoder with a float64 KV cache (K stored after RoPE). */
export class DecoderSession {
  readonly model: ReferenceModel;
  readonly rmsEps: number;
  /** Per layer: K and V rows ([kvHeads * headDim] each) for every position so far. */
  readonly kCache: Float64Array[][];
  readonly vCache: Float64Array[][];
  length = 0;
  trace?: TraceFn;

  constructor(model: ReferenceModel, opts: { rmsEps?: number; trace?: TraceFn } = {}) {
    this.model = model;
    this.rmsEps = opts.rmsEps ?? model.text.rmsEps;
    this.kCache = Array.from({ length: model.text.layers }, () => []);
    this.vCache = Array.from({ length: model.text.layers }, () => []);
    this.trace = opts.trace;
  }

  /** Run n new positions (embeddings [n][H]); returns their final-normed hidden states [n][H]. */
  append(embeds: Float64Array, n: number): Float64Array {
    const t = this.model.text;
    const H = t.hidden;
    if (embeds.length !== n * H) throw new Error('DecoderSession.append: size mismatch');
    const p0 = this.length;
    let x: Float64Array = embeds.slice();
    this.trace?.(`dec.embeds@${p0}`, x, [n, H]);
    const nq = t.heads;
    const nkv = t.kvHeads;
    const hd = t.headDim;
    const group = nq / nkv;
    const scale = 1 / Math.sqrt(hd);
    const eps = this.rmsEps;
    for (let l = 0; l < t.layers; l++) {
      const pre = `model.layers.${l}`;
      const W = (s: string) => this.model.weight(`${pre}.${s}`);
      const xn = rmsNorm(x, H, W('input_layernorm.weight'), eps);
      let q = linear(xn, n, H, W('self_attn.q_proj.weight'), nq * hd);
      let k = linear(xn, n, H, W('self_attn.k_proj.weight'), nkv * hd);
      const v = linear(xn, n, H, W('self_attn.v_proj.weight'), nkv * hd);
      q = rmsNorm(q, hd, W('self_attn.q_norm.weight'), eps);
      k = rmsNorm(k, hd, W('self_attn.k_norm.weight'), eps);
      for (let i = 0; i < n; i++) {
        ropeInPlace(q, i * nq * hd, nq, hd, p0 + i, t.ropeTheta);
        ropeInPlace(k, i * nkv * hd, nkv, hd, p0 + i, t.ropeTheta);
        this.kCache[l].push(k.slice(i * nkv * hd, (i + 1) * nkv * hd));
        this.vCache[l].push(v.slice(i * nkv * hd, (i + 1) * nkv * hd));
      }
      const att = new Float64Array(n * nq * hd);
      const scores = new Float64Array(p0 + n);
      for (let i = 0; i < n; i++) {
        const last = p0 + i; // causal: positions 0..last
        for (let h = 0; h < nq; h++) {
          const kvh = Math.floor(h / group);
          const qo = i * nq * hd + h * hd;
          for (let j = 0; j <= last; j++) {
            const kr = this.kCache[l][j];
            let s = 0;
            for (let d = 0; d < hd; d++) s += q[qo + d] * kr[kvh * hd + d];
            scores[j] = s * scale;
          }
          softmaxInPlace(scores, last + 1);
          for (let j = 0; j <= last; j++) {
            const vr = this.vCache[l][j];
            const pj = scores[j];
            for (let d = 0; d < hd; d++) att[qo + d] += pj * vr[kvh * hd + d];
          }
        }
      }
      const o = linear(att, n, nq * hd, W('self_attn.o_proj.weight'), H);
      for (let i = 0; i < x.length; i++) x[i] += o[i];
      const hn = rmsNorm(x, H, W('post_attention_layernorm.weight'), eps);
      const I = t.intermediate;
      const g = linear(hn, n, H, W('mlp.gate_proj.weight'), I);
      const u = linear(hn, n, H, W('mlp.up_proj.weight'), I);
      for (let i = 0; i < g.length; i++) g[i] = silu(g[i]) * u[i];
      const d = linear(g, n, I, W('mlp.down_proj.weight'), H);
      for (let i = 0; i < x.length; i++) x[i] += d[i];
      this.trace?.(`dec.layer${l}@${p0}`, x, [n, H]);
    }
    this.length += n;
    x = rmsNorm(x, H, this.model.weight('model.norm.weight'), eps);
    this.trace?.(`dec.norm@${p0}`, x, [n, H]);
    return x;
  }

  /** Head logits for some rows of a hidden block [*][H]. */
  logits(hidden: Float64Array, rows: number[]): Float64Array {
    const t = this.model.text;
    const H = t.hidden;
    const head = this.model.weight(t.headTensor);
    const out = new Float64Array(rows.length * t.headRows);
    for (let r = 0; r < rows.length; r++) {
      const ho = rows[r] * H;
      if (ho < 0 || ho + H > hidden.length) throw new Error(`logits: row ${rows[r]} out of range`);
      for (let v = 0; v < t.headRows; v++) {
        let s = 0;
        const wo = v * H;
        for (let k = 0; k < H; k++) s += hidden[ho + k] * head[wo + k];
        out[r * t.headRows + v] = s;
      }
    }
    return out;
  }
}

/** Whole-prompt forward; logits at the requested positions (default: last). */
export function decoderForward(
  model: ReferenceModel,
  inputIds: number[],
  audio: { data: Float64Array; tokens: number; dim: number } | null,
  audioTokenId: number = model.special.audioPad,
  opts: DecoderOptions = {},
): DecoderResult {
  const L = inputIds.length;
  if (L === 0) throw new Error('decoderForward: empty input');
  const positions = opts.positions ?? [L - 1];
  for (const p of positions) if (!Number.isInteger(p) || p < 0 || p >= L) throw new Error(`decoderForward: position ${p} out of range`);
  const session = new DecoderSession(model, { rmsEps: opts.rmsEps, trace: opts.trace });
  const hidden = session.append(embedInputs(model, inputIds, audio, audioTokenId), L);
  const logits = session.logits(hidden, positions);
  const res: DecoderResult = { logits, positions, cols: model.text.headRows };
  if (opts.returnHidden) {
    const H = model.text.hidden;
    const hsel = new Float64Array(positions.length * H);
    positions.forEach((p, i) => hsel.set(hidden.subarray(p * H, (p + 1) * H), i * H));
    res.hidden = hsel;
  }
  return res;
}
