/**
 * chatllm.cpp GGMM v1 container: byte encoding of every section and a buffered,
 * hashing file sink.
 *
 *   0   "ggmm"
 *   4   u32 version = 1
 *   8   u32 offset_config     -> model type field
 *   12  u32 offset_tokenizer  -> first vocab record
 *   16  u32 offset_tensors    -> first tensor record
 *   20  JSON metadata, NUL-padded to a multiple of 4
 *   offset_config: i32 model_type, i32 version (1), config struct (616 B ASR / 620 B aligner)
 *   offset_tokenizer: vocab records [i32 len, bytes, u8 type=1] ..., i32 -1,
 *                     merge records [i32 len, bytes] ..., i32 -1
 *   offset_tensors: tensor records [i32 name len, name, i32 ndim, dims (PyTorch order),
 *                   i32 ggml type, zero pad to an absolute offset multiple of 16, payload] ... EOF
 *
 * convert.py writes the three offsets as zeros and back-patches them; here every section is
 * encoded first, so the offsets are known before the header is written (same bytes).
 */

import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

import type { GgmlType } from './ggml-types';
import { pyJsonDumps } from './metadata';
import { mropeSection, type ModelConfig } from './presets';
import type { QwenVocab } from './qwen-vocab';

export const GGMM_MAGIC = 'ggmm';
export const GGMM_VERSION = 1;
export const HEADER_BYTES = 20;
/** GGML_MEM_ALIGN: tensor payloads start at absolute offsets that are multiples of this */
export const TENSOR_ALIGN = 16;

export const MODEL_TYPE = {
  asr: 0x1000010f,
  aligner: 0x04000002,
} as const;
export const LOADER_VERSION = 1;

export const CONFIG_STRUCT_BYTES = { asr: 616, aligner: 620 } as const;

/** NUL-padded UTF-8 JSON blob (length a multiple of 4). */
export function encodeMetadata(meta: Record<string, unknown>): Buffer {
  const json = Buffer.from(pyJsonDumps(meta), 'utf8');
  const padded = Buffer.alloc(Math.ceil(json.length / 4) * 4);
  json.copy(padded);
  return padded;
}

/**
 * i32 model_type, i32 version, then the raw config struct
 * (chatllm's llama-like config + Qwen3 fields + mrope_section [+ classify_num]).
 */
export function encodeConfigSection(c: ModelConfig, dtype: GgmlType): Buffer {
  const structBytes = CONFIG_STRUCT_BYTES[c.kind];
  const buf = Buffer.alloc(8 + structBytes);
  let o = 0;
  const i32 = (v: number) => {
    buf.writeInt32LE(v, o);
    o += 4;
  };
  const f32 = (v: number) => {
    buf.writeFloatLE(v, o);
    o += 4;
  };
  i32(MODEL_TYPE[c.kind]);
  i32(LOADER_VERSION);
  const start = o;
  i32(dtype); // 0 default quantisation
  i32(c.vocabSize); // 4
  i32(c.hiddenSize); // 8
  i32(c.numHeads); // 12
  i32(c.numLayers); // 16
  i32(c.intermediateSize); // 20
  i32(c.maxPositionEmbeddings); // 24 max_length
  i32(-1); // 28 bos_token_id (null in text_config)
  i32(-1); // 32 eos_token_id (null)
  i32(-1); // 36 pad_token_id (null)
  i32(-1); // 40 sep_token_id
  i32(c.numKvHeads); // 44
  i32(c.headDim); // 48
  f32(c.ropeTheta); // 52
  f32(-1); // 56 yarn factor (rope_scaling replaced by None)
  i32(-1); // 60 yarn original_max_position_embeddings
  i32(1); // 64 decoder_sparse_step
  i32(-1); // 68 moe_intermediate_size
  i32(-1); // 72 num_experts_per_tok
  i32(-1); // 76 num_experts
  i32(0); // 80 norm_topk_prob
  i32(0); // 84 tie_word_embeddings: forced off by the converter
  o += 128 * 4; // 88 layer_is_sparse[128]: zeros
  const mrope = mropeSection(c.headDim);
  for (let i = 0; i < 4; i++) i32(mrope[i] ?? 0); // 600 mrope_section[4]
  if (c.kind === 'aligner') i32(c.classifyNum); // 616
  if (o - start !== structBytes) throw new Error(`config struct is ${o - start} bytes, expected ${structBytes}`);
  return buf;
}

