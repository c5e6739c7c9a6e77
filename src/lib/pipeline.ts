// The transcription pipeline as plain TypeScript (the UI only shows it):
// media worker (ffmpeg.wasm) → VAD worker (Silero) → chunk plan → engine worker, chunk by chunk,
// with progress, speed, ETA, streamed text and cancellation at every stage.
import { planChunks, quietestPointFromPcm } from './chunker';
import { Engine } from './engine';
import type { ModelInfo } from './engine-binding';
import { MediaDecoder } from './media';
import { sniffModelKind, type ModelKind } from './model-file';
import type { PipelineEvents, PipelineOptions, Progress, TimedToken, Transcript, TranscriptChunk } from './pipeline-types';
import { applyTextStage } from './text/text-stage';
import { alignerUnits, attachTimes } from './text/units';
import { VoiceActivityDetector } from './vad';

export { transcriptToJson, transcriptToSrt, transcriptToText, transcriptToVtt } from './export';

export const SAMPLE_RATE = 16000;

export interface PipelineDeps {
  media?: MediaDecoder;
  vad?: VoiceActivityDetector;
  engine?: Engine;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DOMException('Cancelled', 'AbortError');
}

export class TranscriptionController {
  readonly media: MediaDecoder;
  readonly vad: VoiceActivityDetector;
  readonly engine: Engine;
  private readonly models = new Map<ModelKind, { name: string; info: ModelInfo }>();

  constructor(deps: PipelineDeps = {}) {
    this.media = deps.media ?? new MediaDecoder();
    this.vad = deps.vad ?? new VoiceActivityDetector();
    this.engine = deps.engine ?? new Engine();
  }

  engineStatus() {
    return this.engine.start();
  }

  /** The loaded speech recogniser, if any. */
  get loadedModel(): { name: string; info: ModelInfo } | null {
    return this.models.get('asr') ?? null;
  }

  /** The loaded ForcedAligner (word timestamps), if any. */
  get loadedAligner(): { name: string; info: ModelInfo } | null {
    return this.models.get('aligner') ?? null;
  }

  /**
   * Loads a local model file (.bin) into the slot its header names (recogniser or aligner).
   * A file that is not a model is refused before anything is replaced; if the engine rejects it,
   * that slot is empty afterwards (the engine frees the old model first to make room).
   */
  async loadModelFile(file: File, onProgress: (ratio: number) => void, signal?: AbortSignal): Promise<{ name: string; info: ModelInfo }> {
    const kind = await sniffModelKind(file);
    this.models.delete(kind);
    const info = await this.engine.loadModel(kind, file, onProgress, signal);
    const loaded = { name: file.name, info };
    this.models.set(kind, loaded);
    return loaded;
  }

  /**
   * Loads a model held as parts (a stored download) into the slot of its kind. `name` is what the
   * UI shows (e.g. the manifest's display name).
   */
  async loadModelParts(kind: ModelKind, name: string, totalBytes: number, parts: AsyncIterable<Uint8Array>, onProgress: (ratio: number) => void, signal?: AbortSignal): Promise<{ name: string; info: ModelInfo }> {
    this.models.delete(kind);
    const info = await this.engine.loadModelParts(kind, totalBytes, parts, onProgress, signal);
    if (info.kind !== kind) {
      await this.engine.unloadModel(kind);
      throw new Error(`"${name}" holds a ${info.kind === 'asr' ? 'speech recognition' : 'ForcedAligner'} model, not the expected kind`);
    }
    const loaded = { name, info };
    this.models.set(kind, loaded);
    return loaded;
  }

  /** Frees a loaded model. */
  async unloadModel(kind: ModelKind): Promise<void> {
    this.models.delete(kind);
    await this.engine.unloadModel(kind);
  }

