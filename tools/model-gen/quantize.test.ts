import { describe, expect, it } from 'vitest';

import {
  dequantizeQ4_0,
  dequantizeQ4_1,
  dequantizeQ8_0,
  f16BitsToF32,
  f32ToF16Bits,
  quantizeQ4_0,
  quantizeQ4_1,
  quantizeQ8_0,
  roundHalfEven,
} from './quantize';
import { Rng } from './rng';

const hex = (h: number) => `0x${h.toString(16).padStart(4, '0')}`;

describe('f32 -> f16', () => {
  const cases: [number, number, string][] = [
    [0, 0x0000, 'zero'],
    [-0, 0x8000, 'negative zero'],
    [1, 0x3c00, 'one'],
    [-2, 0xc000, 'minus two'],
    [0.5, 0x3800, 'half'],
    [0.1, 0x2e66, '0.1 rounds down'],
    [1 / 3, 0x3555, 'one third'],
    [65504, 0x7bff, 'largest finite'],
    [65519.99609375, 0x7bff, 'just below the overflow tie'],
    [65520, 0x7c00, 'overflow tie rounds to even = inf'],
    [1e6, 0x7c00, 'overflow'],
    [-1e6, 0xfc00, 'negative overflow'],
    [Infinity, 0x7c00, 'inf'],
    [-Infinity, 0xfc00, '-inf'],
    [2 ** -14, 0x0400, 'smallest normal'],
    [2 ** -14 - 2 ** -24, 0x03ff, 'largest subnormal'],
    [2 ** -14 - 2 ** -25, 0x0400, 'tie between largest subnormal and smallest normal -> even (normal)'],
    [2 ** -24, 0x0001, 'smallest subnormal'],
    [2 ** -25, 0x0000, 'half of the smallest subnormal: tie -> even 0'],
    [2 ** -25 * 1.5, 0x0001, 'above the half-way point'],
    [3 * 2 ** -25, 0x0002, 'tie between subnormals 1 and 2 -> even 2'],
    [5 * 2 ** -25, 0x0002, 'tie between subnormals 2 and 3 -> even 2'],
    [-(2 ** -24), 0x8001, 'negative subnormal'],
    [2 ** -30, 0x0000, 'underflow'],
    [1.401298464324817e-45, 0x0000, 'f32 subnormal'],
    [1 + 2 ** -11, 0x3c00, 'tie -> even mantissa 0'],
    [1 + 3 * 2 ** -11, 0x3c02, 'tie -> even mantissa 2'],
    [1 + 2 ** -11 + 2 ** -23, 0x3c01, 'just above the tie'],
    [2049, 0x6800, '2049 ties to 2048'],
    [2051, 0x6802, '2051 ties to 2052'],
    [2047.75, 0x6800, 'rounding carries into the exponent'],
  ];
  for (const [value, bits, label] of cases) {
    it(`${label}: ${value} -> ${hex(bits)}`, () => {
      expect(hex(f32ToF16Bits(value))).toBe(hex(bits));
    });
  }

  it('NaN stays NaN', () => {
    const h = f32ToF16Bits(NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x03ff).not.toBe(0);
  });

  it('every finite f16 round-trips exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN
      expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
    }
  });

  it('random f32 values go to the nearest f16 (ties to even)', () => {
    const rng = new Rng(7);
    const f = new Float32Array(1);
    for (let i = 0; i < 20000; i++) {
      // log-uniform magnitudes across the whole f16 range and beyond
      const mag = 2 ** (rng.nextFloat() * 44 - 28);
      f[0] = (rng.nextFloat() < 0.5 ? -1 : 1) * mag;
      const x = f[0];
      const h = f32ToF16Bits(x);
      const v = f16BitsToF32(h);
      if (!Number.isFinite(v)) {
        expect(Math.abs(x)).toBeGreaterThanOrEqual(65520);
        continue;
      }
      const err = Math.abs(x - v);
      for (const nb of [h - 1, h + 1]) {
        if ((nb & 0x7fff) > 0x7bff || (nb & 0x7fff) === 0x7fff) continue;
        if (((nb ^ h) & 0x8000) !== 0) continue;
        const e2 = Math.abs(x - f16BitsToF32(nb));
        expect(err).toBeLessThanOrEqual(e2);
        if (err === e2) expect(h & 1).toBe(0);
      }
    }
  });
});

describe('roundHalfEven', () => {
  it('matches torch.round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6, 7.5, 8.5].map(roundHalfEven)).toEqual([
      0, 2, 2, 0, -2, -2, 2, 3, -3, 8, 8,
    ]);
  });
});

