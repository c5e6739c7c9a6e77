// Types of the transcription pipeline (media → VAD → chunks → engine → transcript), shared by the
// pipeline (plain TypeScript, testable in Node) and the UI that only shows it.

export type Stage = 'idle' | 'loading-engine' | 'loading-model' | 'decoding' | 'vad' | 'transcribing' | 'done' | 'cancelled' | 'error';

export interface EngineStatus {
  variant: 'mt' | 'st';
  threads: number;
  kernels: string;
  crossOriginIsolated: boolean;
  /** Why the single-thread variant was chosen, when it was. */
  fallbackReason?: string;
}

export interface Progress {
  stage: Stage;
  /** 0..1 within the stage. */
  ratio: number;
  /** Seconds of audio processed so far and in total (transcribing stage). */
  audioDoneSec?: number;
  audioTotalSec?: number;
  chunkIndex?: number;
  chunkCount?: number;
  /** Audio seconds per wall second so far (transcribing stage). */
  speed?: number;
  etaSec?: number;
  message?: string;
  /**
   * Only in a two-pass run (one model at a time, see `ModelSwap`): 'recognising' while the recogniser
   * works through the chunks, 'aligning' while the aligner adds word times to them. `ratio`, the audio
   * position, speed and ETA then belong to that pass alone.
   */
  phase?: 'recognising' | 'aligning';
}

/**
 * A piece of transcript text with its time span (seconds, absolute in the recording). A list of
 * them concatenates to the transcript text exactly: `text` carries its leading space and attached
 * punctuation (CJK: usually one character; other scripts: one word).
 */
export interface TimedToken {
  text: string;
  start: number;
  end: number;
}

export interface TranscriptChunk {
  index: number;
  start: number;           // seconds in the whole recording
  end: number;
  language: string;        // detected or forced ('' = none)
  text: string;            // final text ('' while running, then the result)
  partial: string;         // text streamed so far while the chunk is running
  status: 'pending' | 'running' | 'done' | 'no-speech' | 'error';
  /** Word/character timings from the ForcedAligner, when it ran (text stage applied). */
  tokens?: TimedToken[];
  error?: string;
  /** Two-pass run: the text is in, its word times come in the second pass (chunk-level times until then). */
  wordsPending?: boolean;
  /** Why this chunk has no word times although they were asked for (it keeps its chunk-level times). */
  wordsError?: string;
  timings?: { mel_ms: number; encoder_ms: number; prefill_ms: number; decode_ms: number; decode_tokens: number };
}

export interface Transcript {
  fileName: string;
  durationSec: number;
  chunks: TranscriptChunk[];
  /** VAD speech segments (seconds). */
  speech: { start: number; end: number }[];
  createdAt: string;
  model?: string;
}

export interface PipelineOptions {
  language: string;        // '' = detect
  context: string;
  /** Stop after VAD + chunking (no model loaded). */
  analyseOnly?: boolean;
  /** Word/character timestamps with the ForcedAligner when it is loaded (default true). */
  wordTimestamps?: boolean;
  /** Chinese inverse text normalisation: spoken numbers as digits (default true). */
  itn?: boolean;
  /** Chinese in Traditional characters with Taiwan phrasing (OpenCC s2twp; default false). */
  traditional?: boolean;
  /**
   * The device holds one model at a time (models/memory.ts): with word timestamps on and no aligner
   * loaded, the run recognises every chunk first, then swaps the engine to the aligner through this,
   * aligns the chunks, and swaps back.
   */
  swap?: ModelSwap;
}

/**
 * Swaps the engine between the recogniser and the aligner, never holding both (the model manager
 * implements it with the stored models). Each call frees the loaded model before loading the other.
 */
export interface ModelSwap {
  /** Frees the recogniser, then loads the aligner. Rejects when the aligner can't be loaded. */
  toAligner(opts?: { signal?: AbortSignal; onProgress?: (ratio: number) => void }): Promise<void>;
  /** Frees the aligner, then loads the recogniser back. */
  toRecogniser(opts?: { signal?: AbortSignal; onProgress?: (ratio: number) => void }): Promise<void>;
}

export interface PipelineEvents {
  onProgress?(p: Progress): void;
  onMedia?(info: { durationSec: number; sampleRate: number }): void;
  onChunks?(t: Transcript): void;               // chunk plan known (all pending)
  onChunkUpdate?(chunk: TranscriptChunk): void; // partial text / status changes
}
