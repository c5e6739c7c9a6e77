/**
 * Streaming sample-rate converter for the microphone (device rate → 16 kHz), written for live mode.
 *
 * Choice: a linear-phase windowed-sinc FIR evaluated at the exact output instants (a polyphase filter
 * for arbitrary rational ratios). For output sample n the input instant is t = n·inRate/outRate; the
 * output is Σ x[k]·h(t − k) over the 2·H input samples around t, where
 *   h(d) = (2fc/inRate) · sinc(2fc·d/inRate) · blackman(d / H)
 * and fc = 0.45·min(inRate, outRate) (7.2 kHz for a 16 kHz output: the band above it would alias).
 * The Blackman window gives ~-74 dB side lobes; with 16 zero crossings each side the transition band is
 * ~2.4 kHz wide at 48 kHz input, so anything above ~8.4 kHz is strongly attenuated, and the pass band
 * (speech, ≤ 6 kHz) keeps unit gain. Linear interpolation would alias badly; a full polyphase table per
 * exact phase is cheap for the usual rates (48 kHz: 1 phase, 44.1 kHz: 160 phases), and odd rates with
 * very many phases are quantised to 1024 phase steps (error far below the 16-bit noise floor).
 *
 * The filter is centred on t, so the output is delayed by nothing (latency H input samples, ~1 ms).
 * Samples before the first input are taken as zero; `flush()` pads zeros to emit the tail.
 */

const ZERO_CROSSINGS = 16;
const MAX_PHASES = 1024;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function blackman(x: number): number {
  // x in [-1, 1]; 0 outside.
  if (x <= -1 || x >= 1) return 0;
  const p = Math.PI * (x + 1); // 0..2π
  return 0.42 - 0.5 * Math.cos(p) + 0.08 * Math.cos(2 * p);
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Half width of the filter in input samples. */
  readonly halfWidth: number;
  readonly #phases: number;
  /** #phases + 1 rows of 2·halfWidth taps (the extra row only for quantised phases). */
  readonly #table: Float32Array;
  readonly #exact: boolean;
  /** Input not yet consumed; #buf[0] is absolute input index #bufStart. */
  #buf: Float32Array;
  #bufLen = 0;
  #bufStart: number;
  /** Input samples received so far. */
  #received = 0;
  /** Next output index. */
  #next = 0;

  constructor(inRate: number, outRate = 16000) {
    if (!(inRate > 0) || !(outRate > 0)) throw new Error(`bad sample rates ${inRate} → ${outRate}`);
    this.inRate = Math.round(inRate);
    this.outRate = Math.round(outRate);
    const fc = 0.45 * Math.min(this.inRate, this.outRate);
    const step = (2 * fc) / this.inRate; // cutoff in cycles per input sample ×2
    this.halfWidth = Math.ceil(ZERO_CROSSINGS / step);
    const exactPhases = this.outRate / gcd(this.inRate, this.outRate);
    this.#exact = exactPhases <= MAX_PHASES;
    this.#phases = this.#exact ? exactPhases : MAX_PHASES;
    const taps = 2 * this.halfWidth;
    const rows = this.#phases + 1;
    this.#table = new Float32Array(rows * taps);
    for (let p = 0; p < rows; p++) {
      const frac = p / this.#phases;
      let sum = 0;
      for (let j = 0; j < taps; j++) {
        // tap j multiplies x[c − H + 1 + j]; the distance from the output instant c + frac is d.
        const d = this.halfWidth - 1 - j + frac;
        const v = step * sinc(step * d) * blackman(d / this.halfWidth);
        this.#table[p * taps + j] = v;
        sum += v;
      }
      // Exact unit gain at DC for every phase.
      if (sum !== 0) for (let j = 0; j < taps; j++) this.#table[p * taps + j] /= sum;
    }
    // History: H zeros before the first sample.
    this.#buf = new Float32Array(Math.max(4096, taps * 4));
    this.#bufStart = -this.halfWidth;
    this.#bufLen = this.halfWidth;
  }

  /** Output samples for `input` (any length); keeps what it needs for the next call. */
  process(input: Float32Array): Float32Array {
    this.#append(input);
    this.#received += input.length;
    return this.#emit(this.#received);
  }

  /** The remaining output (as if zeros followed the input); the resampler can be reused after. */
  flush(): Float32Array {
    const total = Math.floor((this.#received * this.outRate) / this.inRate);
    const pad = new Float32Array(this.halfWidth + 1);
    this.#append(pad);
    const out = this.#emit(this.#received + pad.length, total);
    return out;
  }

  #append(input: Float32Array): void {
    if (this.#bufLen + input.length > this.#buf.length) {
      const grown = new Float32Array(Math.max(this.#buf.length * 2, this.#bufLen + input.length));
      grown.set(this.#buf.subarray(0, this.#bufLen));
      this.#buf = grown;
    }
    this.#buf.set(input, this.#bufLen);
    this.#bufLen += input.length;
  }

  /** Emits outputs whose taps lie below absolute input index `available` (and below `limit` outputs). */
  #emit(available: number, limit = Infinity): Float32Array {
    const H = this.halfWidth;
    const taps = 2 * H;
    const inR = this.inRate;
    const outR = this.outRate;
    const out: Float32Array[] = [];
    let chunk = new Float32Array(1024);
    let n = 0;
    for (;;) {
      if (this.#next >= limit) break;
      const pos = this.#next * inR;
      const c = Math.floor(pos / outR);
      if (c + H >= available) break; // needs x[c + H]
      const rem = pos - c * outR;
      const row = this.#exact ? (rem * this.#phases) / outR : Math.round((rem / outR) * this.#phases);
      const base = c - H + 1 - this.#bufStart;
      const t0 = row * taps;
      let acc = 0;
      for (let j = 0; j < taps; j++) acc += this.#buf[base + j] * this.#table[t0 + j];
      if (n === chunk.length) {
        out.push(chunk);
        chunk = new Float32Array(chunk.length * 2);
        n = 0;
      }
      chunk[n++] = acc;
      this.#next++;
    }
    // Drop input no longer needed: everything before the next output's first tap.
    const nextC = Math.floor((this.#next * inR) / outR);
    const keepFrom = nextC - H + 1 - this.#bufStart;
    if (keepFrom > 0) {
      const drop = Math.min(keepFrom, this.#bufLen);
      this.#buf.copyWithin(0, drop, this.#bufLen);
      this.#bufLen -= drop;
      this.#bufStart += drop;
    }
    const total = out.reduce((s, a) => s + a.length, 0) + n;
    const result = new Float32Array(total);
    let at = 0;
    for (const a of out) {
      result.set(a, at);
      at += a.length;
    }
    result.set(chunk.subarray(0, n), at);
    return result;
  }
}
