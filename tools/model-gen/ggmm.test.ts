import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  cachedModelPath,
  ensureModel,
  generateModel,
  listTensors,
  MODEL_CACHE_DIR,
  planModel,
  PRESETS,
  type GenerateResult,
} from './index';
import { pyFloatRepr, pyJsonDumps, PyFloat } from './metadata';
import { readGgmm, tensorToF32 } from './reader';
import { specBytes } from './tensors';

const PUBLISHED_ASR_BYTES = 538_868_432;

// ---------------------------------------------------------------------------
// An independent parsing loop (deliberately not sharing code with the writer or reader.ts)

interface ParsedTensor {
  name: string;
  shape: number[];
  type: number;
  recordOffset: number;
  dataOffset: number;
  bytes: number;
  padBytesZero: boolean;
}

interface Parsed {
  magic: string;
  version: number;
  offConfig: number;
  offTokenizer: number;
  offTensors: number;
  metaRawLength: number;
  meta: any;
  modelType: number;
  loaderVersion: number;
  struct: Buffer;
  firstVocabRecordAt: number;
  vocabCount: number;
  vocabTypes: Set<number>;
  firstTokens: string[];
  mergesCount: number;
  firstMerges: string[];
  tensorsStartAt: number;
  tensors: ParsedTensor[];
  end: number;
}

const BLOCK: Record<number, [number, number]> = { 0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 8: [32, 34] };

function parse(buf: Buffer, structBytes: number): Parsed {
  const p = {} as Parsed;
  p.magic = buf.toString('latin1', 0, 4);
  p.version = buf.readUInt32LE(4);
  p.offConfig = buf.readUInt32LE(8);
  p.offTokenizer = buf.readUInt32LE(12);
  p.offTensors = buf.readUInt32LE(16);
  p.metaRawLength = p.offConfig - 20;
  const metaText = buf.toString('utf8', 20, p.offConfig).replace(/\0+$/, '');
  p.meta = JSON.parse(metaText);

  let pos = p.offConfig;
  p.modelType = buf.readInt32LE(pos);
  p.loaderVersion = buf.readInt32LE(pos + 4);
  pos += 8;
  p.struct = buf.subarray(pos, pos + structBytes);
  pos += structBytes;

  p.firstVocabRecordAt = pos;
  p.vocabCount = 0;
  p.vocabTypes = new Set();
  p.firstTokens = [];
  for (;;) {
    const len = buf.readInt32LE(pos);
    pos += 4;
    if (len === -1) break;
    if (p.firstTokens.length < 3) p.firstTokens.push(buf.toString('utf8', pos, pos + len));
    pos += len;
    p.vocabTypes.add(buf[pos]);
    pos += 1;
    p.vocabCount++;
  }
  p.mergesCount = 0;
  p.firstMerges = [];
  for (;;) {
    const len = buf.readInt32LE(pos);
    pos += 4;
    if (len === -1) break;
    if (p.firstMerges.length < 3) p.firstMerges.push(buf.toString('utf8', pos, pos + len));
    pos += len;
    p.mergesCount++;
  }
  p.tensorsStartAt = pos;
  p.tensors = [];
  while (pos < buf.length) {
    const recordOffset = pos;
    const nameLen = buf.readInt32LE(pos);
    const name = buf.toString('utf8', pos + 4, pos + 4 + nameLen);
    pos += 4 + nameLen;
    const ndim = buf.readInt32LE(pos);
    pos += 4;
    const shape = Array.from({ length: ndim }, (_, k) => buf.readInt32LE(pos + 4 * k));
    pos += 4 * ndim;
    const type = buf.readInt32LE(pos);
    pos += 4;
    const aligned = pos + ((16 - (pos % 16)) % 16);
    let padBytesZero = true;
    for (let k = pos; k < aligned; k++) if (buf[k] !== 0) padBytesZero = false;
    const [be, bb] = BLOCK[type];
    const n = shape.reduce((a, b) => a * b, 1);
    const bytes = (n / be) * bb;
    p.tensors.push({ name, shape, type, recordOffset, dataOffset: aligned, bytes, padBytesZero });
    pos = aligned + bytes;
  }
  p.end = pos;
  return p;
}

