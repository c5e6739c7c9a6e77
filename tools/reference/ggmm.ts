/**
 * Reference GGMM v1 reader (chatllm.cpp container), written from the research note
 * shared/research/chatllm-qwen3-asr.md §1. Deliberately simple: a DataView walk over the bytes,
 * every tensor dequantised to Float64Array on request.
 *
 * Layout (all little-endian):
 *   0  "ggmm" | 4 u32 version (=1) | 8 u32 offset_config | 12 u32 offset_tokenizer | 16 u32 offset_tensors
 *   20 .. offset_config: UTF-8 JSON metadata, NUL-padded
 *   offset_config: i32 model_type, i32 version (=1), raw config struct (616 B ASR / 620 B aligner)
 *   offset_tokenizer: vocab records {i32 len, bytes, u8 type} until len = -1, merges {i32 len, bytes} until -1
 *   offset_tensors: records {i32 name_len, name, i32 ndim, ndim x i32 dims (PyTorch order), i32 ggml type,
 *                           zero pad to absolute offset % 16 == 0, payload} until EOF
 */

export const MODEL_TYPE_QWEN3_ASR = 0x1000010f;
export const MODEL_TYPE_QWEN3_FORCED_ALIGNER = 0x04000002;

export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 8,
  Q4_K: 12,
  BF16: 30,
} as const;

/** Config struct sizes in bytes (without the 8 bytes of model_type + version). */
export const CONFIG_STRUCT_BYTES_ASR = 616;
export const CONFIG_STRUCT_BYTES_ALIGNER = 620;

export interface GgmmConfigStruct {
  dtype: number;
  vocabSize: number;
  hiddenSize: number;
  numAttentionHeads: number;
  numHiddenLayers: number;
  intermediateSize: number;
  maxLength: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number;
  sepTokenId: number;
  numKeyValueHeads: number;
  headDim: number;
  ropeTheta: number;
  yarnFactor: number;
  yarnOriginalMaxPositions: number;
  decoderSparseStep: number;
  moeIntermediateSize: number;
  numExpertsPerTok: number;
  numExperts: number;
  normTopkProb: number;
  tieWordEmbeddings: number;
  layerIsSparse: number[]; // 128 entries
  mropeSection: number[]; // 4 entries
  classifyNum?: number; // aligner only (offset 616)
}

export interface GgmmTensor {
  name: string;
  /** Dims in PyTorch order (outermost first); the last one is contiguous in memory. */
  dims: number[];
  type: number;
  /** Absolute file offset of the payload (multiple of 16). */
  offset: number;
  nbytes: number;
  nelements: number;
}

export interface GgmmFile {
  version: number;
  offsetConfig: number;
  offsetTokenizer: number;
  offsetTensors: number;
  /** Parsed JSON metadata (keys are file names such as "config.json"). */
  meta: Record<string, any>;
  modelType: number;
  modelVersion: number;
  configBytes: Uint8Array;
  config: GgmmConfigStruct;
  vocab: { piece: string; type: number }[];
  merges: string[];
  tensors: Map<string, GgmmTensor>;
  /** The whole file. */
  bytes: Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function toUint8(buf: Uint8Array | ArrayBuffer): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  return new Uint8Array(buf);
}

/** Bytes per block and elements per block of a ggml type. */
export function ggmlTypeInfo(type: number): { blockElems: number; blockBytes: number; name: string } {
  switch (type) {
    case GGML_TYPE.F32:
      return { blockElems: 1, blockBytes: 4, name: 'f32' };
    case GGML_TYPE.F16:
      return { blockElems: 1, blockBytes: 2, name: 'f16' };
    case GGML_TYPE.BF16:
      return { blockElems: 1, blockBytes: 2, name: 'bf16' };
    case GGML_TYPE.Q4_0:
      return { blockElems: 32, blockBytes: 18, name: 'q4_0' };
    case GGML_TYPE.Q4_1:
      return { blockElems: 32, blockBytes: 20, name: 'q4_1' };
    case GGML_TYPE.Q8_0:
      return { blockElems: 32, blockBytes: 34, name: 'q8_0' };
    case GGML_TYPE.Q4_K:
      return { blockElems: 256, blockBytes: 144, name: 'q4_k' };
    default:
      throw new Error(`unsupported ggml type id ${type}`);
  }
}

