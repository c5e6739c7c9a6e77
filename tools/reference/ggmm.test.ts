import { describe, expect, it } from 'vitest';
import { bf16ToFloat, dequantize, dequantizeRow, GGML_TYPE, halfToFloat, MODEL_TYPE_QWEN3_ASR, MODEL_TYPE_QWEN3_FORCED_ALIGNER, parseGgmm } from './ggmm';
import { floatToBf16, floatToHalf, writeGgmm } from './ggmm-writer';

/** Byte builder used to write GGMM files by hand in these tests (independent of ggmm-writer.ts). */
class Bytes {
  b: number[] = [];
  get pos() {
    return this.b.length;
  }
  u8(...v: number[]) {
    for (const x of v) this.b.push(x & 255);
  }
  i32(v: number) {
    const dv = new DataView(new ArrayBuffer(4));
    dv.setInt32(0, v, true);
    this.u8(...new Uint8Array(dv.buffer));
  }
  u16(v: number) {
    this.u8(v & 255, (v >> 8) & 255);
  }
  f32(v: number) {
    const dv = new DataView(new ArrayBuffer(4));
    dv.setFloat32(0, v, true);
    this.u8(...new Uint8Array(dv.buffer));
  }
  str(s: string) {
    this.u8(...new TextEncoder().encode(s));
  }
  setU32(at: number, v: number) {
    const dv = new DataView(new ArrayBuffer(4));
    dv.setUint32(0, v, true);
    new Uint8Array(dv.buffer).forEach((x, i) => (this.b[at + i] = x));
  }
  out() {
    return Uint8Array.from(this.b);
  }
}

interface HandTensor {
  name: string;
  dims: number[];
  type: number;
  payload: (w: Bytes) => void;
}

// Q4_K block: chosen 6-bit scales and mins for the 8 sub-blocks, packed by hand below.
const Q4K_SC = [1, 2, 3, 4, 17, 5, 6, 33];
const Q4K_M = [0, 1, 2, 3, 4, 20, 0, 7];
const Q4K_SCALE_BYTES = [65, 2, 3, 132, 0, 65, 2, 3, 65, 69, 6, 113];
const q4kLow = (g: number, l: number) => (l + g) % 16;
const q4kHigh = (g: number, l: number) => (l * 3 + g) % 16;

function handFile(opts: { aligner?: boolean; meta?: string; tensors: HandTensor[] }): Uint8Array {
  const w = new Bytes();
  w.str('ggmm');
  w.i32(1);
  w.i32(0);
  w.i32(0);
  w.i32(0);
  w.str(opts.meta ?? '{"config.json":{"thinker_config":{"audio_config":{"d_model":8}}},"model_name":"hand"}');
  while (w.pos % 4) w.u8(0);
  const offConfig = w.pos;
  w.i32(opts.aligner ? MODEL_TYPE_QWEN3_FORCED_ALIGNER : MODEL_TYPE_QWEN3_ASR);
  w.i32(1);
  const base = w.pos;
  const fields = [2, 151936, 1024, 16, 28, 3072, 65536, -1, 151645, 151643, -1, 8, 128];
  for (const f of fields) w.i32(f);
  w.f32(1e6); // rope_theta at 52
  w.f32(-1); // yarn factor at 56
  w.i32(-1); // 60
  w.i32(1); // 64
  w.i32(-1);
  w.i32(-1);
  w.i32(-1);
  w.i32(0); // 80
  w.i32(0); // 84 tie
  for (let k = 0; k < 128; k++) w.i32(0);
  for (const v of [24, 20, 20, 0]) w.i32(v);
  if (opts.aligner) w.i32(1000); // classify_num at 616
  expect(w.pos - base).toBe(opts.aligner ? 620 : 616);
  const offTok = w.pos;
  for (const [piece, type] of [
    ['!', 1],
    ['Ġthe', 1],
    ['ä½ł', 1],
  ] as const) {
    const b = new TextEncoder().encode(piece);
    w.i32(b.length);
    w.u8(...b);
    w.u8(type);
  }
  w.i32(-1);
  for (const m of ['Ġ t', 'h e']) {
    const b = new TextEncoder().encode(m);
    w.i32(b.length);
    w.u8(...b);
  }
  w.i32(-1);
  const offTensors = w.pos;
  for (const t of opts.tensors) {
    w.i32(t.name.length);
    w.str(t.name);
    w.i32(t.dims.length);
    for (const d of t.dims) w.i32(d);
    w.i32(t.type);
    while (w.pos % 16) w.u8(0);
    t.payload(w);
  }
  w.setU32(8, offConfig);
  w.setU32(12, offTok);
  w.setU32(16, offTensors);
  return w.out();
}

