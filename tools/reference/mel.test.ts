import { describe, expect, it } from 'vitest';
import { frameCount, hannWindow, hzToMel, logMel, melEdgesHz, melFilterbank, melToHz, N_BINS, N_MELS, padShortClip, paddedLength, powerSpectrogram } from './mel';

const BIN_HZ = 8000 / 200; // 40 Hz between FFT bins

describe('Slaney mel scale', () => {
  it('is linear below 1 kHz and logarithmic above', () => {
    expect(hzToMel(0)).toBe(0);
    expect(hzToMel(600)).toBeCloseTo(9, 12); // 3f/200
    expect(hzToMel(1000)).toBeCloseTo(15, 12);
    expect(hzToMel(6400)).toBeCloseTo(15 + 27, 10); // one log step of 6.4 = 27 mel
    expect(hzToMel(8000)).toBeCloseTo(15 + (27 * Math.log(8)) / Math.log(6.4), 10);
    for (const f of [13, 440, 999.9, 1000, 1234.5, 7999]) expect(melToHz(hzToMel(f))).toBeCloseTo(f, 8);
  });

  it('puts 130 edges evenly in mel between 0 and 8000 Hz', () => {
    const e = melEdgesHz();
    expect(e.length).toBe(130);
    expect(e[0]).toBeCloseTo(0, 12);
    expect(e[129]).toBeCloseTo(8000, 8);
    const step = hzToMel(8000) / 129;
    for (let i = 1; i < 130; i++) expect(hzToMel(e[i]) - hzToMel(e[i - 1])).toBeCloseTo(step, 9);
  });
});

describe('mel filterbank', () => {
  const bank = melFilterbank();
  const edges = melEdgesHz();

  it('is 128 x 201, non-negative, and every filter has support', () => {
    expect(bank.length).toBe(N_MELS * N_BINS);
    for (let m = 0; m < N_MELS; m++) {
      let nz = 0;
      for (let k = 0; k < N_BINS; k++) {
        expect(bank[m * N_BINS + k]).toBeGreaterThanOrEqual(0);
        if (bank[m * N_BINS + k] > 0) nz++;
      }
      expect(nz).toBeGreaterThan(0);
    }
  });

  it('is zero outside each triangle and never exceeds the Slaney peak 2/(f[m+2]-f[m])', () => {
    for (let m = 0; m < N_MELS; m++) {
      const peak = 2 / (edges[m + 2] - edges[m]);
      for (let k = 0; k < N_BINS; k++) {
        const f = k * BIN_HZ;
        const w = bank[m * N_BINS + k];
        if (f <= edges[m] || f >= edges[m + 2]) expect(w).toBe(0);
        expect(w).toBeLessThanOrEqual(peak * (1 + 1e-12));
      }
    }
  });

  it('un-normalised triangles form a partition of unity between the first and last centre', () => {
    // Adjacent triangles share edges, so sum_m w[m][k] / peak_m == 1 for f in [f_1, f_128].
    for (let k = 0; k < N_BINS; k++) {
      const f = k * BIN_HZ;
      if (f < edges[1] || f > edges[128]) continue;
      let s = 0;
      for (let m = 0; m < N_MELS; m++) s += bank[m * N_BINS + k] / (2 / (edges[m + 2] - edges[m]));
      expect(s).toBeCloseTo(1, 10);
    }
  });

  it('has unit area (Slaney normalisation) for the wide filters', () => {
    // Riemann sum over 40 Hz bins of a triangle of height 2/(f2-f0) and base (f2-f0) is ~1.
    // (filters wider than ~4 bins; a missing factor 2 or a mel-width normalisation would be off by >= 2x)
    let mean = 0;
    for (let m = 90; m < N_MELS; m++) {
      let s = 0;
      for (let k = 0; k < N_BINS; k++) s += bank[m * N_BINS + k] * BIN_HZ;
      expect(Math.abs(s - 1)).toBeLessThan(0.05);
      mean += s / (N_MELS - 90);
    }
    expect(Math.abs(mean - 1)).toBeLessThan(0.01);
  });

  it('peaks at the bin nearest the centre frequency', () => {
    for (let m = 10; m < N_MELS; m++) {
      let best = 0;
      for (let k = 1; k < N_BINS; k++) if (bank[m * N_BINS + k] > bank[m * N_BINS + best]) best = k;
      expect(Math.abs(best * BIN_HZ - edges[m + 1])).toBeLessThanOrEqual(BIN_HZ / 2 + 1e-9);
    }
  });
});