/** q4_0 packs element j in the low nibble and j+16 in the high nibble of byte j. */
function packNibbles(q: number[]): number[] {
  const out: number[] = [];
  for (let j = 0; j < 16; j++) out.push(q[j] | (q[j + 16] << 4));
  return out;
}

describe('q4_0', () => {
  it('hand-made block: d = max / -8, round-half-even, exact nibble layout', () => {
    // pick the quants, then build x = (q - 8) * d with d = 0.25; element 5 (-2.0) is the max magnitude
    const q = [9, 3, 15, 8, 12, 0, 7, 1, 14, 10, 6, 11, 4, 13, 5, 2, 8, 9, 10, 11, 12, 13, 14, 15, 1, 2, 3, 4, 5, 6, 7, 8];
    const x = new Float32Array(q.map((v) => (v - 8) * 0.25));
    // ties: x/d + 8 = 2.5 -> 2 (even), 3.5 -> 4 (even)
    x[7] = (2.5 - 8) * 0.25;
    const qExp = [...q];
    qExp[7] = 2;
    x[20] = (3.5 - 8) * 0.25;
    qExp[20] = 4;
    const out = new Uint8Array(18);
    expect(quantizeQ4_0(x, 0, 32, out, 0)).toBe(18);
    // d = -2 / -8 = 0.25 -> f16 0x3400, little-endian
    expect(out[0]).toBe(0x00);
    expect(out[1]).toBe(0x34);
    expect([...out.subarray(2)]).toEqual(packNibbles(qExp));
    // explicit check of one byte: element 0 (q 9) low, element 16 (q 8) high
    expect(out[2]).toBe(0x89);
    const deq = dequantizeQ4_0(out, 0, 32);
    for (let j = 0; j < 32; j++) expect(deq[j]).toBe((qExp[j] - 8) * 0.25);
  });

  it('positive max: d is negative and the opposite extreme clamps to 15', () => {
    const x = new Float32Array(32);
    x[0] = 1; // first maximal magnitude wins: d = 1 / -8 = -0.125
    x[1] = -1; // -1 / -0.125 + 8 = 16 -> clamped to 15
    x[2] = 0.5; // 0.5 / -0.125 + 8 = 4
    const out = new Uint8Array(18);
    quantizeQ4_0(x, 0, 32, out, 0);
    expect(f16BitsToF32(out[0] | (out[1] << 8))).toBe(-0.125);
    expect(out[2] & 0xf).toBe(0);
    expect(out[3] & 0xf).toBe(15);
    expect(out[4] & 0xf).toBe(4);
    expect(out[5] & 0xf).toBe(8); // zeros
  });

  it('all-zero block encodes d = -0 (0 / -8 in f32) and q = 8', () => {
    const out = new Uint8Array(18);
    quantizeQ4_0(new Float32Array(32), 0, 32, out, 0);
    expect([...out]).toEqual([0x00, 0x80, ...new Array(16).fill(0x88)]);
  });

  it('quantise -> dequantise error: half a step, one step for clamped values opposite the max (plus f16 rounding of d)', () => {
    const n = 32 * 4096;
    const x = new Float32Array(n);
    new Rng(3).fillNormal(x, 0, n, 0, 0.05);
    const buf = new Uint8Array((n / 32) * 18);
    quantizeQ4_0(x, 0, n, buf, 0);
    const y = dequantizeQ4_0(buf, 0, n);
    let worst = 0; // error / allowed error
    for (let b = 0; b < n / 32; b++) {
      let amax = 0;
      let max = 0;
      for (let j = 0; j < 32; j++) {
        const v = x[b * 32 + j];
        if (Math.abs(v) > amax) {
          amax = Math.abs(v);
          max = v;
        }
      }
      const step = amax / 8;
      for (let j = 0; j < 32; j++) {
        const v = x[b * 32 + j];
        // the side opposite the signed max only reaches 7 steps: beyond 7.5 steps it is clamped
        const clamped = Math.sign(v) === -Math.sign(max) && Math.abs(v) > 7.5 * step;
        const limit = (clamped ? step : 0.5 * step) * (1 + 16 * 2 ** -11) + 1e-12;
        worst = Math.max(worst, Math.abs(v - y[b * 32 + j]) / limit);
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(worst).toBeGreaterThan(0.9); // the bound is tight
  });
});

describe('q8_0', () => {
  it('hand-made block: d = amax / 127, q = round(x / d)', () => {
    const x = new Float32Array(32);
    for (let j = 0; j < 32; j++) x[j] = (j - 16) * 0.5;
    x[31] = 63.5; // amax -> d = 0.5
    x[30] = 1.25; // 2.5 -> 2 (ties to even)
    x[29] = -1.75; // -3.5 -> -4
    const out = new Uint8Array(34);
    expect(quantizeQ8_0(x, 0, 32, out, 0)).toBe(34);
    expect(f16BitsToF32(out[0] | (out[1] << 8))).toBe(0.5);
    const qs = [...out.subarray(2)].map((v) => (v > 127 ? v - 256 : v));
    const expected = x.slice().map((v) => v / 0.5);
    expected[30] = 2;
    expected[29] = -4;
    expect(qs).toEqual([...expected]);
    expect(qs[31]).toBe(127);
    expect(qs[0]).toBe(-16);
  });

  it('quantise -> dequantise error bound', () => {
    const n = 32 * 4096;
    const x = new Float32Array(n);
    new Rng(4).fillNormal(x, 0, n, 0, 0.05);
    const buf = new Uint8Array((n / 32) * 34);
    quantizeQ8_0(x, 0, n, buf, 0);
    const y = dequantizeQ8_0(buf, 0, n);
    let worst = 0;
    for (let b = 0; b < n / 32; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]));
      const d = amax / 127;
      for (let j = 0; j < 32; j++) {
        worst = Math.max(worst, Math.abs(x[b * 32 + j] - y[b * 32 + j]) / (d * (0.5 + 127 * 2 ** -11) + 1e-12));
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe('q4_1', () => {
  it('hand-made block: d = (max - min) / 15, m = min, nibble layout', () => {
    const q = [0, 15, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15];
    const x = new Float32Array(q.map((v) => -1 + v * 0.125)); // min -1, max 0.875 -> d 0.125
    const out = new Uint8Array(20);
    expect(quantizeQ4_1(x, 0, 32, out, 0)).toBe(20);
    expect(f16BitsToF32(out[0] | (out[1] << 8))).toBe(0.125);
    expect(f16BitsToF32(out[2] | (out[3] << 8))).toBe(-1);
    expect([...out.subarray(4)]).toEqual(packNibbles(q));
    expect([...dequantizeQ4_1(out, 0, 32)]).toEqual([...x]);
  });

  it('quantise -> dequantise error bound', () => {
    const n = 32 * 4096;
    const x = new Float32Array(n);
    new Rng(5).fillNormal(x, 0, n, 0.01, 0.05);
    const buf = new Uint8Array((n / 32) * 20);
    quantizeQ4_1(x, 0, n, buf, 0);
    const y = dequantizeQ4_1(buf, 0, n);
    let worst = 0;
    for (let b = 0; b < n / 32; b++) {
      let mn = Infinity;
      let mx = -Infinity;
      for (let j = 0; j < 32; j++) {
        mn = Math.min(mn, x[b * 32 + j]);
        mx = Math.max(mx, x[b * 32 + j]);
      }
      const d = (mx - mn) / 15;
      for (let j = 0; j < 32; j++) {
        const bound = d * (0.5 + 15 * 2 ** -11) + Math.abs(mn) * 2 ** -11 + 1e-12;
        worst = Math.max(worst, Math.abs(x[b * 32 + j] - y[b * 32 + j]) / bound);
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe('rng', () => {
  it('is deterministic per (seed, name) and differs across names and seeds', () => {
    const a = new Float32Array(64);
    const b = new Float32Array(64);
    Rng.forTensor(1, 'x').fillNormal(a, 0, 64, 0, 1);
    Rng.forTensor(1, 'x').fillNormal(b, 0, 64, 0, 1);
    expect([...a]).toEqual([...b]);
    Rng.forTensor(1, 'y').fillNormal(b, 0, 64, 0, 1);
    expect([...a]).not.toEqual([...b]);
    Rng.forTensor(2, 'x').fillNormal(b, 0, 64, 0, 1);
    expect([...a]).not.toEqual([...b]);
  });

  it('chunked generation equals one-shot generation', () => {
    const a = new Float32Array(1000);
    const b = new Float32Array(1000);
    Rng.forTensor(9, 't').fillNormal(a, 0, 1000, 0, 1);
    const r = Rng.forTensor(9, 't');
    r.fillNormal(b, 0, 300, 0, 1);
    r.fillNormal(b, 300, 700, 0, 1);
    expect([...a]).toEqual([...b]);
  });

  it('fillNormal has the requested mean and standard deviation', () => {
    const n = 1 << 18;
    const x = new Float32Array(n);
    new Rng(11).fillNormal(x, 0, n, 0.5, 2);
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    const std = Math.sqrt(s2 / n - mean * mean);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(std - 2)).toBeLessThan(0.02);
  });
});
