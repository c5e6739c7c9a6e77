/**
 * Page-side wrapper of the VAD worker (workers/vad.worker.ts): Silero VAD v5 over 16 kHz mono PCM.
 *
 *   const vad = new VoiceActivityDetector();
 *   await vad.init();                                   // optional: load ORT + model (~0.5 s)
 *   const { segments } = await vad.detect(pcm, { onProgress, signal });
 *   vad.dispose();
 *
 * - `detect(pcm, { onProgress?, signal?, transfer?, returnProbs?, vad? })` → `{ segments, probs?,
 *   pcm?, stats }`. Segments are `{ start, end }` in seconds, sorted, non-overlapping.
 *   By default `pcm` is copied to the worker (structured clone; a SharedArrayBuffer-backed array is
 *   shared instead). With `transfer: true` its buffer is moved to the worker (no copy; your array
 *   is detached) and handed back as `result.pcm`; if that call is aborted the data is lost.
 * - Cancellation: `signal` abort rejects at once with an AbortError DOMException and asks the
 *   worker to stop at its next batch boundary (it yields every ~50 ms); the loaded session is kept.
 *   If the worker doesn't stop within 2 s it is terminated and lazily recreated.
 * - Calls are queued in the worker and run one at a time.
 */
import * as Comlink from 'comlink';
import type { ProbabilityOptions, SegmentOptions, SpeechSegment } from './silero-vad';

export type { SpeechSegment } from './silero-vad';

/** Tunables forwarded to the core (see VAD_DEFAULTS in silero-vad.ts); functions are not allowed. */
export type VadTuning = Omit<ProbabilityOptions, 'onProgress' | 'signal' | 'isCancelled'> & Omit<SegmentOptions, 'totalSamples'>;

export interface VadDetectOptions {
  /** Identifies the call for `cancel(jobId)`. */
  jobId?: string;
  returnProbs?: boolean;
  /** Hand the input PCM back in the result (use with a transferred input). */
  returnPcm?: boolean;
  vad?: VadTuning;
}

export interface VadDetectResult {
  segments: SpeechSegment[];
  /** Speech probability per 512-sample frame (32 ms), if requested. */
  probs?: Float32Array;
  pcm?: Float32Array;
  stats: { frames: number; streams: number; ms: number };
}

/** The comlink-exposed API of workers/vad.worker.ts. */
export interface VadWorkerApi {
  init(): Promise<void>;
  detect(pcm: Float32Array, onProgress?: (ratio: number) => void, options?: VadDetectOptions): Promise<VadDetectResult>;
  cancel(jobId?: string): Promise<void>;
}

export interface DetectOptions {
  onProgress?: (ratio: number) => void;
  signal?: AbortSignal;
  /** Move `pcm`'s buffer to the worker instead of copying it; it comes back as `result.pcm`. */
  transfer?: boolean;
  returnProbs?: boolean;
  vad?: VadTuning;
}

const STOP_GRACE_MS = 2000;

function abortError(message = 'Voice activity detection was cancelled'): DOMException {
  return new DOMException(message, 'AbortError');
}

function isAbortLike(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

export class VoiceActivityDetector {
  #worker: Worker | null = null;
  #remote: Comlink.Remote<VadWorkerApi> | null = null;
  #inFlight = new Set<(reason: unknown) => void>();
  #disposed = false;
  #jobs = 0;

  #ensureWorker(): Comlink.Remote<VadWorkerApi> {
    if (this.#disposed) throw abortError('VoiceActivityDetector was disposed');
    if (!this.#remote) {
      const worker = new Worker(new URL('../../workers/vad.worker.ts', import.meta.url), { type: 'module', name: 'vad' });
      worker.addEventListener('error', (ev) => {
        const msg = ev.message || 'the VAD worker failed to start';
        this.#reset(new Error(`Couldn't start voice activity detection: ${msg}`));
      });
      this.#worker = worker;
      this.#remote = Comlink.wrap<VadWorkerApi>(worker);
    }
    return this.#remote;
  }

  #reset(reason: unknown): void {
    const worker = this.#worker;
    const remote = this.#remote;
    this.#worker = null;
    this.#remote = null;
    if (remote) remote[Comlink.releaseProxy]();
    worker?.terminate();
    for (const reject of [...this.#inFlight]) reject(reason);
    this.#inFlight.clear();
  }

  /** Tracks a call so a dying worker rejects it (comlink calls never settle otherwise). */
  #track<T>(call: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (reason: unknown) => {
        this.#inFlight.delete(fail);
        reject(reason);
      };
      this.#inFlight.add(fail);
      call.then(
        (v) => {
          this.#inFlight.delete(fail);
          resolve(v);
        },
        (e: unknown) => fail(isAbortLike(e) ? abortError() : e),
      );
    });
  }

  /** Load ORT and the model in the worker now (optional; detect does it on first use). */
  init(): Promise<void> {
    try {
      return this.#track(this.#ensureWorker().init());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  detect(pcm: Float32Array, options: DetectOptions = {}): Promise<VadDetectResult> {
    const { onProgress, signal, transfer = false, returnProbs = false, vad } = options;
    if (signal?.aborted) return Promise.reject(abortError());
    let remote: Comlink.Remote<VadWorkerApi>;
    try {
      remote = this.#ensureWorker();
    } catch (e) {
      return Promise.reject(e);
    }
    const jobId = `vad-${++this.#jobs}`;
    const canTransfer = transfer && pcm.buffer instanceof ArrayBuffer;
    const arg = canTransfer ? Comlink.transfer(pcm, [pcm.buffer as ArrayBuffer]) : pcm;
    const call = this.#track(
      remote.detect(arg, onProgress ? Comlink.proxy(onProgress) : undefined, { jobId, returnProbs, returnPcm: canTransfer, vad }),
    );
    if (!signal) return call;
    return new Promise<VadDetectResult>((resolve, reject) => {
      let done = false;
      const onAbort = () => {
        if (done) return;
        done = true;
        reject(abortError());
        const worker = this.#worker;
        void remote.cancel(jobId).catch(() => {});
        // Cooperative stop; if the worker doesn't wind down in time, kill it.
        const timer = setTimeout(() => {
          if (this.#worker === worker) this.#reset(abortError());
        }, STOP_GRACE_MS);
        call.then(
          () => clearTimeout(timer),
          () => clearTimeout(timer),
        );
      };
      signal.addEventListener('abort', onAbort, { once: true });
      call.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          if (!done) {
            done = true;
            resolve(v);
          }
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          if (!done) {
            done = true;
            reject(e);
          }
        },
      );
    });
  }

  /** Terminate the worker; pending calls reject with AbortError. The object is unusable after. */
  dispose(): void {
    this.#disposed = true;
    this.#reset(abortError('VoiceActivityDetector was disposed'));
  }
}