describe('STFT framing', () => {
  it('periodic Hann of length 400', () => {
    const w = hannWindow();
    expect(w[0]).toBe(0);
    expect(w[200]).toBeCloseTo(1, 15);
    expect(w[100]).toBeCloseTo(0.5, 15);
    expect(w[399]).toBeCloseTo(w[1], 15); // periodic: symmetric around 200, w[400] would be 0
  });

  it('a constant signal gives |X0|^2 = 200^2, |X1|^2 = 100^2 and nothing else in every frame (reflect padding)', () => {
    const x = new Float64Array(16000).fill(1);
    const { T, data } = powerSpectrogram(x);
    expect(T).toBe(100);
    for (const t of [0, 1, 50, 99]) {
      expect(data[0 * T + t]).toBeCloseTo(40000, 6);
      expect(data[1 * T + t]).toBeCloseTo(10000, 6);
      for (let k = 2; k < N_BINS; k++) expect(data[k * T + t]).toBeLessThan(1e-12);
    }
  });

  it('centres frame 0 on sample 0 with a reflection that excludes the edge sample', () => {
    const N = 16000;
    const x = new Float64Array(N);
    for (let i = 0; i < N; i++) x[i] = (i % 977) / 977 - 0.3 + (i < 300 ? i * 0.01 : 0);
    const { T, data } = powerSpectrogram(x);
    const w = hannWindow();
    for (const t of [0, 1, T - 1]) {
      let s = 0;
      for (let n = 0; n < 400; n++) {
        let j = t * 160 + n - 200;
        if (j < 0) j = -j;
        if (j >= N) j = 2 * (N - 1) - j;
        s += w[n] * x[j];
      }
      expect(data[0 * T + t]).toBeCloseTo(s * s, 8);
    }
  });

  it('frame counts: T = floor(N/160) after padding short clips to 8000 samples', () => {
    expect(paddedLength(4800)).toBe(8000);
    expect(paddedLength(8000)).toBe(8000);
    expect(paddedLength(16001)).toBe(16001);
    expect(frameCount(4800)).toBe(50);
    expect(frameCount(4800, false)).toBe(30);
    expect(frameCount(16000)).toBe(100);
    expect(frameCount(88800)).toBe(555);
    expect(frameCount(16159)).toBe(100);
    expect(logMel(new Float32Array(4800)).T).toBe(50);
    expect(logMel(new Float32Array(4800), { padShort: false }).T).toBe(30);
    expect(logMel(new Float32Array(16000)).T).toBe(100);
    expect(logMel(new Float32Array(88800)).T).toBe(555);
  });

  it('padShortClip zero-pads to 8000 and keeps the samples', () => {
    const p = padShortClip(Float32Array.of(0.5, -0.25));
    expect(p.length).toBe(8000);
    expect(p[0]).toBe(0.5);
    expect(p[1]).toBe(-0.25);
    expect(p[7999]).toBe(0);
    expect(padShortClip(new Float64Array(9000)).length).toBe(9000);
  });
});

describe('logMel', () => {
  it('silence gives the constant (log10(1e-10) + 4)/4 = -1.5', () => {
    const m = logMel(new Float32Array(16000));
    expect(m.nMel).toBe(128);
    for (let i = 0; i < m.data.length; i++) expect(m.data[i]).toBe(-1.5);
  });

  it('a 1 kHz sine peaks in the mel bin whose filter responds most at 1 kHz', () => {
    const N = 32000;
    const x = new Float32Array(N);
    for (let i = 0; i < N; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16000);
    const m = logMel(x);
    const bank = melFilterbank();
    let expected = 0;
    for (let b = 0; b < N_MELS; b++) if (bank[b * N_BINS + 25] > bank[expected * N_BINS + 25]) expected = b; // 1000 Hz = bin 25
    // 1 kHz is mel 15; the filter centred nearest to it is 42 (centres every 45.245/129 mel).
    expect(expected).toBe(42);
    for (const t of [10, 100, 190]) {
      let best = 0;
      for (let b = 0; b < N_MELS; b++) if (m.data[b * m.T + t] > m.data[best * m.T + t]) best = b;
      expect(best).toBe(expected);
    }
  });

  it('clamps to max - 8 (in log10 units) over the whole utterance, then (x+4)/4', () => {
    const N = 16000;
    const x = new Float32Array(N);
    for (let i = 0; i < N; i++) x[i] = (i < 8000 ? 0.8 : 1e-4) * Math.sin((2 * Math.PI * 440 * i) / 16000);
    const m = logMel(x);
    let mx = -Infinity;
    let mn = Infinity;
    for (const v of m.data) {
      mx = Math.max(mx, v);
      mn = Math.min(mn, v);
    }
    expect(mn).toBeCloseTo(mx - 2, 12); // 8 log10 units / 4
    // the loud half reaches the max; the quiet half never does
    let quietMax = -Infinity;
    for (let b = 0; b < N_MELS; b++) for (let t = 60; t < m.T; t++) quietMax = Math.max(quietMax, m.data[b * m.T + t]);
    expect(quietMax).toBeLessThan(mx - 0.5);
  });

  it('accepts Float32Array and Float64Array alike', () => {
    const a = new Float32Array(9000);
    for (let i = 0; i < a.length; i++) a[i] = Math.fround(Math.sin(i * 0.1) * 0.3);
    const m1 = logMel(a);
    const m2 = logMel(Float64Array.from(a));
    expect(Array.from(m1.data)).toEqual(Array.from(m2.data));
  });
});