export function ggmlNBytes(type: number, dims: number[]): number {
  const { blockElems, blockBytes } = ggmlTypeInfo(type);
  const n = dims.reduce((a, b) => a * b, 1);
  const rowLen = dims.length ? dims[dims.length - 1] : 1;
  if (rowLen % blockElems !== 0) {
    throw new Error(`row length ${rowLen} is not a multiple of the block size ${blockElems} of type ${type}`);
  }
  return (n / blockElems) * blockBytes;
}

/** IEEE half (as a 16-bit integer) to number. */
export function halfToFloat(h: number): number {
  const sign = (h >> 15) & 1;
  const exp = (h >> 10) & 0x1f;
  const man = h & 0x3ff;
  let v: number;
  if (exp === 0) v = man * 2 ** -24;
  else if (exp === 31) v = man === 0 ? Infinity : NaN;
  else v = (1 + man / 1024) * 2 ** (exp - 15);
  return sign ? -v : v;
}

let halfLut: Float64Array | null = null;
/** All 65536 half values (same results as halfToFloat, just faster for big tensors). */
function halfTable(): Float64Array {
  if (!halfLut) {
    halfLut = new Float64Array(65536);
    for (let h = 0; h < 65536; h++) halfLut[h] = halfToFloat(h);
  }
  return halfLut;
}

/** bfloat16 (as a 16-bit integer) to number: the top 16 bits of an IEEE float32. */
export function bf16ToFloat(h: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, (h & 0xffff) << 16 >>> 0, true);
  return dv.getFloat32(0, true);
}

class Reader {
  pos: number;
  constructor(
    readonly dv: DataView,
    pos: number,
  ) {
    this.pos = pos;
  }
  need(n: number, what: string): void {
    if (this.pos + n > this.dv.byteLength) {
      throw new Error(`GGMM: truncated file while reading ${what} at offset ${this.pos}`);
    }
  }
  i32(what = 'int32'): number {
    this.need(4, what);
    const v = this.dv.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u32(what = 'uint32'): number {
    this.need(4, what);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u8(what = 'uint8'): number {
    this.need(1, what);
    const v = this.dv.getUint8(this.pos);
    this.pos += 1;
    return v;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = new Uint8Array(this.dv.buffer, this.dv.byteOffset + this.pos, n);
    this.pos += n;
    return b;
  }
}

function parseConfigStruct(dv: DataView, base: number, size: number): GgmmConfigStruct {
  const i = (off: number) => dv.getInt32(base + off, true);
  const f = (off: number) => dv.getFloat32(base + off, true);
  const layerIsSparse: number[] = [];
  for (let k = 0; k < 128; k++) layerIsSparse.push(i(88 + 4 * k));
  const mropeSection: number[] = [];
  for (let k = 0; k < 4; k++) mropeSection.push(i(600 + 4 * k));
  const cfg: GgmmConfigStruct = {
    dtype: i(0),
    vocabSize: i(4),
    hiddenSize: i(8),
    numAttentionHeads: i(12),
    numHiddenLayers: i(16),
    intermediateSize: i(20),
    maxLength: i(24),
    bosTokenId: i(28),
    eosTokenId: i(32),
    padTokenId: i(36),
    sepTokenId: i(40),
    numKeyValueHeads: i(44),
    headDim: i(48),
    ropeTheta: f(52),
    yarnFactor: f(56),
    yarnOriginalMaxPositions: i(60),
    decoderSparseStep: i(64),
    moeIntermediateSize: i(68),
    numExpertsPerTok: i(72),
    numExperts: i(76),
    normTopkProb: i(80),
    tieWordEmbeddings: i(84),
    layerIsSparse,
    mropeSection,
  };
  if (size >= 620) cfg.classifyNum = i(616);
  return cfg;
}

/** Parse a GGMM v1 file. Throws with a clear message on any structural problem. */
export function parseGgmm(input: Uint8Array | ArrayBuffer): GgmmFile {
  const bytes = toUint8(input);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 20) throw new Error('GGMM: file too short');
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== 'ggmm') throw new Error(`GGMM: bad magic "${magic}"`);
  const r = new Reader(dv, 4);
  const version = r.u32('version');
  if (version !== 1) throw new Error(`GGMM: unsupported container version ${version}`);
  const offsetConfig = r.u32('offset_config');
  const offsetTokenizer = r.u32('offset_tokenizer');
  const offsetTensors = r.u32('offset_tensors');
  if (offsetConfig < 20 || offsetConfig + 8 > bytes.byteLength) throw new Error(`GGMM: bad offset_config ${offsetConfig}`);

