/**
 * Minimal GGMM v1 writer for the reference's own tests (layout of chatllm-qwen3-asr.md §1).
 * Not the project's model generator (that is tools/model-gen); this exists so the reference can be tested
 * on tiny hand-built files without depending on it.
 */
import { CONFIG_STRUCT_BYTES_ALIGNER, CONFIG_STRUCT_BYTES_ASR, GGML_TYPE, MODEL_TYPE_QWEN3_FORCED_ALIGNER, type GgmmConfigStruct } from './ggmm';

export interface WriterTensor {
  name: string;
  /** PyTorch order. */
  dims: number[];
  type: number;
  /** Values to encode (f32, f16, bf16, q4_0, q4_1, q8_0), or... */
  data?: ArrayLike<number>;
  /** ...the payload bytes exactly as stored. */
  raw?: Uint8Array;
}

export interface WriterInput {
  meta: Record<string, unknown>;
  modelType: number;
  config: Partial<GgmmConfigStruct>;
  vocab?: { piece: string; type?: number }[];
  merges?: string[];
  tensors: WriterTensor[];
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** number → IEEE half bits, round to nearest even. */
export function floatToHalf(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) {
    const m = roundHalfEven(a / 2 ** -24); // may round up to 1024 = smallest normal, which is the right bits
    return sign | m;
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

/** number → bfloat16 bits (float32 first, then round to nearest even on the top 16 bits). */
export function floatToBf16(v: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v, true);
  const u = dv.getUint32(0, true);
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return 0x7fc0;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

class ByteSink {
  private chunks: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  i32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    this.push(b);
  }
  u8(v: number): void {
    this.push(Uint8Array.of(v));
  }
  zeros(n: number): void {
    this.push(new Uint8Array(n));
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export function encodeConfigStruct(cfg: Partial<GgmmConfigStruct>, aligner: boolean): Uint8Array {
  const size = aligner ? CONFIG_STRUCT_BYTES_ALIGNER : CONFIG_STRUCT_BYTES_ASR;
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  const i = (off: number, v: number | undefined, d: number) => dv.setInt32(off, v ?? d, true);
  i(0, cfg.dtype, 0);
  i(4, cfg.vocabSize, 0);
  i(8, cfg.hiddenSize, 0);
  i(12, cfg.numAttentionHeads, 0);
  i(16, cfg.numHiddenLayers, 0);
  i(20, cfg.intermediateSize, 0);
  i(24, cfg.maxLength, 65536);
  i(28, cfg.bosTokenId, -1);
  i(32, cfg.eosTokenId, -1);
  i(36, cfg.padTokenId, -1);
  i(40, cfg.sepTokenId, -1);
  i(44, cfg.numKeyValueHeads, 0);
  i(48, cfg.headDim, 0);
  dv.setFloat32(52, cfg.ropeTheta ?? 1e6, true);
  dv.setFloat32(56, cfg.yarnFactor ?? -1, true);
  i(60, cfg.yarnOriginalMaxPositions, -1);
  i(64, cfg.decoderSparseStep, 1);
  i(68, cfg.moeIntermediateSize, -1);
  i(72, cfg.numExpertsPerTok, -1);
  i(76, cfg.numExperts, -1);
  i(80, cfg.normTopkProb, 0);
  i(84, cfg.tieWordEmbeddings, 0);
  for (let k = 0; k < 128; k++) i(88 + 4 * k, cfg.layerIsSparse?.[k], 0);
  const mr = cfg.mropeSection ?? [24, 20, 20, 0];
  for (let k = 0; k < 4; k++) i(600 + 4 * k, mr[k], 0);
  if (aligner) i(616, cfg.classifyNum, 5000);
  return b;
}

function quantize(type: number, data: ArrayLike<number>, dims: number[]): Uint8Array {
  const n = data.length;
  const expected = dims.reduce((a, b) => a * b, 1);
  if (n !== expected) throw new Error(`writer: ${n} values for dims ${dims.join('x')}`);
  switch (type) {
    case GGML_TYPE.F32: {
      const b = new Uint8Array(4 * n);
      const dv = new DataView(b.buffer);
      for (let k = 0; k < n; k++) dv.setFloat32(4 * k, data[k], true);
      return b;
    }
    case GGML_TYPE.F16:
    case GGML_TYPE.BF16: {
      const b = new Uint8Array(2 * n);
      const dv = new DataView(b.buffer);
      for (let k = 0; k < n; k++) dv.setUint16(2 * k, type === GGML_TYPE.F16 ? floatToHalf(data[k]) : floatToBf16(data[k]), true);
      return b;
    }
    case GGML_TYPE.Q8_0:
    case GGML_TYPE.Q4_0:
    case GGML_TYPE.Q4_1: {
      if (n % 32 !== 0) throw new Error('writer: not a multiple of 32');
      const bs = type === GGML_TYPE.Q8_0 ? 34 : type === GGML_TYPE.Q4_0 ? 18 : 20;
      const b = new Uint8Array((n / 32) * bs);
      const dv = new DataView(b.buffer);
      for (let blk = 0; blk < n / 32; blk++) {
        const p = blk * bs;
        const x = Array.from({ length: 32 }, (_, j) => data[blk * 32 + j]);
        if (type === GGML_TYPE.Q8_0) {
          const amax = Math.max(...x.map(Math.abs));
          const d = amax / 127;
          dv.setUint16(p, floatToHalf(d), true);
          for (let j = 0; j < 32; j++) dv.setInt8(p + 2 + j, d === 0 ? 0 : Math.max(-128, Math.min(127, roundHalfEven(x[j] / d))));
        } else if (type === GGML_TYPE.Q4_0) {
          let mx = 0;
          for (const v of x) if (Math.abs(v) > Math.abs(mx)) mx = v;
          const d = mx / -8;
          dv.setUint16(p, floatToHalf(d), true);
          const q = x.map((v) => (d === 0 ? 8 : Math.max(0, Math.min(15, roundHalfEven(v / d + 8)))));
          for (let j = 0; j < 16; j++) b[p + 2 + j] = q[j] | (q[j + 16] << 4);
        } else {
          const mn = Math.min(...x);
          const mx = Math.max(...x);
          const d = (mx - mn) / 15;
          dv.setUint16(p, floatToHalf(d), true);
          dv.setUint16(p + 2, floatToHalf(mn), true);
          const q = x.map((v) => (d === 0 ? 0 : Math.max(0, Math.min(15, roundHalfEven((v - mn) / d)))));
          for (let j = 0; j < 16; j++) b[p + 4 + j] = q[j] | (q[j + 16] << 4);
        }
      }
      return b;
    }
    default:
      throw new Error(`writer: cannot encode type ${type}; pass raw bytes`);
  }
}

export function writeGgmm(input: WriterInput): Uint8Array {
  const aligner = input.modelType === MODEL_TYPE_QWEN3_FORCED_ALIGNER;
  const enc = new TextEncoder();
  const out = new ByteSink();
  out.push(enc.encode('ggmm'));
  out.i32(1);
  out.zeros(12); // offsets, patched below
  const metaBytes = enc.encode(JSON.stringify(input.meta));
  out.push(metaBytes);
  out.zeros((4 - (metaBytes.length % 4)) % 4);
  const offsetConfig = out.length;
  out.i32(input.modelType);
  out.i32(1);
  out.push(encodeConfigStruct(input.config, aligner));
  const offsetTokenizer = out.length;
  for (const v of input.vocab ?? []) {
    const b = enc.encode(v.piece);
    out.i32(b.length);
    out.push(b);
    out.u8(v.type ?? 1);
  }
  out.i32(-1);
  for (const m of input.merges ?? []) {
    const b = enc.encode(m);
    out.i32(b.length);
    out.push(b);
  }
  out.i32(-1);
  const offsetTensors = out.length;
  for (const t of input.tensors) {
    const name = enc.encode(t.name);
    out.i32(name.length);
    out.push(name);
    out.i32(t.dims.length);
    for (const d of t.dims) out.i32(d);
    out.i32(t.type);
    out.zeros((16 - (out.length % 16)) % 16);
    out.push(t.raw ?? quantize(t.type, t.data ?? [], t.dims));
  }
  const bytes = out.concat();
  const dv = new DataView(bytes.buffer);
  dv.setUint32(8, offsetConfig, true);
  dv.setUint32(12, offsetTokenizer, true);
  dv.setUint32(16, offsetTensors, true);
  return bytes;
}
