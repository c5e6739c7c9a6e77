/**
 * Small float64 building blocks for the reference model: erf/GELU, norms, dense layers, softmax,
 * the encoder's sinusoid table and rotate-half RoPE. Plain loops over Float64Array, row-major data.
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * Double-precision erf.
 *  |x| < 2.5 : erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_{n>=0} 2^n x^(2n+1) / (1*3*5*...*(2n+1))
 *             (all terms positive, so no cancellation)
 *  |x| >= 2.5: erf(x) = 1 - erfc(x), erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + (2/2)/(x + (3/2)/(x + ...))))
 *             (continued fraction evaluated bottom-up at a fixed depth)
 *  |x| >= 6.5: erf(x) = +-1 to double precision.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  let r: number;
  if (ax < 2.5) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 300; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term <= sum * 1e-18) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  } else if (ax < 6.5) {
    let t = ax;
    for (let n = 120; n >= 1; n--) t = ax + n / 2 / t;
    r = 1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * t);
  } else {
    r = 1;
  }
  return x < 0 ? -r : r;
}

/** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
}

/** tanh-approximate GELU (for chatllm-style comparisons only). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** a[ao .. ao+n) . b[bo .. bo+n), summed in index order. */
export function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[ao + k] * b[bo + k];
  return s;
}

/** y[n][out] = x[n][in] . W[out][in]^T (+ b[out]). */
export function linear(x: Float64Array, n: number, inDim: number, W: Float64Array, outDim: number, b?: Float64Array | null): Float64Array {
  if (x.length !== n * inDim) throw new Error(`linear: input has ${x.length} values, expected ${n}x${inDim}`);
  if (W.length !== outDim * inDim) throw new Error(`linear: weight has ${W.length} values, expected ${outDim}x${inDim}`);
  if (b && b.length !== outDim) throw new Error(`linear: bias has ${b.length} values, expected ${outDim}`);
  const y = new Float64Array(n * outDim);
  for (let i = 0; i < n; i++) {
    const xo = i * inDim;
    const yo = i * outDim;
    for (let o = 0; o < outDim; o++) {
      const wo = o * inDim;
      const s = dot(x, xo, W, wo, inDim);
      y[yo + o] = b ? s + b[o] : s;
    }
  }
  return y;
}

/** Row-wise LayerNorm (biased variance) with affine weight and bias. */
export function layerNorm(x: Float64Array, n: number, dim: number, w: Float64Array, b: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    let mean = 0;
    for (let k = 0; k < dim; k++) mean += x[o + k];
    mean /= dim;
    let v = 0;
    for (let k = 0; k < dim; k++) {
      const d = x[o + k] - mean;
      v += d * d;
    }
    v /= dim;
    const inv = 1 / Math.sqrt(v + eps);
    for (let k = 0; k < dim; k++) y[o + k] = (x[o + k] - mean) * inv * w[k] + b[k];
  }
  return y;
}

/** RMSNorm over consecutive groups of `dim` values: y = x / sqrt(mean(x^2) + eps) * w. */
export function rmsNorm(x: Float64Array, dim: number, w: Float64Array, eps: number): Float64Array {
  if (x.length % dim !== 0) throw new Error('rmsNorm: length not a multiple of dim');
  if (w.length !== dim) throw new Error(`rmsNorm: weight has ${w.length} values, expected ${dim}`);
  const y = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += dim) {
    let ss = 0;
    for (let k = 0; k < dim; k++) ss += x[o + k] * x[o + k];
    const inv = 1 / Math.sqrt(ss / dim + eps);
    for (let k = 0; k < dim; k++) y[o + k] = x[o + k] * inv * w[k];
  }
  return y;
}

/** In-place softmax of v[0..n). */
export function softmaxInPlace(v: Float64Array, n = v.length): void {
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (v[i] > m) m = v[i];
  let s = 0;
  for (let i = 0; i < n; i++) {
    v[i] = Math.exp(v[i] - m);
    s += v[i];
  }
  for (let i = 0; i < n; i++) v[i] /= s;
}

/**
 * Whisper-style sinusoid table [rows][dim]: inc = ln(10000) / (dim/2 - 1), w_i = exp(-inc i),
 * row t = [sin(t w_0) .. sin(t w_{dim/2-1}), cos(t w_0) .. cos(t w_{dim/2-1})].
 */
export function sinusoidTable(rows: number, dim: number): Float64Array {
  if (dim % 2 !== 0) throw new Error('sinusoidTable: odd width');
  const half = dim / 2;
  const inc = Math.log(10000) / (half - 1);
  const out = new Float64Array(rows * dim);
  for (let t = 0; t < rows; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * Math.exp(-inc * i);
      out[t * dim + i] = Math.sin(a);
      out[t * dim + half + i] = Math.cos(a);
    }
  }
  return out;
}

/**
 * Rotate-half (NeoX) RoPE, in place, on `nHeads` consecutive heads of size headDim starting at v[off]:
 * pair (i, i + headDim/2), angle = pos * theta^(-2i/headDim).
 */
export function ropeInPlace(v: Float64Array, off: number, nHeads: number, headDim: number, pos: number, theta: number): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const invFreq = Math.pow(theta, (-2 * i) / headDim);
    const a = pos * invFreq;
    const c = Math.cos(a);
    const s = Math.sin(a);
    for (let h = 0; h < nHeads; h++) {
      const o = off + h * headDim;
      const x1 = v[o + i];
      const x2 = v[o + i + half];
      v[o + i] = x1 * c - x2 * s;
      v[o + i + half] = x2 * c + x1 * s;
    }
  }
}

/** Index of the first maximum. */
export function argmax(v: Float64Array, off = 0, n = v.length - off): number {
  let best = 0;
  let bv = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[off + i];
    if (x > bv) {
      bv = x;
      best = i;
    }
  }
  return best;
}