const tensorsOfEveryType: HandTensor[] = [
  { name: 'a.f32', dims: [3], type: GGML_TYPE.F32, payload: (w) => [1.5, -2, 3.25].forEach((v) => w.f32(v)) },
  {
    name: 'bb.f16',
    dims: [2, 3],
    type: GGML_TYPE.F16,
    payload: (w) => [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x8000].forEach((v) => w.u16(v)),
  },
  { name: 'ccc.bf16', dims: [3], type: GGML_TYPE.BF16, payload: (w) => [0x3f80, 0xc040, 0x4049].forEach((v) => w.u16(v)) },
  {
    name: 'q4_0.weight',
    dims: [1, 32],
    type: GGML_TYPE.Q4_0,
    payload: (w) => {
      w.u16(0x3800); // d = 0.5
      for (let j = 0; j < 16; j++) w.u8((j & 15) | ((15 - j) << 4));
    },
  },
  {
    name: 'q4_1.w',
    dims: [32],
    type: GGML_TYPE.Q4_1,
    payload: (w) => {
      w.u16(0x3400); // d = 0.25
      w.u16(0xbc00); // m = -1
      for (let j = 0; j < 16; j++) w.u8(j | (((j * 7) % 16) << 4));
    },
  },
  {
    name: 'q8',
    dims: [2, 32],
    type: GGML_TYPE.Q8_0,
    payload: (w) => {
      w.u16(0x4000); // d = 2
      for (let j = 0; j < 32; j++) w.u8(j * 8 - 128);
      w.u16(0xb800); // d = -0.5
      for (let j = 0; j < 32; j++) w.u8(j - 16);
    },
  },
  {
    name: 'q4k',
    dims: [256],
    type: GGML_TYPE.Q4_K,
    payload: (w) => {
      w.u16(0x3c00); // d = 1
      w.u16(0x3800); // dmin = 0.5
      w.u8(...Q4K_SCALE_BYTES);
      for (let g = 0; g < 4; g++) for (let l = 0; l < 32; l++) w.u8(q4kLow(g, l) | (q4kHigh(g, l) << 4));
    },
  },
];

describe('GGMM parsing', () => {
  const bytes = handFile({ tensors: tensorsOfEveryType });
  const f = parseGgmm(bytes);

  it('reads header, metadata, type, config struct and tokenizer section', () => {
    expect(f.version).toBe(1);
    expect(f.meta.model_name).toBe('hand');
    expect(f.meta['config.json'].thinker_config.audio_config.d_model).toBe(8);
    expect(f.modelType).toBe(MODEL_TYPE_QWEN3_ASR);
    expect(f.modelVersion).toBe(1);
    expect(f.config.dtype).toBe(2);
    expect(f.config.vocabSize).toBe(151936);
    expect(f.config.hiddenSize).toBe(1024);
    expect(f.config.numAttentionHeads).toBe(16);
    expect(f.config.numHiddenLayers).toBe(28);
    expect(f.config.intermediateSize).toBe(3072);
    expect(f.config.eosTokenId).toBe(151645);
    expect(f.config.numKeyValueHeads).toBe(8);
    expect(f.config.headDim).toBe(128);
    expect(f.config.ropeTheta).toBe(1e6);
    expect(f.config.yarnFactor).toBe(-1);
    expect(f.config.mropeSection).toEqual([24, 20, 20, 0]);
    expect(f.config.classifyNum).toBeUndefined();
    expect(f.configBytes.length).toBe(616);
    expect(f.vocab.map((v) => v.piece)).toEqual(['!', 'Ġthe', 'ä½ł']);
    expect(f.vocab.every((v) => v.type === 1)).toBe(true);
    expect(f.merges).toEqual(['Ġ t', 'h e']);
  });

  it('reads tensor records with PyTorch-order dims and 16-byte aligned payloads', () => {
    expect([...f.tensors.keys()]).toEqual(tensorsOfEveryType.map((t) => t.name));
    expect(f.tensors.get('bb.f16')!.dims).toEqual([2, 3]);
    expect(f.tensors.get('q8')!.dims).toEqual([2, 32]);
    expect(f.tensors.get('q8')!.nbytes).toBe(68);
    expect(f.tensors.get('q4k')!.nbytes).toBe(144);
    for (const t of f.tensors.values()) expect(t.offset % 16).toBe(0);
  });

  it('dequantises f32, f16 and bf16 exactly', () => {
    expect(Array.from(dequantize(f, 'a.f32'))).toEqual([1.5, -2, 3.25]);
    const h = Array.from(dequantize(f, 'bb.f16'));
    expect(h.slice(0, 5)).toEqual([1, -2, 65504, 2 ** -24, 0.333251953125]);
    expect(Object.is(h[5], -0)).toBe(true);
    expect(Array.from(dequantize(f, 'ccc.bf16'))).toEqual([1, -3, 3.140625]);
  });

  it('q4_0: byte j low nibble = element j, high nibble = element j+16, value (q-8)*d', () => {
    const v = dequantize(f, 'q4_0.weight');
    for (let j = 0; j < 16; j++) {
      expect(v[j]).toBe((j - 8) * 0.5);
      expect(v[j + 16]).toBe((15 - j - 8) * 0.5);
    }
  });

  it('q4_1: value q*d + m with the same nibble order', () => {
    const v = dequantize(f, 'q4_1.w');
    for (let j = 0; j < 16; j++) {
      expect(v[j]).toBe(j * 0.25 - 1);
      expect(v[j + 16]).toBe(((j * 7) % 16) * 0.25 - 1);
    }
  });

  it('q8_0: int8 * d per 32-element block, rows in order', () => {
    const v = dequantize(f, 'q8');
    for (let j = 0; j < 32; j++) {
      expect(v[j]).toBe((j * 8 - 128) * 2);
      expect(v[32 + j]).toBe((j - 16) * -0.5);
    }
    expect(Array.from(dequantizeRow(f, f.tensors.get('q8')!, 1))).toEqual(Array.from(v.slice(32)));
  });

  it('q4_K: 6-bit packed scales/mins, low nibbles then high nibbles per 64-element group', () => {
    const v = dequantize(f, 'q4k');
    for (let sb = 0; sb < 8; sb++) {
      const g = sb >> 1;
      for (let l = 0; l < 32; l++) {
        const q = sb & 1 ? q4kHigh(g, l) : q4kLow(g, l);
        expect(v[32 * sb + l]).toBe(1 * Q4K_SC[sb] * q - 0.5 * Q4K_M[sb]);
      }
    }
  });

  it('reads the aligner config (620 bytes, classify_num at 616)', () => {
    const a = parseGgmm(handFile({ aligner: true, tensors: tensorsOfEveryType.slice(0, 2) }));
    expect(a.modelType).toBe(MODEL_TYPE_QWEN3_FORCED_ALIGNER);
    expect(a.configBytes.length).toBe(620);
    expect(a.config.classifyNum).toBe(1000);
    expect(a.tensors.size).toBe(2);
  });

  it('rejects bad magic, bad version, truncated files and inconsistent offsets', () => {
    const bad = bytes.slice();
    bad[0] = 0x47;
    expect(() => parseGgmm(bad)).toThrow(/magic/);
    const v2 = bytes.slice();
    v2[4] = 2;
    expect(() => parseGgmm(v2)).toThrow(/version/);
    expect(() => parseGgmm(bytes.slice(0, bytes.length - 3))).toThrow(/truncated/);
    const off = bytes.slice();
    new DataView(off.buffer).setUint32(16, 12345, true);
    expect(() => parseGgmm(off)).toThrow(/offset_tensors/);
  });

  it('accepts a Buffer view at a non-zero byte offset', () => {
    const big = new Uint8Array(bytes.length + 7);
    big.set(bytes, 7);
    const g = parseGgmm(big.subarray(7));
    expect(Array.from(dequantize(g, 'a.f32'))).toEqual([1.5, -2, 3.25]);
  });
});