// ---------------------------------------------------------------------------

let dir: string;
let tiny: GenerateResult;
let tinyBuf: Buffer;
let tinyParsed: Parsed;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'model-gen-'));
  tiny = await generateModel({ preset: 'tiny', seed: 1, out: join(dir, 'tiny.bin') });
  tinyBuf = readFileSync(tiny.path);
  tinyParsed = parse(tinyBuf, 616);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('tiny ASR file layout', () => {
  it('header: magic, version 1, offsets', () => {
    expect(tinyParsed.magic).toBe('ggmm');
    expect(tinyParsed.version).toBe(1);
    expect(tinyParsed.metaRawLength % 4).toBe(0);
    // NUL padding only (at most 3 bytes) after the JSON
    const metaText = tinyBuf.toString('utf8', 20, tinyParsed.offConfig);
    expect(metaText.length - metaText.replace(/\0+$/, '').length).toBeLessThan(4);
    expect(tinyBuf.length).toBe(tiny.bytes);
    expect(statSync(tiny.path).size).toBe(tiny.bytes);
  });

  it('offset_config points at the model type and version', () => {
    expect(tinyBuf.readInt32LE(tinyParsed.offConfig)).toBe(0x1000010f);
    expect(tinyBuf.readInt32LE(tinyParsed.offConfig + 4)).toBe(1);
  });

  it('offset_tokenizer points at the first vocab record; offset_tensors at the first tensor record', () => {
    expect(tinyParsed.offTokenizer).toBe(tinyParsed.offConfig + 8 + 616);
    expect(tinyParsed.offTokenizer).toBe(tinyParsed.firstVocabRecordAt);
    // id 0 of the Qwen vocabulary is "!" (1 byte), type byte 1
    expect(tinyBuf.readInt32LE(tinyParsed.offTokenizer)).toBe(1);
    expect(tinyBuf.toString('utf8', tinyParsed.offTokenizer + 4, tinyParsed.offTokenizer + 5)).toBe('!');
    expect(tinyBuf[tinyParsed.offTokenizer + 5]).toBe(1);
    expect(tinyParsed.offTensors).toBe(tinyParsed.tensorsStartAt);
    expect(tinyParsed.tensors[0].recordOffset).toBe(tinyParsed.offTensors);
    const nameLen = tinyBuf.readInt32LE(tinyParsed.offTensors);
    expect(tinyBuf.toString('utf8', tinyParsed.offTensors + 4, tinyParsed.offTensors + 4 + nameLen)).toBe('audio.conv2d1.weight');
  });

  it('config struct, field by field', () => {
    const s = tinyParsed.struct;
    const i = (off: number) => s.readInt32LE(off);
    expect(s.length).toBe(616);
    expect(i(0)).toBe(2); // q4_0
    expect(i(4)).toBe(151936);
    expect(i(8)).toBe(128);
    expect(i(12)).toBe(4);
    expect(i(16)).toBe(2);
    expect(i(20)).toBe(256);
    expect(i(24)).toBe(65536);
    expect([i(28), i(32), i(36), i(40)]).toEqual([-1, -1, -1, -1]);
    expect(i(44)).toBe(2);
    expect(i(48)).toBe(32);
    expect(s.readFloatLE(52)).toBe(1e6);
    expect(s.readFloatLE(56)).toBe(-1);
    expect([i(60), i(64), i(68), i(72), i(76), i(80), i(84)]).toEqual([-1, 1, -1, -1, -1, 0, 0]);
    for (let k = 0; k < 128; k++) expect(i(88 + 4 * k)).toBe(0);
    expect([i(600), i(604), i(608), i(612)]).toEqual([6, 5, 5, 0]); // head_dim 32: [24,20,20] scaled to 16
  });

  it('tokenizer: 151,643 vocab records (all type 1) and 151,387 merges', () => {
    expect(tinyParsed.vocabCount).toBe(151643);
    expect([...tinyParsed.vocabTypes]).toEqual([1]);
    expect(tinyParsed.firstTokens).toEqual(['!', '"', '#']);
    expect(tinyParsed.mergesCount).toBe(151387);
    expect(tinyParsed.firstMerges).toEqual(['Ġ Ġ', 'ĠĠ ĠĠ', 'i n']);
  });

  it('every tensor payload starts at an absolute offset multiple of 16, zero padding, no trailing bytes', () => {
    for (const t of tinyParsed.tensors) {
      expect(t.dataOffset % 16, t.name).toBe(0);
      expect(t.dataOffset - (t.recordOffset + 4 + t.name.length + 4 + 4 * t.shape.length + 4)).toBeLessThan(16);
      expect(t.padBytesZero, t.name).toBe(true);
    }
    expect(tinyParsed.end).toBe(tinyBuf.length);
  });

  it('tensor list, shapes, types and sizes', () => {
    const got = tinyParsed.tensors.map((t) => ({ name: t.name, shape: t.shape, type: t.type, bytes: t.bytes }));
    const want = listTensors(PRESETS.tiny.config, 'q4_0').map((t) => ({
      name: t.name,
      shape: t.shape,
      type: t.type,
      bytes: specBytes(t),
    }));
    expect(got).toEqual(want);
    expect(got.length).toBe(70); // 7 conv + 2 * 16 audio layer + 2 ln_post + 4 projector + 1 + 2 * 11 + 2
    const by = new Map(got.map((t) => [t.name, t]));
    expect(by.get('audio.conv2d1.weight')).toMatchObject({ shape: [32, 1, 3, 3], type: 1, bytes: 32 * 9 * 2 });
    expect(by.get('audio.conv2d2.weight')).toMatchObject({ shape: [32, 32, 3, 3], type: 1 });
    expect(by.get('audio.conv2d2.bias')).toMatchObject({ shape: [32], type: 0, bytes: 128 });
    expect(by.get('audio.conv_out.weight')).toMatchObject({ shape: [128, 512], type: 2, bytes: 128 * 16 * 18 });
    expect(by.get('audio.layers.1.mlp.fc0.weight')).toMatchObject({ shape: [256, 128], type: 2 });
    expect(by.get('audio.layers.1.mlp.fc1.weight')).toMatchObject({ shape: [128, 256], type: 2 });
    expect(by.get('audio.layers.0.self_attn.o_proj.bias')).toMatchObject({ shape: [128], type: 0 });
    expect(by.get('multi_modal_projector.proj2.weight')).toMatchObject({ shape: [128, 128], type: 2 });
    expect(by.get('model.embed_tokens.weight')).toMatchObject({ shape: [151936, 128], type: 2, bytes: 151936 * 4 * 18 });
    expect(by.get('model.layers.0.self_attn.q_proj.weight')).toMatchObject({ shape: [128, 128], type: 2 });
    expect(by.get('model.layers.0.self_attn.k_proj.weight')).toMatchObject({ shape: [64, 128], type: 2 });
    expect(by.get('model.layers.1.self_attn.q_norm.weight')).toMatchObject({ shape: [32], type: 0 });
    expect(by.get('model.layers.1.mlp.down_proj.weight')).toMatchObject({ shape: [128, 256], type: 2 });
    expect(by.get('model.norm.weight')).toMatchObject({ shape: [128], type: 0 });
    expect(by.get('lm_head.weight')).toMatchObject({ shape: [151936, 128], type: 2 });
    // no bias anywhere in the LLM, no conv_out bias
    expect(got.filter((t) => t.name.startsWith('model.') && t.name.endsWith('.bias'))).toEqual([]);
    expect(by.has('audio.conv_out.bias')).toBe(false);
  });

  it('JSON metadata: config.json, tokenizer_config.json, preprocessor_config.json, model_name', () => {
    const m = tinyParsed.meta;
    expect(Object.keys(m)).toEqual(['config.json', 'tokenizer_config.json', 'preprocessor_config.json', 'model_name']);
    const cfg = m['config.json'];
    expect(cfg.model_type).toBe('qwen3_asr');
    expect(cfg.support_languages).toHaveLength(30);
    expect(cfg.support_languages[0]).toBe('Chinese');
    expect(cfg.support_languages[29]).toBe('Macedonian');
    const th = cfg.thinker_config;
    expect(th.model_type).toBe('qwen3_asr');
    expect([th.audio_token_id, th.audio_start_token_id, th.audio_end_token_id]).toEqual([151676, 151669, 151670]);
    expect(th.audio_config).toMatchObject({
      num_mel_bins: 128,
      d_model: 128,
      encoder_layers: 2,
      encoder_attention_heads: 2,
      encoder_ffn_dim: 256,
      downsample_hidden_size: 32,
      n_window: 50,
      n_window_infer: 800,
      conv_chunksize: 500,
      max_source_positions: 1500,
      output_dim: 128,
      activation_function: 'gelu',
      scale_embedding: false,
    });
    expect(th.text_config).toMatchObject({
      hidden_size: 128,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 32,
      intermediate_size: 256,
      rope_theta: 1000000,
      rms_norm_eps: 1e-6,
      vocab_size: 151936,
      tie_word_embeddings: true,
      max_position_embeddings: 65536,
      hidden_act: 'silu',
      attention_bias: false,
    });
    expect(th.text_config.rope_scaling).toMatchObject({ interleaved: true, mrope_interleaved: true });
    const pre = m['preprocessor_config.json'];
    expect(pre).toMatchObject({
      feature_size: 128,
      sampling_rate: 16000,
      hop_length: 160,
      n_fft: 400,
      chunk_length: 30,
      n_samples: 480000,
      nb_max_frames: 3000,
      padding_value: 0,
      dither: 0,
      return_attention_mask: true,
      feature_extractor_type: 'WhisperFeatureExtractor',
    });
    const tok = m['tokenizer_config.json'];
    expect(tok).toMatchObject({ add_bos_token: false, eos_token: '<|im_end|>', pad_token: '<|endoftext|>', model_max_length: 131072 });
    const dec = tok.added_tokens_decoder;
    expect(Object.keys(dec)).toEqual(Array.from({ length: 63 }, (_, k) => String(151643 + k)));
    const content = (id: number) => dec[String(id)].content;
    const special = (id: number) => dec[String(id)].special;
    expect(content(151643)).toBe('<|endoftext|>');
    expect(content(151644)).toBe('<|im_start|>');
    expect(content(151645)).toBe('<|im_end|>');
    expect(content(151657)).toBe('<tool_call>');
    expect(special(151657)).toBe(false);
    expect(content(151667)).toBe('<think>');
    expect(content(151669)).toBe('<|audio_start|>');
    expect(content(151670)).toBe('<|audio_end|>');
    expect([151671, 151672, 151673, 151674].map(content)).toEqual([
      '<tts_pad>',
      '<tts_text_bos>',
      '<tts_text_eod>',
      '<tts_text_bos_single>',
    ]);
    expect(content(151675)).toBe('<non_speech>');
    expect(special(151675)).toBe(false);
    expect(content(151676)).toBe('<|audio_pad|>');
    expect(special(151676)).toBe(true);
    expect(content(151677)).toBe('<blank1>');
    expect(content(151703)).toBe('<blank27>');
    expect(content(151704)).toBe('<asr_text>');
    expect(special(151704)).toBe(false);
    expect(content(151705)).toBe('<timestamp>');
    expect(special(151705)).toBe(false);
    for (const v of Object.values<any>(dec)) {
      expect(v).toMatchObject({ lstrip: false, normalized: false, rstrip: false, single_word: false });
    }
    expect(m.model_name).toBe('Qwen3-ASR-tiny-random-s1');
  });

  it('metadata is serialised like Python json.dumps (", " / ": " separators, 1e-06, 0.0)', () => {
    const text = tinyBuf.toString('utf8', 20, tinyParsed.offConfig).replace(/\0+$/, '');
    expect(text.startsWith('{"config.json": {"architectures": ["Qwen3ASRForConditionalGeneration"], "model_type": "qwen3_asr"')).toBe(true);
    expect(text).toContain('"rms_norm_eps": 1e-06');
    expect(text).toContain('"dither": 0.0');
    expect(text).toContain('"rope_theta": 1000000,');
  });

  it('weights dequantise to the intended scales', () => {
    const f = readGgmm(tinyBuf);
    const stats = (name: string) => {
      const v = tensorToF32(f, name);
      let s = 0;
      let s2 = 0;
      let min = Infinity;
      let max = -Infinity;
      for (const x of v) {
        s += x;
        s2 += x * x;
        if (x < min) min = x;
        if (x > max) max = x;
      }
      const mean = s / v.length;
      return { mean, std: Math.sqrt(s2 / v.length - mean * mean), min, max };
    };
    const q = stats('model.layers.0.self_attn.q_proj.weight'); // N(0, 1/128)
    expect(Math.abs(q.mean)).toBeLessThan(0.005);
    expect(q.std).toBeGreaterThan(0.95 / Math.sqrt(128));
    expect(q.std).toBeLessThan(1.1 / Math.sqrt(128));
    const down = stats('model.layers.0.mlp.down_proj.weight'); // N(0, 1/256) / sqrt(4)
    expect(down.std).toBeGreaterThan((0.95 / 16) * 0.5);
    expect(down.std).toBeLessThan((1.1 / 16) * 0.5);
    const emb = stats('model.embed_tokens.weight');
    expect(emb.std).toBeGreaterThan(0.019);
    expect(emb.std).toBeLessThan(0.022);
    const head = stats('lm_head.weight'); // 2 / sqrt(128)
    expect(head.std).toBeGreaterThan(1.9 / Math.sqrt(128));
    expect(head.std).toBeLessThan(2.2 / Math.sqrt(128));
    const norm = stats('model.layers.0.input_layernorm.weight');
    expect(norm.min).toBeGreaterThanOrEqual(0.9);
    expect(norm.max).toBeLessThanOrEqual(1.1);
    expect(Math.abs(norm.mean - 1)).toBeLessThan(0.03);
    const bias = stats('audio.layers.0.self_attn.q_proj.bias');
    expect(bias.min).toBeGreaterThanOrEqual(-0.02);
    expect(bias.max).toBeLessThanOrEqual(0.02);
    const conv = stats('audio.conv2d2.weight'); // f16, N(0, 2 / (32 * 9))
    expect(conv.std).toBeGreaterThan(0.95 * Math.sqrt(2 / 288));
    expect(conv.std).toBeLessThan(1.05 * Math.sqrt(2 / 288));
  });

  it('reader.ts agrees with the independent loop', () => {
    const f = readGgmm(tinyBuf);
    expect(f.modelType).toBe(0x1000010f);
    expect(f.config.vocabSize).toBe(151936);
    expect(f.config.tieWordEmbeddings).toBe(0);
    expect(f.vocab.length).toBe(151643);
    expect(f.merges.length).toBe(151387);
    expect([...f.tensors.keys()]).toEqual(tinyParsed.tensors.map((t) => t.name));
    for (const t of tinyParsed.tensors) expect(f.tensors.get(t.name)!.offset).toBe(t.dataOffset);
  });
});

