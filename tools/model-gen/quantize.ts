/**
 * f32 -> f16 conversion and the block quantisers used by chatllm.cpp's convert.py
 * (q4_0, q4_1, q8_0), plus the matching dequantisers (used by tests and readers).
 *
 * Arithmetic is done the way PyTorch does it on float32 tensors: every intermediate
 * result is rounded to f32 (Math.fround; for +, -, *, / a double result rounded to f32
 * equals the correctly rounded f32 result), and `round` is round-half-to-even.
 *
 * Block layouts (all little-endian):
 *   q4_0: f16 d, 16 bytes qs; byte j = q[j] | q[j+16] << 4; value = (q - 8) * d
 *   q4_1: f16 d, f16 m, 16 bytes qs (same nibble order); value = q * d + m
 *   q8_0: f16 d, 32 x int8; value = q * d
 */

const cvtF32 = new Float32Array(1);
const cvtU32 = new Uint32Array(cvtF32.buffer);

/** IEEE binary32 -> binary16 bits, round to nearest, ties to even; overflow -> inf; NaN stays NaN. */
export function f32ToF16Bits(value: number): number {
  cvtF32[0] = value;
  const x = cvtU32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;

  if (exp === 0xff) {
    // inf or NaN (keep the top payload bits; force a quiet, non-zero mantissa for NaN)
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 127 + 15; // re-biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large even before rounding
  if (e <= 0) {
    // result is an f16 subnormal (or zero, or rounds up to the smallest normal)
    if (e < -10) return sign; // |x| < 2^-25: rounds to zero (2^-25 itself is a tie -> even 0)
    const m = mant | 0x800000; // implicit leading one (f32 subnormals land in e < -10)
    const shift = 14 - e; // 14..24
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (r & 1) !== 0)) r++;
    return sign | r; // r == 0x400 is exactly the smallest normal: correct encoding
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) !== 0)) r++; // may carry into the exponent / to inf
  return sign | r;
}

/** binary16 bits -> number (exact). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Round half to even (torch.round). Input must be finite and within int32 range. */
export function roundHalfEven(v: number): number {
  const r = Math.floor(v + 0.5); // == Math.round: ties toward +inf
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

const fround = Math.fround;

/**
 * Quantise `n` floats (n % 32 == 0) from src[srcOff..] as q4_0 into dst[dstOff..].
 * Returns the number of bytes written (n / 32 * 18).
 */
export function quantizeQ4_0(src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): number {
  const nb = n >>> 5;
  let o = dstOff;
  for (let b = 0; b < nb; b++) {
    const base = srcOff + b * 32;
    // element with the largest magnitude, keeping its sign (first one wins ties)
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = src[base + j];
      const a = Math.abs(v);
      if (a > amax) {
        amax = a;
        max = v;
      }
    }
    const d = fround(max / -8);
    const h = f32ToF16Bits(d);
    dst[o] = h & 0xff;
    dst[o + 1] = h >>> 8;
    if (d === 0) {
      for (let j = 0; j < 16; j++) dst[o + 2 + j] = 0x88;
    } else {
      for (let j = 0; j < 16; j++) {
        // round-half-even of an f32 in [~0, ~16]; floor(x + 0.5) is exact here and equals Math.round
        const x = fround(fround(src[base + j] / d) + 8);
        let lo = Math.floor(x + 0.5);
        if (lo - x === 0.5 && (lo & 1) !== 0) lo--;
        lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
        const y = fround(fround(src[base + j + 16] / d) + 8);
        let hi = Math.floor(y + 0.5);
        if (hi - y === 0.5 && (hi & 1) !== 0) hi--;
        hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
        dst[o + 2 + j] = lo | (hi << 4);
      }
    }
    o += 18;
  }
  return o - dstOff;
}