  async run(file: File | Blob, name: string, options: PipelineOptions, events: PipelineEvents = {}, signal?: AbortSignal): Promise<Transcript> {
    const progress = (p: Progress) => events.onProgress?.(p);
    throwIfAborted(signal);

    progress({ stage: 'decoding', ratio: 0, message: 'Decoding the media file' });
    const decoded = await this.media.decode(file, {
      name,
      signal,
      onProgress: (p) => progress({ stage: 'decoding', ratio: p.ratio, message: 'Decoding the media file' }),
    });
    const durationSec = decoded.pcm.length / SAMPLE_RATE;
    events.onMedia?.({ durationSec, sampleRate: SAMPLE_RATE });
    throwIfAborted(signal);

    progress({ stage: 'vad', ratio: 0, message: 'Finding speech' });
    const vadResult = await this.vad.detect(decoded.pcm, {
      signal,
      transfer: true,
      onProgress: (ratio) => progress({ stage: 'vad', ratio, message: 'Finding speech' }),
    });
    const segments = vadResult.segments;
    // The PCM went to the VAD worker without a copy and came back with the result.
    const pcm = vadResult.pcm ?? decoded.pcm;
    throwIfAborted(signal);

    const plan = planChunks(segments, durationSec, {}, quietestPointFromPcm(pcm, SAMPLE_RATE));
    const transcript: Transcript = {
      fileName: name,
      durationSec,
      speech: segments,
      createdAt: new Date().toISOString(),
      model: this.loadedModel?.name,
      chunks: plan.map((c, index): TranscriptChunk => ({ index, start: c.start, end: c.end, language: '', text: '', partial: '', status: 'pending' })),
    };
    events.onChunks?.(transcript);
    if (options.analyseOnly || !this.loadedModel || transcript.chunks.length === 0) {
      progress({ stage: 'done', ratio: 1, message: transcript.chunks.length === 0 ? 'No speech found' : 'Speech analysed' });
      return transcript;
    }

    const audioTotalSec = transcript.chunks.reduce((s, c) => s + (c.end - c.start), 0);
    let audioDoneSec = 0;     // audio of finished chunks (also failed ones: the bar moves on)
    let transcribedSec = 0;   // audio of chunks that produced a result, and the time they took
    let transcribeMs = 0;
    const t0 = performance.now();
    for (const chunk of transcript.chunks) {
      throwIfAborted(signal);
      const chunkSec = chunk.end - chunk.start;
      const chunkT0 = performance.now();
      const speed = transcribedSec > 0 ? transcribedSec / (transcribeMs / 1000) : undefined;
      // Within a chunk the bar advances on the speed measured so far (capped below the chunk's end).
      const report = () => {
        const inChunk = speed ? Math.min(0.95 * chunkSec, ((performance.now() - chunkT0) / 1000) * speed) : 0;
        const done = audioDoneSec + inChunk;
        progress({
          stage: 'transcribing', ratio: done / audioTotalSec, audioDoneSec: done, audioTotalSec,
          chunkIndex: chunk.index, chunkCount: transcript.chunks.length, speed,
          etaSec: speed ? (audioTotalSec - done) / speed : undefined,
        });
      };
      report();
      chunk.status = 'running';
      events.onChunkUpdate?.(chunk);
      const slice = pcm.slice(Math.floor(chunk.start * SAMPLE_RATE), Math.ceil(chunk.end * SAMPLE_RATE));
      try {
        const r = await this.engine.transcribe(slice, {
          language: options.language || undefined,
          context: options.context.trim() ? options.context.trim().normalize('NFC') : undefined,
          signal,
          onText: (t) => { chunk.partial += t; events.onChunkUpdate?.(chunk); report(); },
        });
        chunk.language = r.language;
        chunk.timings = r.timings;
        if (r.text.trim()) {
          const tokens = await this.timedText(r.text, chunk, options, signal);
          chunk.tokens = tokens;
          chunk.text = tokens.map((t) => t.text).join('');
          chunk.status = 'done';
        } else {
          chunk.text = '';
          chunk.status = 'no-speech';
        }
        transcribedSec += chunkSec;
        transcribeMs += performance.now() - chunkT0;
      } catch (e) {
        if ((e as Error).name === 'AbortError') {
          chunk.status = 'pending';
          chunk.partial = '';
          events.onChunkUpdate?.(chunk);
          throw e;
        }
        chunk.status = 'error';
        chunk.error = (e as Error).message;
      }
      events.onChunkUpdate?.(chunk);
      audioDoneSec += chunkSec;
    }
    const elapsedSec = (performance.now() - t0) / 1000;
    progress({
      stage: 'done', ratio: 1, audioDoneSec, audioTotalSec, chunkCount: transcript.chunks.length, message: 'Done',
      speed: transcribedSec > 0 ? transcribedSec / elapsedSec : undefined,
    });
    return transcript;
  }

  /**
   * Per-chunk text stage: align the raw recognised text (ForcedAligner, when loaded), offset the
   * times by the chunk start, then ITN / Traditional / words, keeping the timings. Without the
   * aligner the chunk is one timed token. The aligner's range (400 s) is far above the chunk
   * limit (30 s), so a chunk never exceeds it.
   */
  private async timedText(text: string, chunk: TranscriptChunk, options: PipelineOptions, signal?: AbortSignal): Promise<TimedToken[]> {
    const span = { start: chunk.start, end: chunk.end };
    let tokens: TimedToken[] = [{ text, start: span.start, end: span.end }];
    const aligner = this.loadedAligner;
    if (aligner && options.wordTimestamps !== false) {
      const maxSec = (aligner.info.classify_num * aligner.info.timestamp_segment_ms) / 1000;
      if (chunk.end - chunk.start > maxSec) throw new Error(`A chunk of ${(chunk.end - chunk.start).toFixed(1)} s exceeds the aligner's ${maxSec} s`);
      const units = alignerUnits(text);
      const aligned = await this.engine.align(units.map((u) => u.unit), { signal });
      const times = aligned.start_ms.map((s, i) => ({ start: chunk.start + s / 1000, end: chunk.start + aligned.end_ms[i] / 1000 }));
      tokens = attachTimes(text, units, times, span);
    }
    // jieba (a 4 MB wasm) is only loaded for text with Han characters.
    const han = /\p{Script=Han}/u.test(text);
    return applyTextStage(tokens, { itn: options.itn !== false && han, traditional: options.traditional === true && han, words: han });
  }

  dispose(): void {
    this.media.dispose();
    this.vad.dispose();
    this.engine.dispose();
  }
}