let tokenizerCache: { vocab: QwenVocab; bytes: Buffer } | undefined;

/** Vocab records in id order (type byte 1 = NORMAL), -1, merge records, -1. */
export function encodeTokenizer(vocab: QwenVocab): Buffer {
  if (tokenizerCache?.vocab === vocab) return tokenizerCache.bytes;
  const tokBufs = vocab.tokens.map((t) => Buffer.from(t, 'utf8'));
  const mergeBufs = vocab.merges.map((m) => Buffer.from(m, 'utf8'));
  let size = 8;
  for (const b of tokBufs) size += 5 + b.length;
  for (const b of mergeBufs) size += 4 + b.length;
  const buf = Buffer.alloc(size);
  let o = 0;
  for (const b of tokBufs) {
    buf.writeInt32LE(b.length, o);
    b.copy(buf, o + 4);
    o += 4 + b.length;
    buf[o++] = 1;
  }
  buf.writeInt32LE(-1, o);
  o += 4;
  for (const b of mergeBufs) {
    buf.writeInt32LE(b.length, o);
    b.copy(buf, o + 4);
    o += 4 + b.length;
  }
  buf.writeInt32LE(-1, o);
  o += 4;
  if (o !== size) throw new Error('tokenizer size mismatch');
  tokenizerCache = { vocab, bytes: buf };
  return buf;
}

export function encodeHeader(offsetConfig: number, offsetTokenizer: number, offsetTensors: number): Buffer {
  for (const v of [offsetConfig, offsetTokenizer, offsetTensors]) {
    if (v > 0x7fffffff) throw new Error('GGMM offsets are int32: header sections must stay under 2 GiB');
  }
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.write(GGMM_MAGIC, 0, 'ascii');
  buf.writeUInt32LE(GGMM_VERSION, 4);
  buf.writeUInt32LE(offsetConfig, 8);
  buf.writeUInt32LE(offsetTokenizer, 12);
  buf.writeUInt32LE(offsetTensors, 16);
  return buf;
}

/**
 * Record header for a tensor whose record starts at absolute offset `fileOffset`,
 * including the zero padding up to the payload's 16-byte-aligned start.
 */
export function encodeTensorHeader(name: string, shape: readonly number[], type: GgmlType, fileOffset: number): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const unpadded = 4 + nameBytes.length + 4 + 4 * shape.length + 4;
  const end = fileOffset + unpadded;
  const pad = (TENSOR_ALIGN - (end % TENSOR_ALIGN)) % TENSOR_ALIGN;
  const buf = Buffer.alloc(unpadded + pad);
  let o = 0;
  buf.writeInt32LE(nameBytes.length, o);
  o += 4;
  nameBytes.copy(buf, o);
  o += nameBytes.length;
  buf.writeInt32LE(shape.length, o);
  o += 4;
  for (const dim of shape) {
    buf.writeInt32LE(dim, o);
    o += 4;
  }
  buf.writeInt32LE(type, o);
  return buf;
}

/** Buffered file writer that hashes everything it writes (sha256) and tracks the position. */
export class HashingFileSink {
  private fd: number;
  private staging: Buffer;
  private used = 0;
  private hash: Hash = createHash('sha256');
  position = 0;

  constructor(path: string, stagingBytes = 8 << 20) {
    this.fd = openSync(path, 'w');
    this.staging = Buffer.allocUnsafe(stagingBytes);
  }

  write(data: Uint8Array): void {
    this.position += data.length;
    if (data.length >= this.staging.length / 2) {
      this.flush();
      this.rawWrite(data);
      return;
    }
    if (this.used + data.length > this.staging.length) this.flush();
    this.staging.set(data, this.used);
    this.used += data.length;
  }

  private rawWrite(data: Uint8Array): void {
    this.hash.update(data);
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
  }

  flush(): void {
    if (this.used > 0) {
      this.rawWrite(this.staging.subarray(0, this.used));
      this.used = 0;
    }
  }

  /** Flushes, fsyncs, closes; returns the hex sha256 of everything written. */
  close(): string {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    return this.hash.digest('hex');
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}