  // JSON metadata, NUL padded.
  let metaEnd = offsetConfig;
  while (metaEnd > 20 && bytes[metaEnd - 1] === 0) metaEnd--;
  const metaText = utf8.decode(bytes.subarray(20, metaEnd));
  const meta = metaText.length ? JSON.parse(metaText) : {};

  r.pos = offsetConfig;
  const modelType = r.i32('model_type');
  const modelVersion = r.i32('model version');
  let structSize: number;
  if (modelType === MODEL_TYPE_QWEN3_ASR) structSize = CONFIG_STRUCT_BYTES_ASR;
  else if (modelType === MODEL_TYPE_QWEN3_FORCED_ALIGNER) structSize = CONFIG_STRUCT_BYTES_ALIGNER;
  else throw new Error(`GGMM: unknown model type 0x${(modelType >>> 0).toString(16)}`);
  if (modelVersion !== 1) throw new Error(`GGMM: model version ${modelVersion}, expected 1`);
  const structBase = r.pos;
  const configBytes = r.bytes(structSize, 'config struct').slice();
  const config = parseConfigStruct(dv, structBase, structSize);
  if (offsetTokenizer !== 0 && offsetTokenizer !== r.pos) {
    throw new Error(`GGMM: offset_tokenizer ${offsetTokenizer} != end of config struct ${r.pos}`);
  }

  // Tokenizer: vocab then merges, each terminated by a negative length.
  const vocab: { piece: string; type: number }[] = [];
  for (;;) {
    const len = r.i32('vocab record length');
    if (len < 0) break;
    const piece = utf8.decode(r.bytes(len, 'vocab piece'));
    const type = r.u8('vocab type');
    vocab.push({ piece, type });
  }
  const merges: string[] = [];
  for (;;) {
    const len = r.i32('merge record length');
    if (len < 0) break;
    merges.push(utf8.decode(r.bytes(len, 'merge')));
  }
  if (offsetTensors !== 0 && offsetTensors !== r.pos) {
    throw new Error(`GGMM: offset_tensors ${offsetTensors} != end of tokenizer section ${r.pos}`);
  }

  const tensors = new Map<string, GgmmTensor>();
  while (r.pos < bytes.byteLength) {
    const nameLen = r.i32('tensor name length');
    if (nameLen <= 0) throw new Error(`GGMM: bad tensor name length ${nameLen} at ${r.pos - 4}`);
    const name = utf8.decode(r.bytes(nameLen, 'tensor name'));
    const ndim = r.i32('ndim');
    if (ndim < 1 || ndim > 4) throw new Error(`GGMM: tensor ${name} has ndim ${ndim}`);
    const dims: number[] = [];
    for (let k = 0; k < ndim; k++) {
      const d = r.i32('dim');
      if (d <= 0) throw new Error(`GGMM: tensor ${name} has dim ${d}`);
      dims.push(d);
    }
    const type = r.i32('type');
    const nbytes = ggmlNBytes(type, dims);
    const offset = Math.ceil(r.pos / 16) * 16; // absolute 16-byte alignment
    r.pos = offset;
    r.need(nbytes, `payload of ${name}`);
    r.pos += nbytes;
    if (tensors.has(name)) throw new Error(`GGMM: duplicate tensor ${name}`);
    tensors.set(name, { name, dims, type, offset, nbytes, nelements: dims.reduce((a, b) => a * b, 1) });
  }

  return {
    version,
    offsetConfig,
    offsetTokenizer,
    offsetTensors,
    meta,
    modelType,
    modelVersion,
    configBytes,
    config,
    vocab,
    merges,
    tensors,
    bytes,
  };
}

/**
 * Dequantise elements [start, start + count) of a tensor (flat index in PyTorch row-major order).
 * start and count must be multiples of the block size for block types (rows always are).
 */