describe('determinism', () => {
  it('same seed -> same sha256 (and it is the sha256 of the file); different seed -> different', async () => {
    expect(createHash('sha256').update(tinyBuf).digest('hex')).toBe(tiny.sha256);
    const again = await generateModel({ preset: 'tiny', seed: 1, out: join(dir, 'tiny-again.bin') });
    expect(again.sha256).toBe(tiny.sha256);
    const other = await generateModel({ preset: 'tiny', seed: 2, out: join(dir, 'tiny-s2.bin') });
    expect(other.sha256).not.toBe(tiny.sha256);
    expect(other.bytes).toBe(tiny.bytes);
    // only the weights (and model_name, "s1" vs "s2": same length) differ
    const b2 = readFileSync(other.path);
    const p2 = parse(b2, 616);
    expect(p2.offTensors).toBe(tinyParsed.offTensors);
    expect(b2.subarray(p2.offConfig, p2.offTensors).equals(tinyBuf.subarray(tinyParsed.offConfig, tinyParsed.offTensors))).toBe(true);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});

describe('other presets and quantisations', () => {
  it('aligner-tiny: model type 0x04000002, 620-byte struct with classify_num, [1000, H] head', async () => {
    const res = await generateModel({ preset: 'aligner-tiny', seed: 1, out: join(dir, 'aligner-tiny.bin') });
    const buf = readFileSync(res.path);
    const p = parse(buf, 620);
    expect(p.modelType).toBe(0x04000002);
    expect(p.loaderVersion).toBe(1);
    expect(p.offTokenizer).toBe(p.offConfig + 8 + 620);
    expect(p.struct.readInt32LE(4)).toBe(152064);
    expect(p.struct.readInt32LE(24)).toBe(8192);
    expect(p.struct.readInt32LE(84)).toBe(0);
    expect(p.struct.readInt32LE(616)).toBe(1000);
    expect(p.vocabCount).toBe(151643);
    expect(p.end).toBe(buf.length);
    const head = p.tensors.find((t) => t.name === 'lm_head.weight')!;
    expect(head.shape).toEqual([1000, 128]);
    expect(p.tensors.find((t) => t.name === 'model.embed_tokens.weight')!.shape).toEqual([152064, 128]);
    for (const t of p.tensors) expect(t.dataOffset % 16).toBe(0);
    const cfg = p.meta['config.json'];
    expect(cfg.thinker_config.model_type).toBe('qwen3_forced_aligner');
    expect(cfg.thinker_config.classify_num).toBe(1000);
    expect(cfg.timestamp_token_id).toBe(151705);
    expect(cfg.timestamp_segment_time).toBe(80);
    expect(cfg.support_languages).toHaveLength(11);
    expect(cfg.thinker_config.text_config.tie_word_embeddings).toBe(false);
  });

  it('tiny q8_0 / f16: matrix types follow the request, convs stay f16, 1-D stays f32', async () => {
    for (const [quant, type] of [
      ['q8_0', 8],
      ['q4_1', 3],
      ['f16', 1],
    ] as const) {
      const res = await generateModel({ preset: 'tiny', seed: 1, quant, out: join(dir, `tiny-${quant}.bin`) });
      const buf = readFileSync(res.path);
      const p = parse(buf, 616);
      expect(p.struct.readInt32LE(0)).toBe(type);
      expect(p.end).toBe(buf.length);
      for (const t of p.tensors) {
        const expected = t.shape.length === 1 ? 0 : t.shape[t.shape.length - 1] % 32 === 0 ? type : 1;
        expect(t.type, `${quant} ${t.name}`).toBe(expected);
      }
      expect(p.tensors.find((t) => t.name === 'audio.conv2d3.weight')!.type).toBe(1);
    }
  });

  it('overrides change the dims', async () => {
    const plan = planModel({ preset: 'tiny', seed: 1, overrides: { numLayers: 3, hiddenSize: 64, audioOutputDim: 64, headDim: 16 } });
    expect(plan.tensors.filter((t) => t.spec.name.endsWith('.mlp.gate_proj.weight'))).toHaveLength(3);
    expect(plan.tensors.find((t) => t.spec.name === 'model.embed_tokens.weight')!.spec.shape).toEqual([151936, 64]);
    expect(() => planModel({ preset: 'tiny', seed: 1, overrides: { hiddenSize: 64 } })).toThrow(/audioOutputDim/);
  });

  it('full-0.6b size is within 1% of the published 538,868,432 bytes (computed without writing)', () => {
    const plan = planModel({ preset: 'full-0.6b', seed: 1 });
    expect(plan.tensors).toHaveLength(612);
    expect(Math.abs(plan.totalBytes - PUBLISHED_ASR_BYTES) / PUBLISHED_ASR_BYTES).toBeLessThan(0.01);
    // in fact within a few KB (metadata and record order differ from the real file)
    expect(Math.abs(plan.totalBytes - PUBLISHED_ASR_BYTES)).toBeLessThan(16 * 1024);
    const byName = new Map(plan.tensors.map((t) => [t.spec.name, t]));
    expect(byName.get('model.embed_tokens.weight')!.dataBytes).toBe(87_515_136);
    expect(byName.get('audio.conv_out.weight')!.spec.shape).toEqual([896, 7680]);
    for (const t of plan.tensors) expect(t.dataOffset % 16).toBe(0);
  });

  it("chatllm's own q8_0 0.6B and f16 aligner sizes also match within a few KB", () => {
    expect(Math.abs(planModel({ preset: 'full-0.6b', seed: 1, quant: 'q8_0' }).totalBytes - 1_005_656_864)).toBeLessThan(16 * 1024);
    const fa = planModel({ preset: 'aligner-full', seed: 1, quant: 'f16' });
    expect(fa.tensors).toHaveLength(708);
    expect(Math.abs(fa.totalBytes - 1_840_552_064)).toBeLessThan(16 * 1024);
  });

  it.runIf(process.env.MODEL_GEN_FULL === '1')(
    'writes full-0.6b for real (MODEL_GEN_FULL=1)',
    async () => {
      const t0 = performance.now();
      const res = await generateModel({ preset: 'full-0.6b', seed: 1, out: join(dir, 'full.bin') });
      const secs = (performance.now() - t0) / 1000;
      expect(res.bytes).toBe(planModel({ preset: 'full-0.6b', seed: 1 }).totalBytes);
      expect(secs).toBeLessThan(60);
      rmSync(res.path);
    },
    120_000,
  );
});

describe('ensureModel', () => {
  it('writes the cache file once, then reuses it', async () => {
    const path = await ensureModel('tiny', { seed: 1 });
    expect(path).toBe(cachedModelPath('tiny', 1, 'q4_0'));
    expect(path).toBe(join(MODEL_CACHE_DIR, 'tiny-q4_0-s1.bin'));
    expect(createHash('sha256').update(readFileSync(path)).digest('hex')).toBe(tiny.sha256);
    const mtime = statSync(path).mtimeMs;
    const t0 = performance.now();
    expect(await ensureModel('tiny', { seed: 1 })).toBe(path);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(statSync(path).mtimeMs).toBe(mtime);
    expect(readdirSync(MODEL_CACHE_DIR).filter((n) => n.startsWith('tiny-q4_0-s1.bin.tmp-'))).toEqual([]);
  });
});

describe('python-style JSON', () => {
  it('formats floats like repr()', () => {
    expect([1e-6, 1e-5, 1e-4, 0.02, 1.5, 1e16, 1e15 + 0.5, 123456.789, -2.5e-7].map(pyFloatRepr)).toEqual([
      '1e-06',
      '1e-05',
      '0.0001',
      '0.02',
      '1.5',
      '1e+16',
      '1000000000000000.5',
      '123456.789',
      '-2.5e-07',
    ]);
    expect(pyJsonDumps({ a: [1, new PyFloat(0), null, true, 'x"y'], b: {} })).toBe('{"a": [1, 0.0, null, true, "x\\"y"], "b": {}}');
  });
});
