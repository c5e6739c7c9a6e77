// The transcription pipeline as plain TypeScript (the UI only shows it):
// media worker (ffmpeg.wasm) → VAD worker (Silero) → chunk plan → engine worker, chunk by chunk,
// with progress, speed, ETA, streamed text and cancellation at every stage.
import { planChunks, quietestPointFromPcm } from './chunker';
import { Engine } from './engine';
import type { ModelInfo } from './engine-binding';
import { MediaDecoder } from './media';
import type { PipelineEvents, PipelineOptions, Progress, Transcript, TranscriptChunk } from './pipeline-types';
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
  private model: { name: string; info: ModelInfo } | null = null;

  constructor(deps: PipelineDeps = {}) {
    this.media = deps.media ?? new MediaDecoder();
    this.vad = deps.vad ?? new VoiceActivityDetector();
    this.engine = deps.engine ?? new Engine();
  }

  engineStatus() {
    return this.engine.start();
  }

  get loadedModel(): { name: string; info: ModelInfo } | null {
    return this.model;
  }

  /** Loads a local model file (.bin) as the recogniser; the previous model stays on failure. */
  async loadModelFile(file: File, onProgress: (ratio: number) => void, signal?: AbortSignal): Promise<{ name: string; info: ModelInfo }> {
    const info = await this.engine.loadModel('asr', file, onProgress, signal);
    if (info.kind !== 'asr') {
      await this.engine.unloadModel('asr');
      this.model = null;
      throw new Error(`"${file.name}" is a ForcedAligner model (word timestamps), not a speech recogniser. Choose a Qwen3-ASR model file.`);
    }
    this.model = { name: file.name, info };
    return this.model;
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
    const pcm = decoded.pcm;
    const durationSec = pcm.length / SAMPLE_RATE;
    events.onMedia?.({ durationSec, sampleRate: SAMPLE_RATE });
    throwIfAborted(signal);

    progress({ stage: 'vad', ratio: 0, message: 'Finding speech' });
    const { segments } = await this.vad.detect(pcm, {
      signal,
      onProgress: (ratio) => progress({ stage: 'vad', ratio, message: 'Finding speech' }),
    });
    throwIfAborted(signal);

    const plan = planChunks(segments, durationSec, {}, quietestPointFromPcm(pcm, SAMPLE_RATE));
    const transcript: Transcript = {
      fileName: name,
      durationSec,
      speech: segments,
      createdAt: new Date().toISOString(),
      model: this.model?.name,
      chunks: plan.map((c, index): TranscriptChunk => ({ index, start: c.start, end: c.end, language: '', text: '', partial: '', status: 'pending' })),
    };
    events.onChunks?.(transcript);
    if (options.analyseOnly || !this.model || transcript.chunks.length === 0) {
      progress({ stage: 'done', ratio: 1, message: transcript.chunks.length === 0 ? 'No speech found' : 'Speech analysed' });
      return transcript;
    }

    const audioTotalSec = transcript.chunks.reduce((s, c) => s + (c.end - c.start), 0);
    let audioDoneSec = 0;
    const t0 = performance.now();
    for (const chunk of transcript.chunks) {
      throwIfAborted(signal);
      const elapsed = (performance.now() - t0) / 1000;
      const speed = audioDoneSec > 0 ? audioDoneSec / elapsed : undefined;
      progress({
        stage: 'transcribing', ratio: audioDoneSec / audioTotalSec, audioDoneSec, audioTotalSec,
        chunkIndex: chunk.index, chunkCount: transcript.chunks.length, speed,
        etaSec: speed ? (audioTotalSec - audioDoneSec) / speed : undefined,
      });
      chunk.status = 'running';
      events.onChunkUpdate?.(chunk);
      const slice = pcm.slice(Math.floor(chunk.start * SAMPLE_RATE), Math.ceil(chunk.end * SAMPLE_RATE));
      try {
        const r = await this.engine.transcribe(slice, {
          language: options.language || undefined,
          context: options.context.trim() ? options.context.trim().normalize('NFC') : undefined,
          signal,
          onText: (t) => { chunk.partial += t; events.onChunkUpdate?.(chunk); },
        });
        chunk.text = r.text;
        chunk.language = r.language;
        chunk.timings = r.timings;
        chunk.status = r.text.trim() ? 'done' : 'no-speech';
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
      audioDoneSec += chunk.end - chunk.start;
    }
    const elapsed = (performance.now() - t0) / 1000;
    progress({ stage: 'done', ratio: 1, audioDoneSec, audioTotalSec, speed: audioDoneSec / elapsed, chunkCount: transcript.chunks.length, message: 'Done' });
    return transcript;
  }

  dispose(): void {
    this.media.dispose();
    this.vad.dispose();
    this.engine.dispose();
  }
}