export function dequantizeRange(file: GgmmFile, t: GgmmTensor, start: number, count: number, out?: Float64Array): Float64Array {
  const res = out ?? new Float64Array(count);
  const { blockElems, blockBytes } = ggmlTypeInfo(t.type);
  if (start % blockElems !== 0 || count % blockElems !== 0) throw new Error('dequantizeRange: unaligned range');
  if (start < 0 || start + count > t.nelements) throw new Error('dequantizeRange: out of range');
  const b = file.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const half = halfTable();
  const firstBlock = start / blockElems;
  const nBlocks = count / blockElems;
  for (let blk = 0; blk < nBlocks; blk++) {
    const p = t.offset + (firstBlock + blk) * blockBytes;
    const o = blk * blockElems;
    switch (t.type) {
      case GGML_TYPE.F32:
        res[o] = dv.getFloat32(p, true);
        break;
      case GGML_TYPE.F16:
        res[o] = half[dv.getUint16(p, true)];
        break;
      case GGML_TYPE.BF16:
        res[o] = bf16ToFloat(dv.getUint16(p, true));
        break;
      case GGML_TYPE.Q4_0: {
        const d = halfToFloat(dv.getUint16(p, true));
        for (let j = 0; j < 16; j++) {
          const q = b[p + 2 + j];
          res[o + j] = ((q & 15) - 8) * d;
          res[o + j + 16] = ((q >> 4) - 8) * d;
        }
        break;
      }
      case GGML_TYPE.Q4_1: {
        const d = halfToFloat(dv.getUint16(p, true));
        const m = halfToFloat(dv.getUint16(p + 2, true));
        for (let j = 0; j < 16; j++) {
          const q = b[p + 4 + j];
          res[o + j] = (q & 15) * d + m;
          res[o + j + 16] = (q >> 4) * d + m;
        }
        break;
      }
      case GGML_TYPE.Q8_0: {
        const d = halfToFloat(dv.getUint16(p, true));
        for (let j = 0; j < 32; j++) res[o + j] = dv.getInt8(p + 2 + j) * d;
        break;
      }
      case GGML_TYPE.Q4_K: {
        const d = halfToFloat(dv.getUint16(p, true));
        const dmin = halfToFloat(dv.getUint16(p + 2, true));
        const s = (k: number) => b[p + 4 + k];
        const qs = p + 16;
        for (let sb = 0; sb < 8; sb++) {
          let sc: number;
          let mn: number;
          if (sb < 4) {
            sc = s(sb) & 63;
            mn = s(sb + 4) & 63;
          } else {
            sc = (s(sb + 4) & 0xf) | ((s(sb - 4) >> 6) << 4);
            mn = (s(sb + 4) >> 4) | ((s(sb) >> 6) << 4);
          }
          const g = sb >> 1;
          const high = sb & 1;
          for (let l = 0; l < 32; l++) {
            const byte = b[qs + 32 * g + l];
            const q = high ? byte >> 4 : byte & 15;
            res[o + 32 * sb + l] = d * sc * q - dmin * mn;
          }
        }
        break;
      }
      default:
        throw new Error(`unsupported ggml type ${t.type}`);
    }
  }
  return res;
}

/** Dequantise a whole tensor to float64 (PyTorch row-major order). */
export function dequantize(file: GgmmFile, nameOrTensor: string | GgmmTensor): Float64Array {
  const t = typeof nameOrTensor === 'string' ? file.tensors.get(nameOrTensor) : nameOrTensor;
  if (!t) throw new Error(`GGMM: no tensor named ${String(nameOrTensor)}`);
  return dequantizeRange(file, t, 0, t.nelements);
}

/** Dequantise one row (last PyTorch dim) of a tensor. */
export function dequantizeRow(file: GgmmFile, t: GgmmTensor, row: number, out?: Float64Array): Float64Array {
  const rowLen = t.dims[t.dims.length - 1];
  const rows = t.nelements / rowLen;
  if (row < 0 || row >= rows || !Number.isInteger(row)) throw new Error(`row ${row} out of range for ${t.name} (${rows} rows)`);
  return dequantizeRange(file, t, row * rowLen, rowLen, out);
}
