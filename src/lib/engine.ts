// Page-side wrapper of the engine worker: `await engine.transcribe(pcm, { language, onText, signal })`.
import * as Comlink from 'comlink';
import type { AlignResult, ModelInfo, TranscribeOptions, TranscribeResult } from './engine-binding';
import type { EngineInitOptions, EngineWorkerApi, ModelSlot } from './engine-protocol';
import type { EngineStatus } from './pipeline-types';

/** Bytes handed to the worker per message while loading a model. */
const LOAD_PART_BYTES = 8 * 1024 * 1024;

export class Engine {
  private worker: Worker | null = null;
  private api: Comlink.Remote<EngineWorkerApi> | null = null;
  private statusPromise: Promise<EngineStatus> | null = null;

  constructor(private readonly initOptions: EngineInitOptions = {}) {}

  /** Starts the worker once; later calls return the same status. */
  start(): Promise<EngineStatus> {
    if (!this.statusPromise) {
      this.worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module' });
      this.api = Comlink.wrap<EngineWorkerApi>(this.worker);
      this.statusPromise = this.api.init(this.initOptions);
      // A failed start frees its worker, so a retry does not leave one behind.
      const worker = this.worker;
      this.statusPromise.catch(() => {
        worker.terminate();
        if (this.worker === worker) this.dispose();
      });
    }
    return this.statusPromise;
  }

  private async remote(): Promise<Comlink.Remote<EngineWorkerApi>> {
    await this.start();
    return this.api!;
  }

  /**
   * Streams a model into the engine (no full copy in page memory): parts are transferred to the
   * worker, which writes them into the WASM heap. Rejects with the loader's message on a bad file.
   */
  async loadModel(slot: ModelSlot, source: Blob, onProgress?: (ratio: number) => void, signal?: AbortSignal): Promise<ModelInfo> {
    const api = await this.remote();
    await api.beginModel(slot, source.size);
    try {
      for (let offset = 0; offset < source.size; offset += LOAD_PART_BYTES) {
        if (signal?.aborted) throw signal.reason ?? new DOMException('Aborted', 'AbortError');
        const part = new Uint8Array(await source.slice(offset, offset + LOAD_PART_BYTES).arrayBuffer());
        await api.writeModel(slot, Comlink.transfer(part, [part.buffer]));
        onProgress?.(Math.min(1, (offset + part.byteLength) / source.size));
      }
      return await api.finishModel(slot);
    } catch (e) {
      await api.unloadModel(slot).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Streams a model given as parts (e.g. the stored parts of a download in IndexedDB) into the
   * engine; `totalBytes` must be their total size. Each part is transferred, never kept here.
   */
  async loadModelParts(slot: ModelSlot, totalBytes: number, parts: AsyncIterable<Uint8Array>, onProgress?: (ratio: number) => void, signal?: AbortSignal): Promise<ModelInfo> {
    const api = await this.remote();
    await api.beginModel(slot, totalBytes);
    try {
      let done = 0;
      for await (const part of parts) {
        if (signal?.aborted) throw signal.reason ?? new DOMException('Aborted', 'AbortError');
        done += part.byteLength;
        await api.writeModel(slot, Comlink.transfer(part, [part.buffer]));
        onProgress?.(Math.min(1, done / totalBytes));
      }
      return await api.finishModel(slot);
    } catch (e) {
      await api.unloadModel(slot).catch(() => undefined);
      throw e;
    }
  }

  async unloadModel(slot: ModelSlot): Promise<void> {
    await (await this.remote()).unloadModel(slot);
  }

  /** Transcribes one chunk of 16 kHz PCM (transferred: the caller's array is emptied). */
  async transcribe(pcm: Float32Array, opts: TranscribeOptions & { onText?: (t: string) => void; signal?: AbortSignal } = {}): Promise<TranscribeResult> {
    const api = await this.remote();
    const { onText, signal, ...options } = opts;
    if (signal?.aborted) throw new DOMException('Transcription cancelled', 'AbortError');
    const onAbort = () => { void api.cancel(); };
    signal?.addEventListener('abort', onAbort);
    try {
      return await api.transcribe(Comlink.transfer(pcm, [pcm.buffer]), options, onText ? Comlink.proxy(onText) : undefined);
    } catch (e) {
      if ((e as Error).name === 'AbortError' || signal?.aborted) throw new DOMException('Transcription cancelled', 'AbortError');
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Word/character times of the last transcribed chunk (or of `pcm`), ms from its start. */
  async align(units: string[], opts: { pcm?: Float32Array; signal?: AbortSignal } = {}): Promise<AlignResult> {
    const api = await this.remote();
    if (opts.signal?.aborted) throw new DOMException('Cancelled', 'AbortError');
    const onAbort = () => { void api.cancel(); };
    opts.signal?.addEventListener('abort', onAbort);
    try {
      return await api.align(units, opts.pcm ? Comlink.transfer(opts.pcm, [opts.pcm.buffer]) : undefined);
    } catch (e) {
      if ((e as Error).name === 'AbortError' || opts.signal?.aborted) throw new DOMException('Cancelled', 'AbortError');
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async mel(pcm: Float32Array): Promise<{ T: number; data: Float32Array }> {
    return (await this.remote()).mel(pcm);
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    this.api = null;
    this.statusPromise = null;
  }
}
