/**
 * Reference log-mel front end in float64 (Whisper extractor with 128 bins), from
 * shared/research/qwen3-asr-official.md §2.2 and addendum 1 (rules 2 and 5).
 *
 *  - clips shorter than 8000 samples (0.5 s) are zero-padded to 8000 samples; the padding counts as audio
 *  - centred STFT: reflect-pad 200 samples on both sides, periodic Hann 400, n_fft 400, hop 160
 *  - power spectrum over 201 bins (plain DFT with precomputed cos/sin tables)
 *  - 128 Slaney-scale triangular filters, 0..8000 Hz, Slaney area normalisation, built in float64
 *  - log10(max(x, 1e-10)), clamp to (max over the whole utterance) - 8, then (x + 4) / 4
 *  - T = floor(N / 160) frames (the last STFT frame is dropped)
 */

export const SAMPLE_RATE = 16000;
export const N_FFT = 400;
export const HOP = 160;
export const N_MELS = 128;
export const N_BINS = N_FFT / 2 + 1; // 201
export const MIN_SAMPLES = 8000; // 0.5 s

export interface LogMel {
  nMel: 128;
  /** Number of frames. */
  T: number;
  /** [128][T], mel-major: data[m * T + t]. */
  data: Float64Array;
}

/** Length of the waveform after the short-clip padding rule (N < 8000 → 8000). */
export function paddedLength(N: number): number {
  return N < MIN_SAMPLES ? MIN_SAMPLES : N;
}

/** Zero-pad a clip shorter than 0.5 s to exactly 8000 samples (float64 copy in all cases). */
export function padShortClip(pcm: Float32Array | Float64Array): Float64Array {
  const out = new Float64Array(paddedLength(pcm.length));
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i];
  return out;
}

/** Number of mel frames for N samples (after optional short-clip padding). */
export function frameCount(N: number, padShort = true): number {
  return Math.floor((padShort ? paddedLength(N) : N) / HOP);
}

/** Slaney mel scale: linear below 1 kHz (3f/200), logarithmic above. */
export function hzToMel(f: number): number {
  const fSp = 200 / 3;
  if (f < 1000) return f / fSp;
  const logStep = Math.log(6.4) / 27;
  return 15 + Math.log(f / 1000) / logStep;
}

export function melToHz(m: number): number {
  const fSp = 200 / 3;
  if (m < 15) return m * fSp;
  const logStep = Math.log(6.4) / 27;
  return 1000 * Math.exp(logStep * (m - 15));
}

/** Filter edge frequencies (130 points evenly spaced in Slaney mel from 0 to 8000 Hz). */
export function melEdgesHz(nMels = N_MELS, fMin = 0, fMax = SAMPLE_RATE / 2): Float64Array {
  const lo = hzToMel(fMin);
  const hi = hzToMel(fMax);
  const edges = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) edges[i] = melToHz(lo + ((hi - lo) * i) / (nMels + 1));
  return edges;
}

let cachedBank: Float64Array | null = null;

/**
 * The 128 x 201 Slaney filterbank (row-major: bank[m * 201 + k]).
 * Bin k has frequency k * 8000 / 200 Hz. Each triangle rises from edge m to m+1 and falls to m+2,
 * then is scaled by 2 / (f_{m+2} - f_m).
 */
export function melFilterbank(): Float64Array {
  if (cachedBank) return cachedBank;
  const edges = melEdgesHz();
  const bank = new Float64Array(N_MELS * N_BINS);
  for (let m = 0; m < N_MELS; m++) {
    const f0 = edges[m];
    const f1 = edges[m + 1];
    const f2 = edges[m + 2];
    const norm = 2 / (f2 - f0);
    for (let k = 0; k < N_BINS; k++) {
      const f = (k * (SAMPLE_RATE / 2)) / (N_BINS - 1);
      const rising = (f - f0) / (f1 - f0);
      const falling = (f2 - f) / (f2 - f1);
      const w = Math.max(0, Math.min(rising, falling));
      bank[m * N_BINS + k] = w * norm;
    }
  }
  cachedBank = bank;
  return bank;
}

/** Periodic Hann window of length 400: 0.5 (1 - cos(2 pi n / 400)). */
export function hannWindow(): Float64Array {
  const w = new Float64Array(N_FFT);
  for (let n = 0; n < N_FFT; n++) w[n] = 0.5 * (1 - Math.cos((2 * Math.PI * n) / N_FFT));
  return w;
}

/** numpy-style "reflect" index (edge sample not repeated). */
function reflectIndex(j: number, N: number): number {
  if (N === 1) return 0;
  const period = 2 * (N - 1);
  let r = j % period;
  if (r < 0) r += period;
  return r < N ? r : period - r;
}

let trig: { cos: Float64Array; sin: Float64Array } | null = null;
function trigTables(): { cos: Float64Array; sin: Float64Array } {
  if (!trig) {
    const cos = new Float64Array(N_FFT);
    const sin = new Float64Array(N_FFT);
    for (let i = 0; i < N_FFT; i++) {
      cos[i] = Math.cos((2 * Math.PI * i) / N_FFT);
      sin[i] = Math.sin((2 * Math.PI * i) / N_FFT);
    }
    trig = { cos, sin };
  }
  return trig;
}

/** Power spectrogram [201][T] (bin-major) of an already padded clip, T = floor(N / 160). */
export function powerSpectrogram(x: Float64Array): { T: number; data: Float64Array } {
  const N = x.length;
  const T = Math.floor(N / HOP);
  const win = hannWindow();
  const { cos, sin } = trigTables();
  const frame = new Float64Array(N_FFT);
  const out = new Float64Array(N_BINS * T);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N_FFT; n++) {
      const j = t * HOP + n - N_FFT / 2;
      frame[n] = win[n] * x[reflectIndex(j, N)];
    }
    for (let k = 0; k < N_BINS; k++) {
      let re = 0;
      let im = 0;
      let idx = 0; // (k * n) mod 400
      for (let n = 0; n < N_FFT; n++) {
        re += frame[n] * cos[idx];
        im -= frame[n] * sin[idx];
        idx += k;
        if (idx >= N_FFT) idx -= N_FFT;
      }
      out[k * T + t] = re * re + im * im;
    }
  }
  return { T, data: out };
}

export interface LogMelOptions {
  /** Zero-pad clips shorter than 8000 samples to 8000 samples first (default true, Transformers port rule). */
  padShort?: boolean;
}

export function logMel(pcm: Float32Array | Float64Array, opts: LogMelOptions = {}): LogMel {
  const padShort = opts.padShort ?? true;
  const x = padShort ? padShortClip(pcm) : Float64Array.from(pcm);
  if (x.length === 0) throw new Error('logMel: empty input');
  const spec = powerSpectrogram(x);
  const T = spec.T;
  const bank = melFilterbank();
  const data = new Float64Array(N_MELS * T);
  let maxVal = -Infinity;
  for (let m = 0; m < N_MELS; m++) {
    const row = m * N_BINS;
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let k = 0; k < N_BINS; k++) {
        const w = bank[row + k];
        if (w !== 0) s += w * spec.data[k * T + t];
      }
      const v = Math.log10(Math.max(s, 1e-10));
      data[m * T + t] = v;
      if (v > maxVal) maxVal = v;
    }
  }
  const floor = maxVal - 8;
  for (let i = 0; i < data.length; i++) data[i] = (Math.max(data[i], floor) + 4) / 4;
  return { nMel: 128, T, data };
}
