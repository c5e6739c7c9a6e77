/**
 * Small deterministic PRNG: xoshiro128** (32-bit state words) seeded through splitmix32.
 * Every tensor gets its own stream derived from (seed, tensor name), so a tensor's values
 * do not depend on the order in which tensors are generated or on how a tensor is chunked.
 */

/** One splitmix32 step: returns [output, nextState]. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [z >>> 0, next];
}

/** FNV-1a over the UTF-16 code units of a string (names are ASCII). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const INV_2_32 = 1 / 4294967296;
// Irwin–Hall(4) on 16-bit uniforms: sum of 4 values in [0, 65535], mean 131070,
// variance 4 * (65536^2 - 1) / 12 -> scale to unit variance.
const IH_CENTER = 131070;
const IH_SCALE = 1 / Math.sqrt((4 * (65536 * 65536 - 1)) / 12);

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let st = seed | 0;
    let v: number;
    [v, st] = splitmix32(st);
    this.s0 = v | 0;
    [v, st] = splitmix32(st);
    this.s1 = v | 0;
    [v, st] = splitmix32(st);
    this.s2 = v | 0;
    [v, st] = splitmix32(st);
    this.s3 = v | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Stream for one tensor of one model seed. */
  static forTensor(seed: number, name: string): Rng {
    const [a] = splitmix32((seed | 0) ^ 0x5eed5eed);
    return new Rng((a ^ hashString(name)) | 0);
  }

  /** Next uniform 32-bit unsigned integer (xoshiro128**). */
  nextU32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result >>> 0;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextU32() * INV_2_32;
  }

  /**
   * out[off .. off+n) = mean + std * z, z ~ approximately N(0, 1)
   * (Irwin–Hall sum of four 16-bit uniforms: unit variance, bounded at ±3.46).
   */
  fillNormal(out: Float32Array, off: number, n: number, mean: number, std: number): void {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    const scale = std * IH_SCALE;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let k = 0; k < 2; k++) {
        const x = Math.imul(s1, 5);
        const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
        const t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        sum += (r & 0xffff) + (r >>> 16);
      }
      out[off + i] = mean + (sum - IH_CENTER) * scale;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** out[off .. off+n) uniform in [lo, hi). */
  fillUniform(out: Float32Array, off: number, n: number, lo: number, hi: number): void {
    const w = hi - lo;
    for (let i = 0; i < n; i++) out[off + i] = lo + w * this.nextFloat();
  }
}