/** q4_1: d = (max - min) / 15, m = min, q = round((x - min) / d) clamped to 0..15. */
export function quantizeQ4_1(src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): number {
  const nb = n >>> 5;
  let o = dstOff;
  for (let b = 0; b < nb; b++) {
    const base = srcOff + b * 32;
    let mn = src[base];
    let mx = src[base];
    for (let j = 1; j < 32; j++) {
      const v = src[base + j];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const d = fround(fround(mx - mn) / 15);
    const hd = f32ToF16Bits(d);
    const hm = f32ToF16Bits(mn);
    dst[o] = hd & 0xff;
    dst[o + 1] = hd >>> 8;
    dst[o + 2] = hm & 0xff;
    dst[o + 3] = hm >>> 8;
    if (d === 0) {
      for (let j = 0; j < 16; j++) dst[o + 4 + j] = 0;
    } else {
      for (let j = 0; j < 16; j++) {
        const x = fround(fround(src[base + j] - mn) / d);
        let lo = Math.floor(x + 0.5);
        if (lo - x === 0.5 && (lo & 1) !== 0) lo--;
        lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
        const y = fround(fround(src[base + j + 16] - mn) / d);
        let hi = Math.floor(y + 0.5);
        if (hi - y === 0.5 && (hi & 1) !== 0) hi--;
        hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
        dst[o + 4 + j] = lo | (hi << 4);
      }
    }
    o += 20;
  }
  return o - dstOff;
}

/** q8_0: d = amax / 127, q = round(x / d) as int8. */
export function quantizeQ8_0(src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): number {
  const nb = n >>> 5;
  let o = dstOff;
  for (let b = 0; b < nb; b++) {
    const base = srcOff + b * 32;
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const v = src[base + j];
      const a = Math.abs(v);
      if (a > amax) amax = a;
    }
    const d = fround(amax / 127);
    const h = f32ToF16Bits(d);
    dst[o] = h & 0xff;
    dst[o + 1] = h >>> 8;
    if (d === 0) {
      for (let j = 0; j < 32; j++) dst[o + 2 + j] = 0;
    } else {
      for (let j = 0; j < 32; j++) {
        const x = fround(src[base + j] / d);
        let t = Math.floor(x + 0.5); // == Math.round(x): x + 0.5 is exact for |x| <= ~127
        if (t - x === 0.5 && (t & 1) !== 0) t--;
        t = t < -128 ? -128 : t > 127 ? 127 : t;
        dst[o + 2 + j] = t & 0xff;
      }
    }
    o += 34;
  }
  return o - dstOff;
}

/** f16 storage, little-endian. */
export function convertF16(src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): number {
  let o = dstOff;
  for (let i = 0; i < n; i++) {
    const h = f32ToF16Bits(src[srcOff + i]);
    dst[o++] = h & 0xff;
    dst[o++] = h >>> 8;
  }
  return n * 2;
}

/** f32 storage, little-endian. */
export function convertF32(src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): number {
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let i = 0; i < n; i++) view.setFloat32(dstOff + i * 4, src[srcOff + i], true);
  return n * 4;
}

// ---------------------------------------------------------------------------
// Dequantisers (reference formulas of ggml; used by tests and by readers)

function readF16(buf: Uint8Array, off: number): number {
  return f16BitsToF32(buf[off] | (buf[off + 1] << 8));
}

export function dequantizeQ4_0(buf: Uint8Array, off: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let b = 0; b < n / 32; b++) {
    const o = off + b * 18;
    const d = readF16(buf, o);
    for (let j = 0; j < 16; j++) {
      const byte = buf[o + 2 + j];
      out[b * 32 + j] = ((byte & 0x0f) - 8) * d;
      out[b * 32 + j + 16] = ((byte >>> 4) - 8) * d;
    }
  }
  return out;
}

export function dequantizeQ4_1(buf: Uint8Array, off: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let b = 0; b < n / 32; b++) {
    const o = off + b * 20;
    const d = readF16(buf, o);
    const m = readF16(buf, o + 2);
    for (let j = 0; j < 16; j++) {
      const byte = buf[o + 4 + j];
      out[b * 32 + j] = (byte & 0x0f) * d + m;
      out[b * 32 + j + 16] = (byte >>> 4) * d + m;
    }
  }
  return out;
}

export function dequantizeQ8_0(buf: Uint8Array, off: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let b = 0; b < n / 32; b++) {
    const o = off + b * 34;
    const d = readF16(buf, o);
    for (let j = 0; j < 32; j++) {
      const v = buf[o + 2 + j];
      out[b * 32 + j] = (v > 127 ? v - 256 : v) * d;
    }
  }
  return out;
}

export function dequantizeF16(buf: Uint8Array, off: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = readF16(buf, off + i * 2);
  return out;
}

export function dequantizeF32(buf: Uint8Array, off: number, n: number): Float32Array {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(off + i * 4, true);
  return out;
}
