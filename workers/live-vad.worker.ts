/**
 * Streaming Silero VAD v5 for live mode (onnxruntime-web, wasm backend, 1 thread).
 *
 * Unlike workers/vad.worker.ts (whole files, batched streams), this keeps one stream's state across
 * calls: each `push(pcm)` appends 16 kHz samples, runs the model on every complete 512-sample frame
 * (with the 64 samples of context before it, as silero's wrapper does, and the recurrent state carried
 * over) and returns one speech probability per frame. Leftover samples wait for the next push.
 *
 * comlink API (`LiveVadApi`, src/lib/live/live-vad.ts): init(), reset(), push(pcm) → Float32Array.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/wasm';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import modelUrl from '@ricky0123/vad-web/dist/silero_vad_v5.onnx?url';
import { checkSileroSession, VAD_DEFAULTS } from '../src/lib/silero-vad';
import type { LiveVadApi } from '../src/lib/live/live-vad';

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = { wasm: new URL(ortWasmUrl, self.location.href).href };

const FRAME = VAD_DEFAULTS.frameSamples;
const CTX = VAD_DEFAULTS.contextSamples;

let session: Promise<ort.InferenceSession> | null = null;
let state: ort.Tensor | null = null;
let pending = new Float32Array(0);
const input = new Float32Array(CTX + FRAME);
let queue: Promise<unknown> = Promise.resolve();

function getSession(): Promise<ort.InferenceSession> {
  if (!session) {
    session = (async () => {
      const res = await fetch(new URL(modelUrl, self.location.href));
      if (!res.ok) throw new Error(`could not load the VAD model (${res.status} ${res.statusText})`);
      const s = await ort.InferenceSession.create(new Uint8Array(await res.arrayBuffer()), {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
      checkSileroSession(s);
      return s;
    })();
    session.catch(() => {
      session = null;
    });
  }
  return session;
}

function resetStream(): void {
  state = null;
  pending = new Float32Array(0);
  input.fill(0);
}

async function pushFrames(pcm: Float32Array): Promise<Float32Array> {
  const s = await getSession();
  const all = new Float32Array(pending.length + pcm.length);
  all.set(pending);
  all.set(pcm, pending.length);
  const frames = Math.floor(all.length / FRAME);
  const probs = new Float32Array(frames);
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_DEFAULTS.sampleRate)]), []);
  for (let f = 0; f < frames; f++) {
    // input = last CTX samples of the previous frame, then this frame.
    input.copyWithin(0, FRAME, FRAME + CTX);
    input.set(all.subarray(f * FRAME, (f + 1) * FRAME), CTX);
    if (!state) state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
    const out = await s.run({ input: new ort.Tensor('float32', input.slice(), [1, CTX + FRAME]), state, sr });
    state = out.stateN as ort.Tensor;
    probs[f] = (out.output.data as Float32Array)[0];
  }
  pending = all.slice(frames * FRAME);
  return probs;
}

const api: LiveVadApi = {
  async init() {
    await getSession();
  },
  async reset() {
    await queue.catch(() => {});
    resetStream();
  },
  push(pcm) {
    const run = queue.then(() => pushFrames(pcm));
    queue = run.catch(() => {});
    return run.then((probs) => Comlink.transfer(probs, [probs.buffer as ArrayBuffer]));
  },
};

Comlink.expose(api);
