/**
 * Silero VAD v5 core: per-frame speech probabilities and hysteresis segmentation.
 *
 * Runs unchanged in Node (vitest, with `onnxruntime-web` or `onnxruntime-web/wasm`) and in a worker.
 * No runtime import of onnxruntime: the caller passes its `ort` module (only `ort.Tensor` is used)
 * and an `InferenceSession` created from `silero_vad_v5.onnx`.
 *
 *   const probs = await sileroProbabilities(ort, session, pcm16k, { onProgress, signal });
 *   const segments = probabilitiesToSegments(probs, { totalSamples: pcm16k.length });
 *   // or both at once: await detectSpeech(ort, session, pcm16k, options)
 *
 * Model I/O (v5): input float32 [B, 64 context + 512 new samples], state float32 [2, B, 128],
 * sr int64 scalar → output float32 [B, 1], stateN [2, B, 128]. Frame i covers samples
 * [i*512, (i+1)*512) and its probability is `probs[i]`.
 *
 * Speed: one `session.run` per 512-sample frame costs ~1.5-2 ms at batch 1 regardless of batch
 * size up to ~16, so long audio is split into B contiguous segments run as a batch of B
 * independent streams (own state each). Each stream after the first starts `overlapSec` early
 * to warm its state up; those warm-up probabilities are discarded. Audio shorter than
 * 2 × `minSegmentSec` runs as a single stream (exactly the sequential result).
 */
import type * as Ort from 'onnxruntime-web';

/** All tunables, in one place. Times in ms unless named *Sec. */
export const VAD_DEFAULTS = Object.freeze({
  sampleRate: 16000,
  /** New samples per model call (v5 at 16 kHz only accepts 512). */
  frameSamples: 512,
  /** Samples of the previous frame prepended to each input (what silero's own wrapper does). */
  contextSamples: 64,
  /** Speech starts when a frame's probability is >= threshold. */
  threshold: 0.5,
  /** Speech may end only after frames fall below negThreshold (hysteresis band in between). */
  negThreshold: 0.35,
  /** Segments shorter than this (before padding) are dropped as blips. */
  minSpeechMs: 250,
  /**
   * A dip below negThreshold must last this long to end a segment; shorter dips (stop consonants,
   * intra-word gaps) are bridged. 100 ms is silero's own default; sentence pauses (~300 ms) still
   * split, which is what downstream chunking wants (it can merge neighbours, it cannot split).
   */
  minSilenceMs: 100,
  /** Padding added to both ends of each segment (clipped to the audio, split when neighbours meet). */
  speechPadMs: 30,
  /** Upper bound on parallel streams per model call. */
  maxBatch: 16,
  /** Each batched stream gets at least this much audio; shorter audio uses fewer streams (or 1). */
  minSegmentSec: 30,
  /** Warm-up audio each non-first stream processes before its segment; its outputs are discarded. */
  overlapSec: 0.5,
  /** While running, yield to the event loop this often so messages (e.g. cancel) can arrive. */
  yieldEveryMs: 50,
});

export interface SpeechSegment {
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
}

export type OrtModule = Pick<typeof Ort, 'Tensor'>;
export type OrtSession = Pick<Ort.InferenceSession, 'run' | 'inputNames' | 'outputNames'>;

export interface ProbabilityOptions {
  /** Maximum parallel streams (1 = strictly sequential). Default VAD_DEFAULTS.maxBatch. */
  maxBatch?: number;
  /** Minimum seconds of audio per stream when batching. Default VAD_DEFAULTS.minSegmentSec. */
  minSegmentSec?: number;
  /** Warm-up overlap per stream, seconds. Default VAD_DEFAULTS.overlapSec. */
  overlapSec?: number;
  /** Called with 0..1 as batches complete (throttled to ~1% steps, always ends with 1). */
  onProgress?: (ratio: number) => void;
  /** Checked between batches; an aborted signal rejects with an AbortError. */
  signal?: AbortSignal;
  /** Alternative to `signal`: return true to stop (checked between batches). */
  isCancelled?: () => boolean;
  yieldEveryMs?: number;
}

export interface SegmentOptions {
  threshold?: number;
  negThreshold?: number;
  minSpeechMs?: number;
  minSilenceMs?: number;
  speechPadMs?: number;
  frameSamples?: number;
  sampleRate?: number;
  /** Length of the audio in samples (segments are clipped to it). Default probs.length × frameSamples. */
  totalSamples?: number;
}

