// The transcription pipeline as plain TypeScript (the UI only shows it):
// media worker (ffmpeg.wasm) → VAD worker (Silero) → chunk plan → engine worker, chunk by chunk,
// with progress, speed, ETA, streamed text and cancellation at every stage.
//
// Memory stays bounded whatever the length of the recording: the file is decoded in windows
// (5 min, then 10 min), each window is searched for speech and planned as soon as it is decoded,
// its chunks are cut out (≤ 30 s each) and queued for the engine, and the window is dropped. The
// decoder runs ahead of the engine by at most `maxQueuedSec` of queued speech. A 3-hour file thus
// holds one window (~38 MB of float32), a ~1 min carry and ≤ 20 min of queued chunks, never the
// 690 MB of the whole recording.
//
// Two passes when the device holds one model at a time (`PipelineOptions.swap`) and word timestamps
// are wanted: pass 1 recognises every chunk with only the recogniser loaded (chunk-level times, each
// chunk marked `wordsPending`); then the engine is swapped to the aligner and pass 2 aligns the chunks
// in order, with their audio kept from pass 1 within `keepPcmBytes` or decoded again window by window;
// then the recogniser is loaded back at once (the next file, the live microphone and the Transcribe
// button all need it).
import { planChunks, quietestPointFromPcm } from './chunker';
import { Engine } from './engine';
import type { ModelInfo } from './engine-binding';
import { MediaDecoder, type MediaInfo } from './media';
import { sniffModelKind, type ModelKind } from './model-file';
import type { ModelSwap, PipelineEvents, PipelineOptions, Progress, TimedToken, Transcript, TranscriptChunk } from './pipeline-types';
import { applyTextStage } from './text/text-stage';
import { alignerUnits, attachTimes } from './text/units';
import { VoiceActivityDetector } from './vad';

export { transcriptToJson, transcriptToSrt, transcriptToText, transcriptToVtt } from './export';

export const SAMPLE_RATE = 16000;

/** Streamed partial text and progress are passed on at most this often (ms). */
const STREAM_UPDATE_MS = 100;

/** How long recordings are cut into windows (all times in seconds). */
export interface WindowingOptions {
  /** The first window: short, so the first text shows early; a file shorter than this is one window. */
  firstWindowSec: number;
  /** Every later window. */
  windowSec: number;
  /** Audio decoded before each window (after a seek) and dropped, so the decoder has settled. */
  preRollSec: number;
  /** Chunks ending within this of a window's end are planned again with the next window. */
  commitMarginSec: number;
  /** Audio before a re-planned stretch given to the VAD to settle its state (not planned). */
  vadWarmupSec: number;
  /** The decoder stops running ahead when this much planned audio waits for the engine. */
  maxQueuedSec: number;
  /** A window this much shorter than asked for means the input ended (or is damaged) there. */
  shortfallSec: number;
  /** Decoded audio this much shorter than the container's duration is reported as missing. */
  truncatedSec: number;
  /** Two-pass runs: chunk PCM kept for the aligner up to this many bytes (64 MB ≈ 17 min); chunks
   *  past it are decoded again in pass 2, in windows of at most `windowSec`. */
  keepPcmBytes: number;
}

export const WINDOWING_DEFAULTS: Readonly<WindowingOptions> = Object.freeze({
  firstWindowSec: 300,
  windowSec: 600,
  preRollSec: 1,
  commitMarginSec: 60,
  vadWarmupSec: 0.5,
  maxQueuedSec: 1200,
  shortfallSec: 0.5,
  truncatedSec: 1,
  keepPcmBytes: 64 * 1024 * 1024,
});

export interface PipelineDeps {
  media?: MediaDecoder;
  vad?: VoiceActivityDetector;
  engine?: Engine;
  /** Overrides of WINDOWING_DEFAULTS (tests use small windows). */
  windowing?: Partial<WindowingOptions>;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DOMException('Cancelled', 'AbortError');
}

