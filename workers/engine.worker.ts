// Engine worker: loads our C++ engine (SIMD128 + pthreads when the page is cross-origin isolated,
// else SIMD128 single-thread), receives model bytes part by part straight into the WASM heap, and
// transcribes chunks token by token, yielding between steps so that cancel() is seen within one
// decode step (research/toolchain-notes.md §1 "Threads", §2).
import * as Comlink from 'comlink';
import { EngineBinding, EngineError, type EngineModel, type EngineModule, type ModelLoad } from '../src/lib/engine-binding';
import type { EngineInitOptions, EngineWorkerApi, ModelSlot } from '../src/lib/engine-protocol';
import type { EngineStatus } from '../src/lib/pipeline-types';

const MT_INIT_TIMEOUT_MS = 20_000;

let binding: EngineBinding | null = null;
let status: EngineStatus | null = null;
let threads = 1;
const loads = new Map<ModelSlot, ModelLoad>();
const models = new Map<ModelSlot, EngineModel>();
let cancelRequested = false;
let lastPcm: Float32Array | null = null;  // audio of the last transcribed chunk, for align()

// The smallest module using i16x8.relaxed_dot_i8x16_i7x16_s: (func (param v128 v128) (result v128)).
const RELAXED_DOT_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 123, 123, 1, 123, 3, 2, 1, 0,
  10, 11, 1, 9, 0, 32, 0, 32, 1, 253, 146, 2, 11,
]);

/** Whether this browser runs relaxed SIMD (Chrome 114+): the threaded build then has a faster q4_0 kernel. */
function hasRelaxedSimd(): boolean {
  try {
    return WebAssembly.validate(RELAXED_DOT_PROBE);
  } catch {
    return false;
  }
}

async function importEngine(variant: 'mt' | 'mt-relaxed' | 'st'): Promise<EngineModule> {
  // A variable path keeps Vite from rewriting it: the engine files live in /wasm/ next to the app.
  const rel = '../wasm/engine-' + variant + '.mjs';
  const url = new URL(rel, import.meta.url).href;
  const { default: create } = await import(/* @vite-ignore */ url);
  return create({ print: (s: string) => console.log(s), printErr: (s: string) => console.warn(s) });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not start within ${ms / 1000} s`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

// A macrotask yield without timer clamping, so queued messages (cancel) run between steps.
const yieldChannel = new MessageChannel();
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    yieldChannel.port1.onmessage = () => resolve();
    yieldChannel.port2.postMessage(0);
  });
}

/**
 * Frees a transferred part once it is copied into the WASM heap (detaching it releases its memory now).
 * Left as garbage, the parts of a model load piled up to ~224 MB in this worker before a GC ran: the worker
 * allocates almost nothing else, so nothing prompts one (issue 5, bench/model-load-memory.ts).
 */
function releaseBuffer(part: Uint8Array): void {
  const buffer = part.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (buffer instanceof ArrayBuffer && typeof buffer.transfer === 'function') buffer.transfer(0);
}

function requireBinding(): EngineBinding {
  if (!binding) throw new EngineError('The engine is not started');
  return binding;
}

function abortError(): Error {
  const e = new Error('Transcription cancelled');
  e.name = 'AbortError';
  return e;
}

const api: EngineWorkerApi = {
  async init(opts: EngineInitOptions): Promise<EngineStatus> {
    if (status) return status;
    const isolated = self.crossOriginIsolated === true;
    let variant: 'mt' | 'st' = 'st';
    let fallbackReason: string | undefined;
    let M: EngineModule | null = null;
    const want = opts.variant ?? 'auto';
    if (want !== 'st' && isolated) {
      try {
        M = await withTimeout(importEngine(hasRelaxedSimd() ? 'mt-relaxed' : 'mt'), MT_INIT_TIMEOUT_MS, 'The threaded engine');
        variant = 'mt';
      } catch (e) {
        fallbackReason = `Threaded engine failed to start (${(e as Error).message}); using one thread.`;
      }
    } else if (!isolated) {
      fallbackReason = 'The page is not cross-origin isolated, so threads are unavailable.';
    } else {
      fallbackReason = 'Single-thread engine requested.';
    }
    if (!M) M = await importEngine('st');
    binding = new EngineBinding(M);
    const info = binding.buildInfo;
    // The engine's pool uses threads − 1 pthreads plus the caller; it must never need more
    // pthreads than emscripten preloaded (toolchain-notes §8 pitfall 1), nor more than the cores.
    const preloaded = variant === 'mt' ? (M.PThread?.unusedWorkers.length ?? 0) : 0;
    const cap = variant === 'mt' ? Math.max(1, Math.min(info.max_threads, preloaded + 1, navigator.hardwareConcurrency || 1)) : 1;
    threads = opts.threads && opts.threads > 0 ? Math.min(opts.threads, cap) : cap;
    status = { variant, threads, kernels: info.kernels, crossOriginIsolated: isolated, fallbackReason };
    return status;
  },

  async beginModel(slot, totalBytes) {
    const b = requireBinding();
    loads.get(slot)?.abort();
    models.get(slot)?.free();
    models.delete(slot);
    loads.set(slot, b.beginLoad(totalBytes));
  },

  async writeModel(slot, part) {
    const load = loads.get(slot);
    if (!load) throw new EngineError('No model load in progress');
    load.write(part);
    releaseBuffer(part);
  },

  async finishModel(slot) {
    const load = loads.get(slot);
    if (!load) throw new EngineError('No model load in progress');
    loads.delete(slot);
    const model = load.finish(threads);
    models.set(slot, model);
    return model.info;
  },

  async unloadModel(slot) {
    loads.get(slot)?.abort();
    loads.delete(slot);
    models.get(slot)?.free();
    models.delete(slot);
  },

  async transcribe(pcm, opts, onText) {
    const model = models.get('asr');
    if (!model) throw new EngineError('No speech recognition model is loaded');
    cancelRequested = false;
    lastPcm = pcm;
    await yieldToEvents();
    if (cancelRequested) throw abortError();
    const session = model.startTranscription(pcm, opts, threads);
    try {
      for (;;) {
        await yieldToEvents();
        if (cancelRequested) throw abortError();
        const tok = session.step();
        const text = session.takeText();
        if (text && onText) onText(text);
        if (tok < 0) break;
      }
      return session.result();
    } finally {
      session.free();
    }
  },

  async align(units, pcm) {
    const model = models.get('aligner');
    if (!model) throw new EngineError('No ForcedAligner model is loaded');
    const audio = pcm ?? lastPcm;
    if (!audio) throw new EngineError('No audio to align');
    cancelRequested = false;
    await yieldToEvents();
    if (cancelRequested) throw abortError();
    return model.align(audio, units);
  },

  cancel() {
    cancelRequested = true;
  },

  async mel(pcm) {
    return requireBinding().mel(pcm, threads);
  },
};

Comlink.expose(api);