export interface BatchPlan {
  frames: number;
  streams: number;
  /** Model calls (each processes one frame of every stream). */
  steps: number;
  /** Warm-up frames of every stream but the first. */
  warmFrames: number;
  /** First frame (including warm-up) each stream processes. */
  starts: number[];
}

export function abortError(message = 'Voice activity detection was cancelled'): Error {
  if (typeof DOMException === 'function') return new DOMException(message, 'AbortError');
  const e = new Error(message);
  e.name = 'AbortError';
  return e;
}

/** How `sileroProbabilities` splits `frames` frames into streams. Pure; exported for tests. */
export function planBatches(frames: number, options: ProbabilityOptions = {}): BatchPlan {
  const sr = VAD_DEFAULTS.sampleRate;
  const fs = VAD_DEFAULTS.frameSamples;
  const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? VAD_DEFAULTS.maxBatch));
  const minSegFrames = Math.max(1, Math.round(((options.minSegmentSec ?? VAD_DEFAULTS.minSegmentSec) * sr) / fs));
  const warm = Math.max(0, Math.round(((options.overlapSec ?? VAD_DEFAULTS.overlapSec) * sr) / fs));
  let streams = Math.min(maxBatch, Math.max(1, Math.floor(frames / minSegFrames)));
  const stepsFor = (b: number) => Math.ceil((frames + (b - 1) * warm) / b);
  // Every stream must cover real frames beyond its warm-up (and at least as many as it warms up).
  while (streams > 1 && stepsFor(streams) < 2 * warm + 1) streams--;
  const steps = frames === 0 ? 0 : stepsFor(streams);
  const starts = Array.from({ length: streams }, (_, b) => b * (steps - warm));
  return { frames, streams, steps, warmFrames: streams > 1 ? warm : 0, starts };
}

/** Throws a readable error if `session` isn't a Silero v5/v6 model (input, state, sr → output, stateN). */
export function checkSileroSession(session: OrtSession): void {
  const want = ['input', 'state', 'sr'];
  const missing = want.filter((n) => !session.inputNames.includes(n));
  if (missing.length || !session.outputNames.includes('output') || !session.outputNames.includes('stateN')) {
    throw new Error(
      `Not a Silero VAD v5 model: inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]` +
        ` (expected inputs input/state/sr and outputs output/stateN)`,
    );
  }
}

/**
 * Speech probability for every 512-sample frame of 16 kHz mono `pcm` (the last partial frame is
 * zero-padded). Returns `Math.ceil(pcm.length / 512)` values.
 */
export async function sileroProbabilities(
  ort: OrtModule,
  session: OrtSession,
  pcm: Float32Array,
  options: ProbabilityOptions = {},
): Promise<Float32Array> {
  const fs = VAD_DEFAULTS.frameSamples;
  const ctx = VAD_DEFAULTS.contextSamples;
  const width = fs + ctx;
  const frames = Math.ceil(pcm.length / fs);
  const probs = new Float32Array(frames);
  const { onProgress, signal, isCancelled } = options;
  const yieldEveryMs = options.yieldEveryMs ?? VAD_DEFAULTS.yieldEveryMs;
  const cancelled = () => signal?.aborted === true || (isCancelled?.() ?? false);
  if (cancelled()) throw abortError();
  if (frames === 0) {
    onProgress?.(1);
    return probs;
  }
  checkSileroSession(session);

  const plan = planBatches(frames, options);
  const B = plan.streams;
  const input = new Float32Array(B * width);
  const inputTensor = new ort.Tensor('float32', input, [B, width]);
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_DEFAULTS.sampleRate)]), []);
  let state: Ort.Tensor = new ort.Tensor('float32', new Float32Array(2 * B * 128), [2, B, 128]);

  let lastYield = now();
  let lastReported = 0;
  for (let t = 0; t < plan.steps; t++) {
    for (let b = 0; b < B; b++) {
      const f = plan.starts[b] + t;
      const row = b * width;
      if (f >= frames) {
        input.fill(0, row, row + width);
        continue;
      }
      // Context: the 64 samples before this frame (zeros before the start of the audio).
      const from = f * fs - ctx;
      if (from >= 0) {
        input.set(pcm.subarray(from, from + ctx), row);
      } else {
        input.fill(0, row, row + ctx);
      }
      const s = f * fs;
      const e = Math.min(s + fs, pcm.length);
      input.set(pcm.subarray(s, e), row + ctx);
      if (e - s < fs) input.fill(0, row + ctx + (e - s), row + width);
    }
    const out = await session.run({ input: inputTensor, state, sr });
    state = out.stateN;
    const p = out.output.data as Float32Array;
    for (let b = 0; b < B; b++) {
      const f = plan.starts[b] + t;
      if (f < frames && (b === 0 || t >= plan.warmFrames)) probs[f] = p[b];
    }
    if (onProgress) {
      const ratio = (t + 1) / plan.steps;
      if (ratio - lastReported >= 0.01 || t + 1 === plan.steps) {
        lastReported = ratio;
        onProgress(ratio);
      }
    }
    if (cancelled()) throw abortError();
    if (yieldEveryMs >= 0 && now() - lastYield >= yieldEveryMs) {
      await new Promise<void>((r) => setTimeout(r, 0));
      lastYield = now();
      if (cancelled()) throw abortError();
    }
  }
  return probs;
}

