// Message protocol of the engine worker (workers/engine.worker.ts), shared with the page wrapper.
import type { EngineStatus } from './pipeline-types';
import type { AlignResult, ModelInfo, TranscribeOptions, TranscribeResult } from './engine-binding';

export type ModelSlot = 'asr' | 'aligner';

export interface EngineInitOptions {
  /** 'auto' picks the threaded variant when the page is cross-origin isolated. */
  variant?: 'auto' | 'mt' | 'st';
  /** Threads to use (capped by the build's pool); 0 = all. */
  threads?: number;
}

export interface EngineWorkerApi {
  init(opts: EngineInitOptions): Promise<EngineStatus>;
  beginModel(slot: ModelSlot, totalBytes: number): Promise<void>;
  writeModel(slot: ModelSlot, part: Uint8Array): Promise<void>;
  finishModel(slot: ModelSlot): Promise<ModelInfo>;
  unloadModel(slot: ModelSlot): Promise<void>;
  /** Transcribes one chunk; onText receives text as it is decoded. Rejects with AbortError on cancel. */
  transcribe(pcm: Float32Array, opts: TranscribeOptions, onText?: (text: string) => void): Promise<TranscribeResult>;
  /**
   * ForcedAligner pass: times (ms from the chunk start) for each text unit. Without `pcm`, the
   * audio of the last transcribe() call is used (it stays in the worker, no second transfer).
   */
  align(units: string[], pcm?: Float32Array): Promise<AlignResult>;
  /** Stops the running transcription within one decode step. */
  cancel(): void;
  /** Log-mel of PCM (tests and diagnostics). */
  mel(pcm: Float32Array): Promise<{ T: number; data: Float32Array }>;
}