function isAbort(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

/** Wakes every waiter on notify() (a tiny condition variable for the two loops of a run). */
class Notifier {
  #waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** "1:02:03" / "12:30" for messages. */
function clock(sec: number): string {
  const s = Math.max(0, Math.floor(sec + 1e-6)); // floors, like the UI's clock
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** "6 s" / "3 min 20 s" for messages. */
function span(sec: number): string {
  const s = Math.max(1, Math.round(sec));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}

export class TranscriptionController {
  readonly media: MediaDecoder;
  readonly vad: VoiceActivityDetector;
  readonly engine: Engine;
  readonly windowing: Readonly<WindowingOptions>;
  private readonly models = new Map<ModelKind, { name: string; info: ModelInfo }>();

  constructor(deps: PipelineDeps = {}) {
    this.media = deps.media ?? new MediaDecoder();
    this.vad = deps.vad ?? new VoiceActivityDetector();
    this.engine = deps.engine ?? new Engine();
    this.windowing = { ...WINDOWING_DEFAULTS, ...deps.windowing };
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

  /**
   * Decodes, finds the speech and transcribes `file`. Long recordings never exist as one PCM array:
   * the file is decoded window by window (`WindowingOptions`), each window (plus a short carry from
   * the one before) goes through the VAD and the chunk planner, and the chunks that are final are
   * queued for the engine at once, so transcription runs while the next window is decoded. Each
   * window's PCM is dropped once its chunks are cut out of it. The transcript grows as windows are
   * planned (`onChunks` is called again with the longer plan; chunk indices never change).
   */
  async run(file: File | Blob, name: string, options: PipelineOptions, events: PipelineEvents = {}, signal?: AbortSignal): Promise<Transcript> {
    throwIfAborted(signal);
    // Either side (decoding or transcribing) failing stops the other.
    const inner = new AbortController();
    const onOuterAbort = () => inner.abort();
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      return await this.#runWindows(file, name, options, events, inner);
    } finally {
      signal?.removeEventListener('abort', onOuterAbort);
      if (!inner.signal.aborted) inner.abort();
    }
  }

  async #runWindows(file: File | Blob, name: string, options: PipelineOptions, events: PipelineEvents, inner: AbortController): Promise<Transcript> {
    const signal = inner.signal;
    const w = this.windowing;
    const SR = SAMPLE_RATE;
    const progress = (p: Progress) => events.onProgress?.(p);
    const transcribe = !options.analyseOnly && this.loadedModel !== null;
    // One model at a time: recognise everything, then swap to the aligner for the word times.
    const twoPass = transcribe && options.wordTimestamps !== false && options.swap !== undefined && this.loadedAligner === null;
    /** Two-pass runs: what pass 2 needs of each chunk with text (its raw text, its PCM within budget). */
    const pending = new Map<number, { raw: string; pcm?: Float32Array }>();
    let keptBytes = 0;
    const transcript: Transcript = {
      fileName: name,
      durationSec: 0,
      speech: [],
      createdAt: new Date().toISOString(),
      model: this.loadedModel?.name,
      chunks: [],
    };

    // Shared state of the two loops.
    const queue: { chunk: TranscriptChunk; pcm: Float32Array }[] = [];
    let queuedSec = 0;
    let producerDone = false;
    let plannedUntilSec = 0;   // everything before this is planned (chunks queued or no speech)
    let declaredSec: number | undefined; // the container's duration, when reliable
    let decodedSec = 0;        // end of the audio decoded so far
    let transcribingStarted = false;
    let runningChunk: { chunk: TranscriptChunk; t0: number } | null = null;
    let finishedUntilSec = 0;  // end of the last finished chunk
    let transcribedSec = 0;    // audio of chunks that produced a result, and the time they took
    let transcribeMs = 0;
    const runT0 = performance.now();
    const queueChanged = new Notifier();

    const totalSec = () => Math.max(declaredSec ?? 0, decodedSec, 1e-6);
    const speedNow = () => (transcribedSec > 0 ? transcribedSec / (transcribeMs / 1000) : undefined);
    /** The transcribing progress: position in the recording up to which everything is done. */
    const reportTranscribing = () => {
      const speed = speedNow();
      let done = finishedUntilSec;
      if (runningChunk) {
        const { chunk, t0 } = runningChunk;
        const chunkSec = chunk.end - chunk.start;
        const inChunk = speed ? Math.min(0.95 * chunkSec, ((performance.now() - t0) / 1000) * speed) : 0;
        done = Math.max(done, chunk.start + inChunk);
      } else if (queue.length === 0) {
        done = Math.max(done, plannedUntilSec);
      }
      const total = totalSec();
      done = Math.min(done, total);
      const elapsedSec = (performance.now() - runT0) / 1000;
      const rate = done > 0 && elapsedSec > 0.5 ? done / elapsedSec : undefined;
      progress({
        stage: 'transcribing', ratio: done / total, audioDoneSec: done, audioTotalSec: total,
        chunkIndex: runningChunk?.chunk.index ?? Math.max(0, transcript.chunks.length - 1), chunkCount: transcript.chunks.length, speed,
        etaSec: rate ? (total - done) / rate : undefined,
        ...(twoPass && { phase: 'recognising' as const }),
      });
    };
    /** Decoding / VAD progress while nothing is being transcribed yet (ratio over the whole recording). */
    const reportStage = (stage: 'decoding' | 'vad', positionSec: number) => {
      if (transcribingStarted) return reportTranscribing();
      const total = declaredSec ?? Math.max(decodedSec, positionSec, 1e-6);
      progress({
        stage, ratio: Math.min(1, Math.max(0, positionSec / total)),
        message: stage === 'decoding' ? 'Decoding the media file' : 'Finding speech',
      });
    };

    const produce = async (): Promise<string | undefined> => {
      let windowStart = 0;           // samples: start of the next window to decode
      let unitStart = 0;             // samples: where the planning unit starts (all before is committed)
      let carry = new Float32Array(0); // PCM from carryStart up to windowStart
      let carryStart = 0;
      let realEnd = 0;               // samples: end of the real (not zero-padded) decoded audio
      let estimated = false;
      let hasVideo = false;
      let decodeErrors = 0;
      let failure: string | undefined;
      let reportedDuration: number | undefined;
      let firstInfo: MediaInfo | undefined;
      for (let k = 0; ; k++) {
        throwIfAborted(signal);
        const wantSec = k === 0 ? w.firstWindowSec : w.windowSec;
        const want = Math.round(wantSec * SR);
        const windowStartSec = windowStart / SR;
        reportStage('decoding', windowStartSec);
        let pcm: Float32Array;
        let final = false;
        try {
          const r = await this.media.decode(file, {
            name,
            signal,
            range: { startSec: windowStartSec, durationSec: wantSec, preRollSec: w.preRollSec },
            onProgress: (p) => reportStage('decoding', windowStartSec + p.ratio * Math.min(wantSec, Math.max(0, (declaredSec ?? Infinity) - windowStartSec))),
          });
          pcm = r.pcm;
          decodeErrors += r.decodeErrors ?? 0;
          if (k === 0) {
            firstInfo = r.info;
            estimated = r.info.durationEstimated === true;
            hasVideo = r.info.hasVideo;
            const c = r.info.containerDurationSec;
            if (c !== undefined && c > 0 && !estimated) declaredSec = c;
          }
          final = r.endOfInput === true || pcm.length < want - Math.round(w.shortfallSec * SR);
        } catch (e) {
          // The first window decides whether the file can be read at all; a later failure keeps
          // what was decoded before it.
          if (k === 0 || isAbort(e) || signal.aborted) throw e;
          failure = (e as Error).message || String(e);
          pcm = new Float32Array(0);
          final = true;
        }
        throwIfAborted(signal);
        if (pcm.length > 0) realEnd = windowStart + pcm.length;
        // A window cut short by damage in the middle (the container says more follows) is padded
        // with silence, so later windows (which seek by time) stay at their true place.
        if (final && pcm.length > 0 && !failure && declaredSec !== undefined && declaredSec * SR - (windowStart + want) > w.shortfallSec * SR) {
          const padded = new Float32Array(want);
          padded.set(pcm);
          pcm = padded;
          final = false;
        }
        decodedSec = Math.max(decodedSec, realEnd / SR);
        if (!final && pcm.length === 0) final = true;
        const windowEnd = windowStart + pcm.length;
        if (reportedDuration === undefined && (final || declaredSec !== undefined)) {
          reportedDuration = final ? realEnd / SR : declaredSec!;
          transcript.durationSec = reportedDuration;
          // ffmpeg's facts about the input ride along (optional; the UI shows codec, channels, ...).
          const media = { durationSec: reportedDuration, sampleRate: SR, info: firstInfo };
          events.onMedia?.(media);
        }
        if (transcript.durationSec < decodedSec) transcript.durationSec = decodedSec;

        // The planning unit: the carry (from the last commit, with a little VAD warm-up before it)
        // and this window.
        let unit: Float32Array;
        if (carry.length === 0) unit = pcm;
        else {
          unit = new Float32Array(carry.length + pcm.length);
          unit.set(carry);
          unit.set(pcm, carry.length);
        }
        const unitPcmStart = carry.length === 0 ? windowStart : carryStart;
        carry = new Float32Array(0);
        pcm = new Float32Array(0);
        windowStart = windowEnd;
        const unitEnd = unitPcmStart + unit.length;
        if (unit.length === 0 || unitEnd <= unitStart) {
          plannedUntilSec = unitEnd / SR;
          break;
        }

        reportStage('vad', unitStart / SR);
        const unitSpan = Math.max(1e-6, (unitEnd - unitStart) / SR);
        const vr = await this.vad.detect(unit, {
          signal,
          transfer: true,
          onProgress: (ratio) => reportStage('vad', unitStart / SR + ratio * unitSpan),
        });
        unit = vr.pcm ?? unit;
        throwIfAborted(signal);

        // Plan in unit time (0 = unitStart).
        const offsetSec = (unitStart - unitPcmStart) / SR;
        const unitStartSec = unitStart / SR;
        const segments = vr.segments.map((s) => ({ start: s.start - offsetSec, end: s.end - offsetSec })).filter((s) => s.end > 0);
        const probe = quietestPointFromPcm(unit, SR);
        const plan = planChunks(segments, unitSpan, {}, (from, to) => probe(from + offsetSec, to + offsetSec) - offsetSec);
        let commitEnd: number; // unit time
        let committed = plan;
        if (!final) {
          const until = unitSpan - w.commitMarginSec;
          let n = 0;
          while (n < plan.length && plan[n].end <= until) n++;
          committed = plan.slice(0, n);
          if (n > 0) commitEnd = plan[n - 1].end;
          else if (plan.length > 0) commitEnd = Math.max(0, Math.min(plan[0].start, until));
          else commitEnd = Math.max(0, until);
        } else {
          commitEnd = unitSpan;
        }
        const nextUnitStart = Math.min(unitEnd, unitStart + Math.round(commitEnd * SR));
        const committedEndSec = nextUnitStart / SR;

        for (const s of vr.segments) {
          const start = Math.max(s.start + unitPcmStart / SR, unitStartSec);
          const end = Math.min(s.end + unitPcmStart / SR, committedEndSec);
          if (end > start) transcript.speech.push({ start, end });
        }
        for (const c of committed) {
          const chunk: TranscriptChunk = {
            index: transcript.chunks.length,
            start: unitStartSec + c.start,
            end: unitStartSec + c.end,
            language: '',
            text: '',
            partial: '',
            status: 'pending',
          };
          transcript.chunks.push(chunk);
          if (transcribe) {
            const a = Math.max(0, Math.floor(chunk.start * SR) - unitPcmStart);
            const b = Math.min(unit.length, Math.ceil(chunk.end * SR) - unitPcmStart);
            queue.push({ chunk, pcm: unit.slice(a, Math.max(a, b)) });
            queuedSec += chunk.end - chunk.start;
          }
        }
        // What the next unit re-plans: from the commit point (minus VAD warm-up) to the window's end.
        if (!final) {
          carryStart = Math.max(unitPcmStart, nextUnitStart - Math.round(w.vadWarmupSec * SR));
          carry = unit.slice(carryStart - unitPcmStart);
        }
        unit = new Float32Array(0);
        unitStart = nextUnitStart;
        plannedUntilSec = committedEndSec;
        if (committed.length > 0 || final) events.onChunks?.(transcript);
        queueChanged.notify();
        if (final) break;
        // Backpressure: don't decode further ahead than this much untranscribed audio.
        while (transcribe && queuedSec > w.maxQueuedSec && !signal.aborted) await queueChanged.wait();
      }

      // The file ended before its header said it would, or decoding stopped: say so, in the
      // transcript itself, over the part that is missing.
      const endSec = realEnd / SR;
      const missingFrom = Math.max(endSec, transcript.chunks.length ? transcript.chunks[transcript.chunks.length - 1].end : 0);
      let notice: string | undefined;
      const short = declaredSec !== undefined && declaredSec - endSec > Math.max(w.truncatedSec, 0.001 * declaredSec);
      if (failure) {
        notice = `Decoding stopped at ${clock(endSec)}: ${failure} The transcript covers the audio before that point.`;
      } else if (short && (!hasVideo || decodeErrors > 0)) {
        const lost = declaredSec! - endSec;
        // A cut-off file loses at most its last frame or two to decoding errors; more means damage inside.
        notice = decodeErrors > 2
          ? `About ${span(lost)} of audio could not be decoded: the file is damaged (${decodeErrors} damaged ${decodeErrors === 1 ? 'block was' : 'blocks were'} skipped). The transcript covers the audio that could be read.`
          : `The file ends early: the audio from ${clock(endSec)} to ${clock(declaredSec!)} is missing (the file is incomplete or damaged). The transcript covers the part that could be read.`;
      } else if (decodeErrors > 0) {
        notice = `Parts of the file are damaged: ${decodeErrors} damaged ${decodeErrors === 1 ? 'block was' : 'blocks were'} skipped while decoding.`;
      }
      const end = declaredSec !== undefined && short ? declaredSec : endSec;
      if (notice && (failure || short) && end > missingFrom) {
        transcript.chunks.push({ index: transcript.chunks.length, start: missingFrom, end, language: '', text: '', partial: '', status: 'error', error: notice });
        events.onChunks?.(transcript);
      }
      transcript.durationSec = Math.max(end, transcript.chunks.length ? transcript.chunks[transcript.chunks.length - 1].end : 0);
      if (reportedDuration !== transcript.durationSec) events.onMedia?.({ durationSec: transcript.durationSec, sampleRate: SR });
      decodedSec = transcript.durationSec;
      declaredSec = transcript.durationSec;
      plannedUntilSec = transcript.durationSec;
      return notice;
    };

    const consume = async (): Promise<void> => {
      for (;;) {
        if (queue.length === 0) {
          if (producerDone || signal.aborted) break;
          await queueChanged.wait();
          continue;
        }
        throwIfAborted(signal);
        const { chunk, pcm } = queue.shift()!;
        const chunkSec = chunk.end - chunk.start;
        queuedSec -= chunkSec;
        queueChanged.notify();
        transcribingStarted = true;
        const chunkT0 = performance.now();
        runningChunk = { chunk, t0: chunkT0 };
        reportTranscribing();
        chunk.status = 'running';
        events.onChunkUpdate?.(chunk);
        let lastStreamUpdate = performance.now();
        // transcribe() transfers the PCM to the worker: pass 2 gets a copy, while the budget lasts.
        let keep: Float32Array | undefined;
        if (twoPass && keptBytes + pcm.byteLength <= w.keepPcmBytes) {
          keep = pcm.slice();
          keptBytes += keep.byteLength;
        }
        try {
          const r = await this.engine.transcribe(pcm, {
            language: options.language || undefined,
            context: options.context.trim() ? options.context.trim().normalize('NFC') : undefined,
            signal,
            onText: (t) => {
              chunk.partial += t;
              // Streamed text reaches the UI at most every STREAM_UPDATE_MS: a fast model emits
              // hundreds of tokens a second, and each update re-renders part of the page.
              const now = performance.now();
              if (now - lastStreamUpdate >= STREAM_UPDATE_MS) {
                lastStreamUpdate = now;
                events.onChunkUpdate?.(chunk);
                reportTranscribing();
              }
            },
          });
          chunk.language = r.language;
          chunk.timings = r.timings;
          if (r.text.trim()) {
            const tokens = await this.timedText(r.text, chunk, options, signal, !twoPass);
            chunk.tokens = tokens;
            chunk.text = tokens.map((t) => t.text).join('');
            chunk.status = 'done';
            if (twoPass) {
              chunk.wordsPending = true;
              pending.set(chunk.index, { raw: r.text, pcm: keep });
              keep = undefined;
            }
          } else {
            chunk.text = '';
            chunk.status = 'no-speech';
          }
          transcribedSec += chunkSec;
          transcribeMs += performance.now() - chunkT0;
        } catch (e) {
          if (isAbort(e) || signal.aborted) {
            chunk.status = 'pending';
            chunk.partial = '';
            events.onChunkUpdate?.(chunk);
            runningChunk = null;
            throw isAbort(e) ? e : new DOMException('Cancelled', 'AbortError');
          }
          chunk.status = 'error';
          chunk.error = (e as Error).message;
        } finally {
          if (keep) keptBytes -= keep.byteLength;
        }
        runningChunk = null;
        finishedUntilSec = Math.max(finishedUntilSec, chunk.end);
        events.onChunkUpdate?.(chunk);
        reportTranscribing();
      }
    };

    // Run both loops; the first real failure stops the other one.
    let firstError: unknown;
    const guard = (p: Promise<unknown>) =>
      p.catch((e: unknown) => {
        if (firstError === undefined || (isAbort(firstError) && !isAbort(e))) firstError = e;
        if (!signal.aborted) inner.abort();
        queueChanged.notify();
      });
    let notice: string | undefined;
    const producer = guard(
      produce().then((n) => { notice = n; }).finally(() => { producerDone = true; queueChanged.notify(); }),
    );
    const consumer = transcribe ? guard(consume()) : Promise.resolve();
    await Promise.all([producer, consumer]);
    try {
      if (firstError !== undefined) throw firstError;
      throwIfAborted(signal);
      if (twoPass && pending.size > 0) await this.#alignPass(file, name, transcript, pending, options, options.swap!, events, signal);
    } finally {
      // Cancelled or failed before its turn: the chunk keeps its text with chunk-level times.
      for (const c of transcript.chunks) {
        if (!c.wordsPending) continue;
        delete c.wordsPending;
        events.onChunkUpdate?.(c);
      }
    }

    const spoken = transcript.chunks.filter((c) => c.status !== 'error' || c.error !== notice);
    if (!transcribe || spoken.length === 0) {
      progress({
        stage: 'done', ratio: 1,
        message: notice ?? (spoken.length === 0 ? 'No speech found' : 'Speech analysed'),
      });
      return transcript;
    }
    const total = totalSec();
    progress({
      stage: 'done', ratio: 1, audioDoneSec: total, audioTotalSec: total, chunkCount: transcript.chunks.length,
      message: notice ?? 'Done',
      speed: transcribedSec > 0 ? transcribedSec / (transcribeMs / 1000) : undefined,
      etaSec: 0,
    });
    return transcript;
  }

  /**
   * Pass 2 of a two-pass run: swaps the engine to the aligner (the recogniser is freed first), gives
   * each pending chunk its word times in order, then swaps back to the recogniser, whatever happened.
   * A chunk's audio is the copy kept in pass 1, or is decoded again: consecutive chunks share one
   * decoded window of at most `windowSec`, dropped when the next one is needed. A chunk the aligner
   * (or the decoder) fails on keeps its text and chunk-level times, with `wordsError` saying why.
   */
  async #alignPass(
    file: File | Blob, name: string, transcript: Transcript, pending: Map<number, { raw: string; pcm?: Float32Array }>,
    options: PipelineOptions, swap: ModelSwap, events: PipelineEvents, signal: AbortSignal,
  ): Promise<void> {
    const SR = SAMPLE_RATE;
    const w = this.windowing;
    const progress = (p: Progress) => events.onProgress?.(p);
    const chunks = transcript.chunks.filter((c) => pending.has(c.index));
    const total = Math.max(transcript.durationSec, chunks[chunks.length - 1].end, 1e-6);
    const failAll = (why: string) => {
      for (const c of chunks) {
        if (!c.wordsPending) continue;
        delete c.wordsPending;
        c.wordsError = why;
        events.onChunkUpdate?.(c);
      }
    };

    progress({ stage: 'loading-model', phase: 'aligning', ratio: 0 });
    try {
      try {
        await swap.toAligner({ signal, onProgress: (ratio) => progress({ stage: 'loading-model', phase: 'aligning', ratio }) });
        if (!this.loadedAligner) throw new Error('the aligner was not loaded');
      } catch (e) {
        if (signal.aborted) throw new DOMException('Cancelled', 'AbortError');
        failAll(`the word-timestamp aligner could not be loaded: ${(e as Error).message || String(e)}`);
        return;
      }

      const t0 = performance.now();
      let doneSec = 0;     // position in the recording up to which every chunk is aligned
      let alignedSec = 0;  // audio of the aligned chunks, and the time they took (the speed)
      let alignMs = 0;
      const report = (index: number) => {
        const elapsedSec = (performance.now() - t0) / 1000;
        const rate = doneSec > 0 && elapsedSec > 0.5 ? doneSec / elapsedSec : undefined;
        progress({
          stage: 'transcribing', phase: 'aligning', ratio: Math.min(1, doneSec / total), audioDoneSec: doneSec, audioTotalSec: total,
          chunkIndex: index, chunkCount: transcript.chunks.length,
          speed: alignedSec > 0 ? alignedSec / (alignMs / 1000) : undefined,
          etaSec: rate ? (total - doneSec) / rate : undefined,
        });
      };

      let window: { start: number; until: number; pcm: Float32Array } | null = null;
      for (let k = 0; k < chunks.length; k++) {
        throwIfAborted(signal);
        const chunk = chunks[k];
        const entry = pending.get(chunk.index)!;
        pending.delete(chunk.index);
        report(chunk.index);
        const chunkT0 = performance.now();
        try {
          let pcm = entry.pcm;
          entry.pcm = undefined;
          if (!pcm) {
            const a = Math.floor(chunk.start * SR);
            const b = Math.ceil(chunk.end * SR);
            if (!window || a < window.start || b > window.until) {
              window = null;
              // This chunk and the next ones without a kept copy, within one window.
              let until = b;
              for (let j = k + 1; j < chunks.length && chunks[j].end - chunk.start <= w.windowSec; j++) {
                if (!pending.get(chunks[j].index)?.pcm) until = Math.ceil(chunks[j].end * SR);
              }
              const r = await this.media.decode(file, {
                name, signal, range: { startSec: a / SR, durationSec: (until - a) / SR, preRollSec: w.preRollSec },
              });
              window = { start: a, until, pcm: r.pcm };
            }
            // A copy: align() hands its PCM over to the worker.
            pcm = window.pcm.slice(a - window.start, b - window.start);
            if (pcm.length === 0) throw new Error('its audio could not be decoded again');
          }
          const tokens = await this.timedText(entry.raw, chunk, options, signal, true, pcm);
          chunk.tokens = tokens;
          chunk.text = tokens.map((t) => t.text).join('');
          delete chunk.wordsError;
          alignedSec += chunk.end - chunk.start;
          alignMs += performance.now() - chunkT0;
        } catch (e) {
          if (isAbort(e) || signal.aborted) throw isAbort(e) ? e : new DOMException('Cancelled', 'AbortError');
          chunk.wordsError = (e as Error).message || String(e);
        }
        delete chunk.wordsPending;
        doneSec = chunk.end;
        events.onChunkUpdate?.(chunk);
      }
      doneSec = total;
      report(transcript.chunks.length - 1);
    } finally {
      // Also after a cancel or a failed aligner load (the recogniser may be gone already).
      progress({ stage: 'loading-model', phase: 'recognising', ratio: 0 });
      try {
        await swap.toRecogniser({ onProgress: (ratio) => progress({ stage: 'loading-model', phase: 'recognising', ratio }) });
      } catch {
        /* the model manager says why; the transcript is complete either way */
      }
    }
  }

  /**
   * Per-chunk text stage: align the raw recognised text (ForcedAligner, when loaded and `align`), offset
   * the times by the chunk start, then ITN / Traditional / words, keeping the timings. Without the
   * aligner the chunk is one timed token. The aligner's range (400 s) is far above the chunk
   * limit (30 s), so a chunk never exceeds it. `pcm` is the chunk's audio (default: the engine's last
   * transcribed chunk).
   */
  private async timedText(text: string, chunk: TranscriptChunk, options: PipelineOptions, signal?: AbortSignal, align = true, pcm?: Float32Array): Promise<TimedToken[]> {
    const span = { start: chunk.start, end: chunk.end };
    let tokens: TimedToken[] = [{ text, start: span.start, end: span.end }];
    const aligner = this.loadedAligner;
    if (align && aligner && options.wordTimestamps !== false) {
      const maxSec = (aligner.info.classify_num * aligner.info.timestamp_segment_ms) / 1000;
      if (chunk.end - chunk.start > maxSec) throw new Error(`A chunk of ${(chunk.end - chunk.start).toFixed(1)} s exceeds the aligner's ${maxSec} s`);
      const units = alignerUnits(text);
      const aligned = await this.engine.align(units.map((u) => u.unit), { signal, pcm });
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