/**
 * Hysteresis over per-frame probabilities → sorted, non-overlapping speech segments in seconds.
 *
 * Speech starts at the first frame >= threshold; it ends where probabilities first drop below
 * negThreshold, provided they stay out of speech (no frame >= threshold) for minSilenceMs; shorter
 * dips are bridged. Frames between the two thresholds neither start nor end speech. Segments
 * shorter than minSpeechMs are dropped; survivors get speechPadMs on both sides, clipped to
 * [0, duration], and where two padded segments would overlap the gap is split in the middle.
 * Speech still going at the end of the audio is closed at the end.
 */
export function probabilitiesToSegments(probs: ArrayLike<number>, options: SegmentOptions = {}): SpeechSegment[] {
  const o = { ...VAD_DEFAULTS, ...stripUndefined(options) };
  const fs = o.frameSamples;
  const sr = o.sampleRate;
  const total = options.totalSamples ?? probs.length * fs;
  const ms = (v: number) => (v * sr) / 1000;
  const minSpeech = ms(o.minSpeechMs);
  const minSilence = ms(o.minSilenceMs);
  const pad = ms(o.speechPadMs);

  const raw: Array<[number, number]> = [];
  let triggered = false;
  let start = 0;
  let silenceStart = -1;
  const close = (end: number) => {
    end = Math.min(end, total);
    if (end - start >= minSpeech && end > start) raw.push([start, end]);
    triggered = false;
    silenceStart = -1;
  };
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    const pos = i * fs;
    if (p >= o.threshold) {
      silenceStart = -1;
      if (!triggered) {
        triggered = true;
        start = pos;
      }
      continue;
    }
    if (!triggered) continue;
    if (p < o.negThreshold && silenceStart < 0) silenceStart = pos;
    if (silenceStart >= 0 && (i + 1) * fs - silenceStart >= minSilence) close(silenceStart);
  }
  if (triggered) close(silenceStart >= 0 ? silenceStart : total);

  const segments: SpeechSegment[] = [];
  for (let k = 0; k < raw.length; k++) {
    const [s, e] = raw[k];
    const gapBefore = k > 0 ? s - raw[k - 1][1] : Infinity;
    const gapAfter = k + 1 < raw.length ? raw[k + 1][0] - e : Infinity;
    const ps = Math.max(0, s - Math.min(pad, gapBefore / 2));
    const pe = Math.min(total, e + Math.min(pad, gapAfter / 2));
    segments.push({ start: ps / sr, end: pe / sr });
  }
  return segments;
}

/** `sileroProbabilities` followed by `probabilitiesToSegments`. */
export async function detectSpeech(
  ort: OrtModule,
  session: OrtSession,
  pcm: Float32Array,
  options: ProbabilityOptions & SegmentOptions = {},
): Promise<{ segments: SpeechSegment[]; probs: Float32Array }> {
  const probs = await sileroProbabilities(ort, session, pcm, options);
  const segments = probabilitiesToSegments(probs, { ...options, totalSamples: pcm.length });
  return { segments, probs };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] !== undefined) r[k] = o[k];
  return r;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