describe('half / bf16 helpers and the test writer', () => {
  it('halfToFloat / floatToHalf round-trip and round to nearest even', () => {
    for (let h = 0; h < 0x10000; h += 7) {
      const v = halfToFloat(h);
      if (Number.isNaN(v)) continue;
      expect(floatToHalf(v)).toBe(h);
    }
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(floatToHalf(70000)).toBe(0x7c00);
    expect(bf16ToFloat(floatToBf16(3.14159))).toBe(3.140625);
  });

  it('writer output parses back (f32/f16/q8_0/q4_0/q4_1 within their quantisation error)', () => {
    const vals = Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.7) * 0.8);
    const file = writeGgmm({
      meta: { x: 1 },
      modelType: MODEL_TYPE_QWEN3_ASR,
      config: { vocabSize: 10 },
      vocab: [{ piece: 'a' }],
      merges: [],
      tensors: [
        { name: 't32', dims: [2, 32], type: GGML_TYPE.F32, data: vals },
        { name: 't16', dims: [64], type: GGML_TYPE.F16, data: vals },
        { name: 'tq8', dims: [2, 32], type: GGML_TYPE.Q8_0, data: vals },
        { name: 'tq4', dims: [2, 32], type: GGML_TYPE.Q4_0, data: vals },
        { name: 'tq41', dims: [2, 32], type: GGML_TYPE.Q4_1, data: vals },
      ],
    });
    const g = parseGgmm(file);
    expect(g.meta).toEqual({ x: 1 });
    const err = (name: string) => Math.max(...Array.from(dequantize(g, name)).map((v, i) => Math.abs(v - vals[i])));
    expect(err('t32')).toBeLessThan(1e-7);
    expect(err('t16')).toBeLessThan(1e-3);
    expect(err('tq8')).toBeLessThan(0.8 / 127);
    expect(err('tq4')).toBeLessThan(0.8 / 8 + 1e-3);
    expect(err('tq41')).toBeLessThan(1.6 / 15);
  });
});
