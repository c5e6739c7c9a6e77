/**
 * Page side of the streaming VAD worker (workers/live-vad.worker.ts): Silero v5 with its state kept
 * across 512-sample frames, for live mode.
 *
 *   const vad = new LiveVad();
 *   await vad.init();
 *   const probs = await vad.push(pcm16k);   // one probability per completed 32 ms frame, in order
 *   vad.dispose();
 */
import * as Comlink from 'comlink';

export interface LiveVadApi {
  init(): Promise<void>;
  /** Forget the stream (state, context, leftover samples). */
  reset(): Promise<void>;
  /** Appends samples; returns the speech probability of each frame completed by them. */
  push(pcm: Float32Array): Promise<Float32Array>;
}

export class LiveVad {
  #worker: Worker | null = null;
  #remote: Comlink.Remote<LiveVadApi> | null = null;
  #failed: ((e: unknown) => void) | null = null;
  #failure: Promise<never>;

  constructor() {
    this.#failure = new Promise<never>((_, reject) => {
      this.#failed = reject;
    });
    this.#failure.catch(() => {});
  }

  #api(): Comlink.Remote<LiveVadApi> {
    if (!this.#remote) {
      const worker = new Worker(new URL('../../../workers/live-vad.worker.ts', import.meta.url), { type: 'module', name: 'live-vad' });
      worker.addEventListener('error', (ev) => this.#failed?.(new Error(`the voice detector failed to start: ${ev.message || 'worker error'}`)));
      this.#worker = worker;
      this.#remote = Comlink.wrap<LiveVadApi>(worker);
    }
    return this.#remote;
  }

  init(): Promise<void> {
    return Promise.race([this.#api().init(), this.#failure]);
  }

  reset(): Promise<void> {
    return Promise.race([this.#api().reset(), this.#failure]);
  }

  push(pcm: Float32Array): Promise<Float32Array> {
    const copy = pcm.slice();
    return Promise.race([this.#api().push(Comlink.transfer(copy, [copy.buffer])), this.#failure]);
  }

  dispose(): void {
    this.#remote?.[Comlink.releaseProxy]();
    this.#worker?.terminate();
    this.#remote = null;
    this.#worker = null;
  }
}
