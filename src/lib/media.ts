/**
 * Page-side wrapper of the media worker (workers/media.worker.ts).
 *
 *   const decoder = new MediaDecoder();
 *   const { pcm, sampleRate, durationSec, info } = await decoder.decode(file, { onProgress, signal });
 *   decoder.dispose();
 *
 * - `decode(file, { name?, onProgress?, signal?, range? })` → 16 kHz mono Float32Array (transferred
 *   from the worker, no copy); with `range`, only that window of the input (see `DecodeRange`). Rejects with `MediaDecodeError` (`.code`: 'empty-file' | 'not-media' |
 *   'no-audio' | 'decode-failed', `.message` is user-readable) or, when `signal` aborts or
 *   `dispose()` is called, a `DOMException` named 'AbortError'.
 * - Cancellation: the worker is busy inside ffmpeg, so abort terminates the whole media worker
 *   (which also ends ffmpeg's nested worker) and rejects at once; the next call lazily creates a
 *   fresh worker (the ffmpeg core reloads in ~0.3 s).
 * - Calls are queued here and run one at a time; aborting a queued call just removes it.
 * - `warmup()` creates the worker and loads the ffmpeg core ahead of the first file.
 * - `leftovers()` (tests only) lists per-call paths left in ffmpeg's FS: expected `[]`.
 */
import * as Comlink from 'comlink';
import { MediaDecodeError, toMediaDecodeError, type DecodeProgress, type DecodeRange, type DecodeResult, type MediaWorkerApi } from './media-protocol';

export { MediaDecodeError } from './media-protocol';
export type { DecodeProgress, DecodeRange, DecodeResult, MediaErrorCode, MediaInfo, MediaStreamSummary } from './media-protocol';

export interface DecodeOptions {
  /** Name for messages and for the extension hint; defaults to `file.name` (or 'audio'). */
  name?: string;
  onProgress?: (p: DecodeProgress) => void;
  signal?: AbortSignal;
  /**
   * Decode only this window of the input (`{ startSec, durationSec?, preRollSec? }`); the result's
   * `endOfInput` says whether the input ended inside it. Long recordings are decoded this way, one
   * window at a time, so their whole PCM never exists at once.
   */
  range?: DecodeRange;
}

function abortError(message = 'Decoding was cancelled'): DOMException {
  return new DOMException(message, 'AbortError');
}

export class MediaDecoder {
  #worker: Worker | null = null;
  #remote: Comlink.Remote<MediaWorkerApi> | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  /** Rejecters of calls currently talking to the worker (comlink calls never settle if it dies). */
  #inFlight = new Set<(reason: unknown) => void>();
  #disposed = false;

  #ensureWorker(): Comlink.Remote<MediaWorkerApi> {
    if (this.#disposed) throw abortError('MediaDecoder was disposed');
    if (!this.#remote) {
      const worker = new Worker(new URL('../../workers/media.worker.ts', import.meta.url), { type: 'module', name: 'media' });
      worker.addEventListener('error', (ev) => {
        // Script failed to load or an uncaught error: fail whatever is running, start fresh next time.
        const msg = ev.message || 'the media worker failed to start';
        this.#reset(new MediaDecodeError('decode-failed', `Couldn't start the audio decoder: ${msg}`, msg));
      });
      this.#worker = worker;
      this.#remote = Comlink.wrap<MediaWorkerApi>(worker);
    }
    return this.#remote;
  }

  /** Terminate the worker (if any) and reject the calls that were using it. */
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

  /** Run `fn` against the worker after earlier calls finish, honouring `signal` throughout. */
  #enqueue<T>(signal: AbortSignal | undefined, fn: (remote: Comlink.Remote<MediaWorkerApi>) => Promise<T>): Promise<T> {
    const run = this.#queue.then(
      () =>
        new Promise<T>((resolve, reject) => {
          if (signal?.aborted) return reject(abortError());
          let remote: Comlink.Remote<MediaWorkerApi>;
          try {
            remote = this.#ensureWorker();
          } catch (e) {
            return reject(e);
          }
          let settled = false;
          const finish = () => {
            settled = true;
            this.#inFlight.delete(fail);
            signal?.removeEventListener('abort', onAbort);
          };
          const fail = (reason: unknown) => {
            if (settled) return;
            finish();
            reject(reason);
          };
          const onAbort = () => {
            if (settled) return;
            finish();
            reject(abortError());
            this.#reset(abortError());
          };
          this.#inFlight.add(fail);
          signal?.addEventListener('abort', onAbort, { once: true });
          fn(remote).then(
            (v) => {
              if (settled) return;
              finish();
              resolve(v);
            },
            (e: unknown) => fail(toMediaDecodeError(e)),
          );
        }),
    );
    this.#queue = run.catch(() => {});
    // A call aborted while still queued rejects right away instead of waiting for its turn.
    if (!signal) return run;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortError());
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      run.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  decode(file: Blob, options: DecodeOptions = {}): Promise<DecodeResult> {
    const name = options.name ?? (file as Partial<File>).name ?? 'audio';
    const { onProgress, signal, range } = options;
    return this.#enqueue(signal, (remote) => remote.decode(file, name, onProgress ? Comlink.proxy(onProgress) : undefined, range));
  }

  /** Create the worker and load the ffmpeg core now (optional). */
  warmup(signal?: AbortSignal): Promise<void> {
    return this.#enqueue(signal, (remote) => remote.warmup());
  }

  /** Diagnostic for tests: per-call paths left in ffmpeg's FS (expected `[]` between calls). */
  leftovers(): Promise<string[]> {
    return this.#enqueue(undefined, (remote) => remote.leftovers());
  }

  /** Terminate the worker; running and queued calls reject with AbortError. The object is unusable after. */
  dispose(): void {
    this.#disposed = true;
    this.#reset(abortError('MediaDecoder was disposed'));
  }
}
