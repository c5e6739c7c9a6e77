import { describe, expect, it } from 'vitest';
import { erf, gelu, geluTanh, layerNorm, linear, rmsNorm, ropeInPlace, sinusoidTable, softmaxInPlace } from './numerics';
import { audioTokenCount, conv2dStride2, convOutLen, convOutLen3 } from './model';

describe('erf', () => {
  // Values of the C library's erf (glibc, correctly rounded to ~1 ulp).
  const table: [number, number][] = [
    [0, 0],
    [1e-6, 1.1283791670951364e-6],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [1.5, 0.9661051464753108],
    [2, 0.9953222650189527],
    [2.5, 0.999593047982555],
    [3, 0.9999779095030014],
    [3.5, 0.9999992569016276],
    [4, 0.9999999845827421],
    [5, 0.9999999999984626],
    [6, 1],
    [-0.7, -0.6778011938374184],
  ];
  it('matches reference values to < 1e-14', () => {
    for (const [x, e] of table) {
      expect(Math.abs(erf(x) - e)).toBeLessThan(1e-14);
      expect(Math.abs(erf(-x) + e)).toBeLessThan(1e-14);
    }
  });
  it('is smooth and monotone across the series / continued-fraction switch at 2.5', () => {
    let prev = erf(2.4);
    for (let x = 2.4; x <= 2.6; x += 1e-4) {
      const v = erf(x);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
    // derivative 2/sqrt(pi) exp(-x^2)
    const h = 1e-5;
    const d = (erf(2.5 + h) - erf(2.5 - h)) / (2 * h);
    expect(d).toBeCloseTo((2 / Math.sqrt(Math.PI)) * Math.exp(-6.25), 8);
  });
  it('exact GELU uses erf; the tanh form differs by ~1e-3 or less', () => {
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(gelu(-3)).toBeCloseTo(-0.00404969409489031, 15);
    expect(gelu(0)).toBe(0);
    const diff = Math.abs(gelu(1.2) - geluTanh(1.2));
    expect(diff).toBeGreaterThan(1e-6);
    expect(diff).toBeLessThan(2e-3);
  });
});

describe('sinusoid table (encoder positions)', () => {
  it('sines first, cosines second, inc = ln(10000)/(D/2 - 1)', () => {
    const D = 16;
    const t = sinusoidTable(13, D);
    for (let i = 0; i < 8; i++) {
      expect(t[i]).toBe(0); // row 0: sin 0
      expect(t[8 + i]).toBe(1); // row 0: cos 0
    }
    for (const p of [1, 5, 12]) {
      expect(t[p * D + 0]).toBeCloseTo(Math.sin(p), 15); // omega_0 = 1
      expect(t[p * D + 8]).toBeCloseTo(Math.cos(p), 15);
      expect(t[p * D + 7]).toBeCloseTo(Math.sin(p * 1e-4), 15); // omega_{D/2-1} = 1/10000 exactly
      expect(t[p * D + 15]).toBeCloseTo(Math.cos(p * 1e-4), 15);
      expect(t[p * D + 3]).toBeCloseTo(Math.sin(p * Math.pow(10000, -3 / 7)), 14);
    }
  });
});

describe('rotate-half RoPE', () => {
  it('pairs dimension i with i + headDim/2 and uses theta^(-2i/headDim)', () => {
    const hd = 8;
    const v = new Float64Array(hd);
    v[0] = 1;
    ropeInPlace(v, 0, 1, hd, 3, 1e6);
    expect(v[0]).toBeCloseTo(Math.cos(3), 15);
    expect(v[4]).toBeCloseTo(Math.sin(3), 15);
    const w = new Float64Array(hd);
    w[1 + 4] = 1; // second half of pair 1
    ropeInPlace(w, 0, 1, hd, 7, 1e6);
    const ang = 7 * Math.pow(1e6, -2 / 8);
    expect(w[1]).toBeCloseTo(-Math.sin(ang), 15);
    expect(w[5]).toBeCloseTo(Math.cos(ang), 15);
  });
  it('q.k depends only on the relative position', () => {
    const hd = 16;
    const q = Float64Array.from({ length: hd }, (_, i) => Math.sin(i * 1.3 + 0.2));
    const k = Float64Array.from({ length: hd }, (_, i) => Math.cos(i * 0.7 - 0.5));
    const score = (pq: number, pk: number) => {
      const a = q.slice();
      const b = k.slice();
      ropeInPlace(a, 0, 1, hd, pq, 1e6);
      ropeInPlace(b, 0, 1, hd, pk, 1e6);
      return a.reduce((s, x, i) => s + x * b[i], 0);
    };
    expect(score(10, 3)).toBeCloseTo(score(107, 100), 10);
    expect(score(10, 3)).not.toBeCloseTo(score(10, 4), 3);
  });
});

describe('norms, linear, softmax', () => {
  it('LayerNorm uses the biased variance and eps inside the sqrt', () => {
    const y = layerNorm(Float64Array.of(1, 2, 3, 6), 1, 4, Float64Array.of(1, 1, 2, 1), Float64Array.of(0, 0, 0, 0.5), 1e-5);
    const mean = 3;
    const v = (4 + 1 + 0 + 9) / 4;
    const inv = 1 / Math.sqrt(v + 1e-5);
    expect(Array.from(y)).toEqual([(1 - mean) * inv, (2 - mean) * inv, 0, (6 - mean) * inv + 0.5]);
  });
  it('RMSNorm multiplies by the weight as-is (not 1 + w)', () => {
    const y = rmsNorm(Float64Array.of(3, 4, 0, 0, 1, 1), 2, Float64Array.of(2, 0.5), 1e-6);
    const r1 = Math.sqrt(12.5 + 1e-6);
    expect(y[0]).toBeCloseTo((3 / r1) * 2, 14);
    expect(y[1]).toBeCloseTo((4 / r1) * 0.5, 14);
    expect(y[2]).toBe(0);
    expect(y[4]).toBeCloseTo((1 / Math.sqrt(1 + 1e-6)) * 2, 14);
  });
  it('linear is x W^T + b with W stored [out][in]', () => {
    const y = linear(Float64Array.of(1, 2), 1, 2, Float64Array.of(1, 0, 0, 1, 1, 1), 3, Float64Array.of(0, 0, 10));
    expect(Array.from(y)).toEqual([1, 2, 13]);
  });
  it('softmax is shift-invariant and sums to 1', () => {
    const v = Float64Array.of(1000, 1001, 999);
    softmaxInPlace(v);
    expect(v[0] + v[1] + v[2]).toBeCloseTo(1, 15);
    expect(v[1] / v[0]).toBeCloseTo(Math.E, 12);
  });
});

describe('convolution stem geometry', () => {
  it('3x3 stride-2 pad-1: 128→64→32→16, 100→50→25→13, tokens = 13/chunk + ceil(r/8)', () => {
    expect([convOutLen(128), convOutLen(64), convOutLen(32)]).toEqual([64, 32, 16]);
    expect([convOutLen(100), convOutLen(50), convOutLen(25)]).toEqual([50, 25, 13]);
    for (let r = 1; r <= 100; r++) expect(convOutLen3(r)).toBe(Math.ceil(r / 8));
    expect(audioTokenCount(30)).toBe(4);
    expect(audioTokenCount(50)).toBe(7);
    expect(audioTokenCount(100)).toBe(13);
    expect(audioTokenCount(555)).toBe(72);
    expect(audioTokenCount(800)).toBe(104);
    expect(audioTokenCount(1000)).toBe(130);
    expect(audioTokenCount(3000)).toBe(390);
    expect(audioTokenCount(120000)).toBe(15600);
  });

  it('kernel index ky runs over H (frequency) and kx over W (time), centred on 2y, 2x', () => {
    const w = Float64Array.from({ length: 9 }, (_, i) => i + 1); // w[ky][kx] = 3ky + kx + 1
    // delta at (2,2): only output (1,1) sees it, through the kernel centre
    const a = new Float64Array(25);
    a[2 * 5 + 2] = 1;
    const ra = conv2dStride2(a, 1, 5, 5, w, Float64Array.of(0.5), 1);
    expect([ra.H, ra.W]).toEqual([3, 3]);
    expect(Array.from(ra.data)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5 + 5, 0.5, 0.5, 0.5, 0.5]);
    // delta at (1,0): outputs (0,0) via (ky=2,kx=1) and (1,0) via (ky=0,kx=1)
    const b = new Float64Array(25);
    b[1 * 5 + 0] = 1;
    const rb = conv2dStride2(b, 1, 5, 5, w, Float64Array.of(0), 1);
    expect(Array.from(rb.data)).toEqual([8, 0, 0, 2, 0, 0, 0, 0, 0]);
    // non-square: H=4, W=6 → 2 x 3; delta at (0,5): output (0,2) via (ky=1,kx=2)
    const c = new Float64Array(24);
    c[0 * 6 + 5] = 1;
    const rc = conv2dStride2(c, 1, 4, 6, w, Float64Array.of(0), 1);
    expect([rc.H, rc.W]).toEqual([2, 3]);
    expect(Array.from(rc.data)).toEqual([0, 0, 6, 0, 0, 0]);
  });

  it('sums over input channels with weight layout [cout][cin][3][3]', () => {
    const cin = 2;
    const cout = 2;
    const w = new Float64Array(cout * cin * 9);
    w[(1 * cin + 0) * 9 + 4] = 2; // out 1 <- in 0, centre
    w[(1 * cin + 1) * 9 + 4] = -3; // out 1 <- in 1, centre
    w[(0 * cin + 1) * 9 + 0] = 7; // out 0 <- in 1, top-left
    const x = new Float64Array(cin * 9);
    x[0 * 9 + 4] = 1; // in 0 at (1,1)
    x[1 * 9 + 4] = 10; // in 1 at (1,1)
    const r = conv2dStride2(x, cin, 3, 3, w, Float64Array.of(0, 0), cout);
    expect([r.H, r.W]).toEqual([2, 2]);
    // outputs sit at input (0,0), (0,2), (2,0), (2,2); input (1,1) is reached only by output (1,1) through
    // its top-left tap (2*1+0-1 = 1): out 0 at (1,1) = 7 * 10, and out 1's centre taps miss it
    expect(r.data[0 * 4 + 3]).toBe(70);
    expect(r.data[1 * 4 + 0]).toBe(0);
    const y = new Float64Array(cin * 9);
    y[0 * 9 + 0] = 1;
    y[1 * 9 + 0] = 10;
    const r2 = conv2dStride2(y, cin, 3, 3, w, Float64Array.of(0, 0), cout);
    expect(r2.data[1 * 4 + 0]).toBe(2 - 30); // out 1 (0,0): centre taps of both inputs at (0,0)
  });
});
