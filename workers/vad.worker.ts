/**
 * VAD worker: Silero VAD v5 (onnxruntime-web, wasm backend, 1 thread) over 16 kHz mono PCM.
 *
 * comlink API (`VadWorkerApi`, src/lib/vad.ts); use it through `VoiceActivityDetector`:
 *   init() → loads ORT's wasm and creates the session (idempotent; detect() calls it too).
 *   detect(pcm: Float32Array, onProgress?: (ratio: number) => void, options?: VadDetectOptions)
 *     → Promise<{ segments: {start, end}[] (seconds), probs?: Float32Array (per 512-sample frame),
 *                 pcm?: Float32Array (the input handed back if options.returnPcm), stats }>
 *     Buffers in the result are transferred. Calls run one at a time.
 *   cancel(jobId?) → the running (or queued) detect with that `options.jobId` (or all) rejects with
 *     `{ name: 'AbortError' }` at the next batch boundary (the loop yields every ~50 ms so this
 *     message gets through). The session stays loaded.
 *
 * Assets (resolved by Vite, same origin, no copy step): `onnxruntime-web/ort-wasm-simd-threaded.wasm?url`
 * (the wasm EP's binary; ORT's JS glue is embedded in the `onnxruntime-web/wasm` bundle) and
 * `@ricky0123/vad-web/dist/silero_vad_v5.onnx?url` (that package has no `exports` map, so the deep
 * import is allowed).
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/wasm';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import modelUrl from '@ricky0123/vad-web/dist/silero_vad_v5.onnx?url';
import { abortError, detectSpeech, planBatches } from '../src/lib/silero-vad';
import type { VadDetectOptions, VadDetectResult, VadWorkerApi } from '../src/lib/vad';

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = { wasm: new URL(ortWasmUrl, self.location.href).href };

let session: Promise<ort.InferenceSession> | null = null;
let queue: Promise<void> = Promise.resolve();

interface Job {
  id?: string;
  started: boolean;
  cancelled: boolean;
  rejectWaiting: (reason: unknown) => void;
}
const jobs = new Set<Job>();

function getSession(): Promise<ort.InferenceSession> {
  if (!session) {
    session = (async () => {
      const res = await fetch(new URL(modelUrl, self.location.href));
      if (!res.ok) throw new Error(`could not load the VAD model (${res.status} ${res.statusText})`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    })();
    session.catch(() => {
      session = null; // let a later call retry
    });
  }
  return session;
}

function plainAbort() {
  const e = abortError();
  return { name: 'AbortError', message: e.message };
}

async function detectOne(
  pcm: Float32Array,
  onProgress: ((ratio: number) => void) | undefined,
  options: VadDetectOptions,
  isCancelled: () => boolean,
): Promise<VadDetectResult> {
  if (isCancelled()) throw plainAbort();
  const s = await getSession();
  if (isCancelled()) throw plainAbort();
  const t0 = performance.now();
  try {
    const { segments, probs } = await detectSpeech(ort, s, pcm, { ...options.vad, onProgress, isCancelled });
    const plan = planBatches(probs.length, options.vad);
    const result: VadDetectResult = {
      segments,
      stats: { frames: probs.length, streams: plan.streams, ms: performance.now() - t0 },
    };
    const transfers: ArrayBuffer[] = [];
    if (options.returnProbs) {
      result.probs = probs;
      transfers.push(probs.buffer as ArrayBuffer);
    }
    if (options.returnPcm) {
      result.pcm = pcm;
      // A SharedArrayBuffer-backed input is shared, not transferred.
      if (pcm.buffer instanceof ArrayBuffer) transfers.push(pcm.buffer);
    }
    return Comlink.transfer(result, transfers);
  } catch (e) {
    if (e instanceof Error && e.name === 'AbortError') throw plainAbort();
    throw e;
  }
}

const api: VadWorkerApi = {
  async init() {
    await getSession();
  },
  detect(pcm, onProgress, options = {}) {
    let job!: Job;
    const run = new Promise<VadDetectResult>((resolve, reject) => {
      job = { id: options.jobId, started: false, cancelled: false, rejectWaiting: reject };
      jobs.add(job);
      queue = queue.then(async () => {
        if (job.cancelled) return; // rejected while waiting
        job.started = true;
        try {
          resolve(await detectOne(pcm, onProgress, options, () => job.cancelled));
        } catch (e) {
          reject(e);
        }
      });
    });
    return run.finally(() => {
      jobs.delete(job);
      const release = (onProgress as { [Comlink.releaseProxy]?: () => void } | undefined)?.[Comlink.releaseProxy];
      if (typeof release === 'function') release();
    });
  },
  async cancel(jobId) {
    for (const job of jobs) {
      if (jobId !== undefined && job.id !== jobId) continue;
      job.cancelled = true;
      if (!job.started) job.rejectWaiting(plainAbort()); // queued: reject now, never run
    }
  },
};

Comlink.expose(api);
