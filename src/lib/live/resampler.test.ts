import { describe, expect, it } from 'vitest';
import { Resampler } from './resampler';

function sine(freq: number, rate: number, seconds: number, amp = 0.5): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return x;
}

/** Amplitude of the component at `freq` (single-bin DFT over a Hann window, scaled to a sine's amplitude). */
function amplitudeAt(x: Float32Array, freq: number, rate: number): number {
  let re = 0;
  let im = 0;
  let wsum = 0;
  for (let i = 0; i < x.length; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (x.length - 1));
    const a = (2 * Math.PI * freq * i) / rate;
    re += w * x[i] * Math.cos(a);
    im -= w * x[i] * Math.sin(a);
    wsum += w;
  }
  return (2 * Math.hypot(re, im)) / wsum;
}

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

/** Runs `x` through a resampler in uneven blocks (like AudioWorklet batches), then flushes. */
function runStreaming(r: Resampler, x: Float32Array): Float32Array {
  const parts: Float32Array[] = [];
  let at = 0;
  const sizes = [128, 384, 1000, 2048, 7];
  for (let k = 0; at < x.length; k++) {
    const n = sizes[k % sizes.length];
    parts.push(r.process(x.subarray(at, at + n)));
    at += n;
  }
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Zero crossings per second of the middle of `x` (away from the edges). */
function zeroCrossingRate(x: Float32Array, rate: number): number {
  const a = Math.floor(x.length * 0.1);
  const b = Math.floor(x.length * 0.9);
  let n = 0;
  for (let i = a + 1; i < b; i++) if ((x[i - 1] < 0) !== (x[i] < 0)) n++;
  return n / ((b - a) / rate);
}

describe('Resampler', () => {
  it('48 kHz → 16 kHz keeps a 1 kHz sine: length, frequency and amplitude', () => {
    const x = sine(1000, 48000, 1, 0.5);
    const y = runStreaming(new Resampler(48000, 16000), x);
    expect(y.length).toBe(16000);
    const mid = y.subarray(1000, 15000);
    expect(zeroCrossingRate(mid, 16000)).toBeGreaterThan(1990);
    expect(zeroCrossingRate(mid, 16000)).toBeLessThan(2010);
    expect(amplitudeAt(mid, 1000, 16000)).toBeCloseTo(0.5, 2);
    // Peak of a unit-gain filter on a sine stays at its amplitude.
    expect(rms(mid) * Math.SQRT2).toBeCloseTo(0.5, 2);
    // Same samples as the ideal 16 kHz sine (linear phase, no delay).
    const ideal = sine(1000, 16000, 1, 0.5);
    let err = 0;
    for (let i = 1000; i < 15000; i++) err = Math.max(err, Math.abs(y[i] - ideal[i]));
    expect(err).toBeLessThan(0.005);
  });

  it('a 10 kHz tone at 48 kHz does not alias into the 16 kHz output (below -40 dB)', () => {
    const x = sine(10000, 48000, 1, 0.5);
    const y = runStreaming(new Resampler(48000, 16000), x);
    const mid = y.subarray(1000, 15000);
    // 10 kHz would fold to 6 kHz.
    const aliased = amplitudeAt(mid, 6000, 16000);
    expect(20 * Math.log10(aliased / 0.5)).toBeLessThan(-40);
    expect(20 * Math.log10(rms(mid) * Math.SQRT2 / 0.5)).toBeLessThan(-40);
  });

  it('44.1 kHz (fractional ratio) → 16 kHz keeps a 1 kHz sine', () => {
    const x = sine(1000, 44100, 1, 0.8);
    const y = runStreaming(new Resampler(44100, 16000), x);
    expect(y.length).toBe(16000);
    const mid = y.subarray(1000, 15000);
    expect(amplitudeAt(mid, 1000, 16000)).toBeCloseTo(0.8, 2);
    const ideal = sine(1000, 16000, 1, 0.8);
    let err = 0;
    for (let i = 1000; i < 15000; i++) err = Math.max(err, Math.abs(y[i] - ideal[i]));
    expect(err).toBeLessThan(0.005);
  });

  it('block sizes do not change the output', () => {
    const x = sine(440, 48000, 0.3);
    const a = runStreaming(new Resampler(48000), x);
    const r = new Resampler(48000);
    const whole = r.process(x);
    const tail = r.flush();
    const b = new Float32Array(whole.length + tail.length);
    b.set(whole);
    b.set(tail, whole.length);
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-6);
  });

  it('16 kHz → 16 kHz is (nearly) the identity', () => {
    const x = sine(300, 16000, 0.5);
    const y = runStreaming(new Resampler(16000), x);
    expect(y.length).toBe(x.length);
    for (let i = 200; i < x.length - 200; i++) expect(Math.abs(y[i] - x[i])).toBeLessThan(1e-3);
  });
});
