// The app's one shared state module. Components read `app` and call its actions; all the work (decoding,
// VAD, engine, export formats) happens in the pipeline (./pipeline), which this module only drives and
// listens to. Failures become a readable message and leave the app usable: a failed run never loses the
// loaded model or the previous transcript, a failed model load never loses the model loaded before.
//
// Files form a queue, processed one after another. Each file keeps its own transcript, progress, media
// facts and the user's edits (an overlay applied by ./transcript-edit before anything is shown or
// exported), and one of them is selected: the page shows and exports the selected file.
//
// Cancel stops the file being transcribed (it keeps the chunks it finished) and stops the queue there:
// the files after it stay in the list, waiting, and "Transcribe" carries on with them. Nothing the user
// chose is thrown away by a cancel; "Remove" / "Clear" take files out of the list.

import { SvelteMap } from 'svelte/reactivity';
import { transcriptToSpeechSrt } from './export';
import { t } from './i18n/index.svelte';
import { MediaDecoder, type DecodeOptions, type DecodeResult, type MediaInfo } from './media';
import {
  TranscriptionController,
  transcriptToJson,
  transcriptToSrt,
  transcriptToText,
  transcriptToVtt,
} from './pipeline';
import type { EngineStatus, Progress, Stage, Transcript, TranscriptChunk } from './pipeline-types';
import type { ModelKind } from './model-file';
import { ModelManager } from './models/model-manager.svelte';
import { LiveSession } from './live/live-session.svelte';
import { applyEdits, chunkText, fitTokensToChunks, normaliseEdit } from './transcript-edit';

export type LoadedModel = Awaited<ReturnType<TranscriptionController['loadModelFile']>>;
export type ExportFormat = 'txt' | 'srt' | 'vtt' | 'json';
export type Theme = 'auto' | 'light' | 'dark';
/** Where an error came from: the UI shows it next to that part of the page. */
export type ErrorSource = 'engine' | 'model' | 'run' | 'export';

export interface AppError {
  source: ErrorSource;
  message: string;
}

export interface RunOptions {
  /** '' = detect the language. */
  language: string;
  /** Names, terms, topic: given to the model as context. */
  context: string;
  /** Word/character timings with the ForcedAligner (used when an aligner is loaded). */
  wordTimestamps: boolean;
  /** Chinese numbers as digits (二零二四年 → 2024年). */
  itn: boolean;
  /** Chinese in Traditional characters with Taiwan phrasing. */
  traditional: boolean;
}

export interface RunInfo {
  startedAt: number;
  finishedAt?: number;
  analyseOnly: boolean;
  fileName: string;
}

/** What is known about a file's media: the duration once decoded, and what ffmpeg said about it. */
export interface MediaFacts {
  durationSec?: number;
  /** "WAV", "MP3", "MP4", "WEBM", "Matroska"… */
  container?: string;
  audioCodec?: string;
  videoCodec?: string;
  /** Of the source audio (the decoded PCM is always 16 kHz mono). */
  sampleRate?: number;
  channels?: number;
  hasVideo?: boolean;
  width?: number;
  height?: number;
}

export type ItemStatus = 'pending' | 'running' | 'done' | 'error' | 'cancelled';

/** The part of the controller the app uses (a fake can be passed in tests). */
export type Controller = Pick<TranscriptionController, 'engineStatus' | 'loadModelFile' | 'run'> &
  Partial<Pick<TranscriptionController, 'loadedModel' | 'loadedAligner' | 'loadModelParts' | 'unloadModel'>>;

const EXPORT_MIME: Record<ExportFormat, string> = {
  txt: 'text/plain;charset=utf-8',
  srt: 'application/x-subrip;charset=utf-8',
  vtt: 'text/vtt;charset=utf-8',
  json: 'application/json;charset=utf-8',
};

const THEME_KEY = 'theme';

let nextItemId = 1;

/** One file of the queue, with everything its runs produced. */
export class QueueItem {
  readonly id = nextItemId++;
  readonly file: File;
  status = $state<ItemStatus>('pending');
  /** The transcript shown for this file: the running one, or the last finished one. */
  transcript = $state<Transcript | null>(null);
  /** True when `transcript` comes from an "analyse speech" run (chunk plan, no text). */
  isAnalysis = $state(false);
  /** Set when the run producing `transcript` was cancelled or failed part-way. */
  incomplete = $state(false);
  /** The last run failed or was cancelled early, and `transcript` is the one from before it. */
  showingPrevious = $state(false);
  progress = $state<Progress | null>(null);
  media = $state<MediaFacts | null>(null);
  run = $state<RunInfo | null>(null);
  /** Why the last run failed ('' = it did not). */
  error = $state('');
  /** The decoder's code for that failure ('not-media', 'no-audio', 'empty-file', 'decode-failed'), if any. */
  errorCode = $state('');
  /** The user's text for edited chunks, by chunk index (applied over the transcript by `applyEdits`). */
  readonly edits = new SvelteMap<number, string>();

  /** The transcript with the user's edits (and word times kept inside their chunks): what the page
   *  shows and every export writes. */
  readonly shown: Transcript | null = $derived(this.transcript ? prepare(this.transcript, this.edits) : null);

  constructor(file: File) {
    this.file = file;
  }
}

/**
 * The media player of the page (the <audio>/<video> element of the selected file): its position for the
 * transcript's highlighting, and play / seek for clicks and shortcuts.
 */
export class Player {
  /** Position in seconds (updated every frame while playing). */
  time = $state(0);
  duration = $state(0);
  playing = $state(false);
  /** The browser cannot play this file (the transcript still works). */
  failed = $state(false);
  #el: HTMLMediaElement | null = null;
  #frame = 0;

  /** Connects a media element; returns the function that disconnects it. */
  attach(el: HTMLMediaElement): () => void {
    this.#el = el;
    this.time = 0;
    this.duration = 0;
    this.playing = false;
    this.failed = false;
    const sync = () => {
      if (this.#el !== el) return;
      this.time = el.currentTime;
      if (Number.isFinite(el.duration)) this.duration = el.duration;
    };
    const tick = () => {
      sync();
      if (!el.paused) this.#frame = requestAnimationFrame(tick);
    };
    const onPlay = () => {
      this.playing = true;
      cancelAnimationFrame(this.#frame);
      this.#frame = requestAnimationFrame(tick);
    };
    const onPause = () => {
      this.playing = false;
      sync();
    };
    const onError = () => {
      this.failed = true;
      this.playing = false;
    };
    const onLoaded = () => {
      this.failed = false;
      sync();
    };
    const events: [string, () => void][] = [
      ['play', onPlay],
      ['pause', onPause],
      ['ended', onPause],
      ['timeupdate', sync],
      ['seeked', sync],
      ['durationchange', sync],
      ['loadedmetadata', onLoaded],
      ['error', onError],
    ];
    for (const [name, fn] of events) el.addEventListener(name, fn);
    return () => {
      for (const [name, fn] of events) el.removeEventListener(name, fn);
      cancelAnimationFrame(this.#frame);
      if (this.#el === el) {
        this.#el = null;
        this.playing = false;
        this.time = 0;
        this.duration = 0;
      }
    };
  }

  get ready(): boolean {
    return this.#el !== null && !this.failed;
  }

  seek(sec: number): void {
    const el = this.#el;
    if (!el || !Number.isFinite(sec)) return;
    const max = Number.isFinite(el.duration) && el.duration > 0 ? el.duration : Infinity;
    const to = Math.min(Math.max(0, sec), max);
    el.currentTime = to;
    this.time = to;
  }

  skip(deltaSec: number): void {
    if (this.#el) this.seek(this.#el.currentTime + deltaSec);
  }

  toggle(): void {
    const el = this.#el;
    if (!el) return;
    if (el.paused) void el.play().catch(() => {});
    else el.pause();
  }
}

/** The media decoder, with a tap on what ffmpeg says about the input (container, codecs), which the
 *  pipeline's `onMedia` event does not carry. Only the decode of the input's start reports. */
class TappedMediaDecoder extends MediaDecoder {
  onInfo: ((info: MediaInfo) => void) | null = null;

  override async decode(file: Blob, options: DecodeOptions = {}): Promise<DecodeResult> {
    const r = await super.decode(file, options);
    if (!options.range || options.range.startSec === 0) this.onInfo?.(r.info);
    return r;
  }
}

export class AppState {
  /** Engine variant once the engine worker has started; null while starting. */
  engine = $state<EngineStatus | null>(null);
  /** Why the engine could not start ('' = no problem). */
  engineError = $state('');
  /** The speech recognition model, once loaded. */
  model = $state<LoadedModel | null>(null);
  /** The ForcedAligner (word timestamps), once loaded. */
  aligner = $state<LoadedModel | null>(null);
  /** Model file being read into the engine (ratio 0..1), or null. */
  modelLoad = $state<{ fileName: string; bytes: number; ratio: number } | null>(null);
  options = $state<RunOptions>({ language: '', context: '', wordTimestamps: true, itn: true, traditional: false });
  /** The files, in the order they are processed. */
  queue = $state<QueueItem[]>([]);
  /** The file the page shows (and exports). */
  selectedId = $state<number | null>(null);
  /** The file being processed. */
  runningId = $state<number | null>(null);
  error = $state<AppError | null>(null);
  /** The queue is being processed. */
  busy = $state(false);
  theme = $state<Theme>('auto');
  readonly player = new Player();
  /** Live mode: microphone → utterances → the engine (src/lib/live/). While it uses the engine, file
   *  runs and model changes wait. */
  readonly live: LiveSession = new LiveSession({
    engine: () => {
      if (!this.model) return null;
      const ctl = this.#ctl();
      return ctl instanceof TranscriptionController ? ctl.engine : null;
    },
    options: () => ({ language: this.options.language, context: this.options.context }),
    saveRecording: (file) => this.addFiles([file]),
  });

  readonly selected: QueueItem | null = $derived(this.queue.find((i) => i.id === this.selectedId) ?? null);
  readonly running: QueueItem | null = $derived(this.queue.find((i) => i.id === this.runningId) ?? null);
  /** The file whose progress is shown: the one working while the queue runs, else the selected one. */
  readonly progressItem: QueueItem | null = $derived(this.busy ? (this.running ?? this.selected) : this.selected);
  readonly pendingCount: number = $derived(this.queue.filter((i) => i.status === 'pending').length);

  /** Languages the loaded model knows (the language choice offers "Auto-detect" + these). */
  readonly languages: string[] = $derived(this.model?.info.languages ?? []);
  /** Without a speech model the run only decodes, finds speech and plans the chunks. */
  readonly analyseOnly: boolean = $derived(this.model === null);
  /** The selected file can be run again (not one the decoder found nothing to hear in). */
  readonly canRerun: boolean = $derived(!!this.selected && this.selected.status !== 'pending' && !unreadable(this.selected));
  readonly canStart: boolean = $derived(
    !this.busy && this.modelLoad === null && !this.live.busy && (this.pendingCount > 0 || this.canRerun),
  );
  /** Some chunk of the selected file has text: exports make sense. */
  readonly hasText: boolean = $derived(
    !!this.shownTranscript && !this.transcriptIsAnalysis && this.shownTranscript.chunks.some((c) => c.status === 'done' && c.text.trim() !== ''),
  );
  /** The speech analysis of the selected file can be saved as "[speech]" subtitles. */
  readonly hasSpeechPlan: boolean = $derived(
    !!this.shownTranscript && this.transcriptIsAnalysis && this.shownTranscript.chunks.some((c) => c.status !== 'error'),
  );

  // The selected file, in the shape the page always had (one file, one transcript).
  get file(): File | null {
    return this.selected?.file ?? null;
  }
  get transcript(): Transcript | null {
    return this.selected?.transcript ?? null;
  }
  /** The selected transcript with the user's edits. */
  get shownTranscript(): Transcript | null {
    return this.selected?.shown ?? null;
  }
  /**
   * Runs can add word timestamps: the aligner is loaded, or (one model at a time) a stored one is swapped
   * in; also while a run is swapping models (neither may be loaded at that moment).
   */
  get wordTimestampsAvailable(): boolean {
    return this.aligner !== null || this.models.runSwap() !== null || (this.busy && this.modelLoad !== null);
  }
  get transcriptIsAnalysis(): boolean {
    return this.selected?.isAnalysis ?? false;
  }
  get transcriptIncomplete(): boolean {
    return this.selected?.incomplete ?? false;
  }
  get showingPrevious(): boolean {
    return this.selected?.showingPrevious ?? false;
  }
  get progress(): Progress | null {
    return this.progressItem?.progress ?? null;
  }
  get media(): MediaFacts | null {
    return this.selected?.media ?? null;
  }
  get run(): RunInfo | null {
    return this.progressItem?.run ?? null;
  }

  #controller: Controller | null;
  #decoder: TappedMediaDecoder | null = null;
  #runAbort: AbortController | null = null;
  #modelAbort: AbortController | null = null;
  #engineStarting = false;
  /** Cancel asked the queue to stop after the current file. */
  #stopQueue = false;
  /** The selection follows the file being processed (until the user picks another one). */
  #follow = true;

  /** The models card: downloads, stored models, loading them into the engine. */
  readonly models: ModelManager;

  constructor(controller?: Controller) {
    this.#controller = controller ?? null;
    const self = this;
    this.models = new ModelManager({
      get busy() {
        return self.busy || self.live.busy;
      },
      get loadingModel() {
        return self.modelLoad !== null;
      },
      loaded: (kind) => (kind === 'asr' ? this.model : this.aligner),
      loadParts: (kind, name, totalBytes, parts) => this.loadStoredModel(kind, name, totalBytes, parts),
      loadFile: (file) => this.loadModel(file),
      unload: (kind) => this.unloadModel(kind),
      swapParts: (free, kind, name, totalBytes, parts, opts) => this.swapStoredModel(free, kind, name, totalBytes, parts, opts),
      describeError,
    });
  }

  /** What the engine holds after a failed load (normally the models loaded before). */
  #syncModels(): void {
    const ctl = this.#ctl();
    if ('loadedModel' in ctl) this.model = ctl.loadedModel ?? null;
    if ('loadedAligner' in ctl) this.aligner = ctl.loadedAligner ?? null;
  }

  #setLoaded(loaded: LoadedModel): void {
    if (loaded.info.kind === 'aligner') {
      this.aligner = loaded;
      return;
    }
    this.model = loaded;
    if (this.options.language && !loaded.info.languages.includes(this.options.language)) {
      this.options.language = '';
    }
  }

  #ctl(): Controller {
    if (!this.#controller) {
      this.#decoder = new TappedMediaDecoder();
      this.#controller = new TranscriptionController({ media: this.#decoder });
    }
    return this.#controller;
  }

  /** Starts the engine worker (once) so the page can say which variant runs. */
  async initEngine(): Promise<void> {
    if (this.engine || this.#engineStarting) return;
    this.#engineStarting = true;
    this.engineError = '';
    try {
      this.engine = await this.#ctl().engineStatus();
    } catch (e) {
      this.engineError = describeError(e);
      this.error = { source: 'engine', message: t('error.engine', { detail: this.engineError }) };
    } finally {
      this.#engineStarting = false;
    }
  }

  // ---- the queue --------------------------------------------------------------------------------------

  /** Adds files to the queue (ffmpeg decides later whether each can be read); selects the first new one
   *  unless the queue is working. */
  addFiles(files: Iterable<File>): void {
    const added = [...files].map((f) => new QueueItem(f));
    if (added.length === 0) return;
    this.queue.push(...added);
    if (!this.busy || this.selected === null) this.selectedId = added[0].id;
    if (this.error?.source === 'run' && !this.busy) this.error = null;
  }

  /** Chooses one file (adds it to the queue). */
  pickFile(file: File | null): void {
    if (file) this.addFiles([file]);
  }

  /** Shows a file of the queue. */
  select(id: number): void {
    if (!this.queue.some((i) => i.id === id)) return;
    this.selectedId = id;
    this.#follow = id === this.runningId;
  }

  /** Takes a file out of the queue (not the one being processed). */
  remove(id: number): void {
    if (id === this.runningId) return;
    const at = this.queue.findIndex((i) => i.id === id);
    if (at < 0) return;
    this.queue.splice(at, 1);
    if (this.selectedId === id) {
      const next = this.queue[Math.min(at, this.queue.length - 1)] ?? null;
      this.selectedId = next?.id ?? null;
    }
  }

  /**
   * Processes the waiting files one after another (transcribes, or only analyses when no model is
   * loaded). With none waiting, runs the selected file again (e.g. after loading a model).
   */
  async start(): Promise<void> {
    if (!this.canStart) return;
    if (this.pendingCount === 0) {
      const again = this.selected;
      if (!again || !this.canRerun) return;
      again.status = 'pending';
    }
    this.busy = true;
    this.#stopQueue = false;
    this.#follow = true;
    if (this.error?.source === 'run' || this.error?.source === 'export') this.error = null;
    try {
      for (;;) {
        if (this.#stopQueue) break;
        const next = this.queue.find((i) => i.status === 'pending');
        if (!next) break;
        await this.#runItem(next);
      }
    } finally {
      this.busy = false;
      this.runningId = null;
    }
  }

  async #runItem(item: QueueItem): Promise<void> {
    const file = item.file;
    const analyseOnly = this.analyseOnly;
    const abort = new AbortController();
    this.#runAbort = abort;
    this.runningId = item.id;
    if (this.#follow) this.selectedId = item.id;
    const live = () => this.#runAbort === abort;

    const previous = item.transcript ? ($state.snapshot(item.transcript) as Transcript) : null;
    const previousEdits = new Map(item.edits);
    const previousIsAnalysis = item.isAnalysis;
    const previousIncomplete = item.incomplete;

    item.status = 'running';
    item.error = '';
    item.errorCode = '';
    item.run = { startedAt: Date.now(), analyseOnly, fileName: file.name };
    item.progress = { stage: 'idle', ratio: 0 };
    item.transcript = null;
    item.edits.clear();
    item.isAnalysis = analyseOnly;
    item.incomplete = false;
    item.showingPrevious = false;

    const ctl = this.#ctl();
    if (this.#decoder) {
      this.#decoder.onInfo = (info) => {
        if (live()) item.media = { ...item.media, ...mediaFacts(info, file.name) };
      };
    }
    const options = {
      language: this.options.language,
      context: this.options.context.trim(),
      analyseOnly,
      wordTimestamps: this.options.wordTimestamps,
      itn: this.options.itn,
      traditional: this.options.traditional,
      // One model at a time: the run swaps to the stored aligner for the word times, and back.
      swap: !analyseOnly && this.options.wordTimestamps ? (this.models.runSwap() ?? undefined) : undefined,
    };
    try {
      const result = await ctl.run(
        file,
        file.name,
        options,
        {
          onProgress: (p) => {
            if (live()) item.progress = { ...p };
          },
          onMedia: (m) => {
            if (!live()) return;
            // A pipeline that passes ffmpeg's facts along with the duration is used directly.
            const info = (m as { info?: MediaInfo }).info;
            item.media = { ...item.media, ...(info ? mediaFacts(info, file.name) : {}), durationSec: m.durationSec };
          },
          onChunks: (tr) => {
            if (live()) item.transcript = structuredClone(tr);
          },
          onChunkUpdate: (c) => {
            if (live()) updateChunk(item, c);
          },
        },
        abort.signal,
      );
      item.transcript = structuredClone(result);
      item.progress = { ...(item.progress ?? { ratio: 1 }), stage: 'done', ratio: 1, etaSec: 0 };
      item.status = 'done';
    } catch (e) {
      const cancelled = abort.signal.aborted || isAbortError(e);
      item.incomplete = true;
      const keptSomething = !!item.transcript?.chunks.some((c) => c.status === 'done' || c.status === 'no-speech');
      // A cancelled run keeps what it finished (the user asked it to stop); a failed run gives back the
      // previous transcript, and keeps its own partial result only when there was nothing before.
      const restore = cancelled ? !keptSomething : previous !== null || !keptSomething;
      if (restore) {
        item.transcript = previous;
        item.isAnalysis = previousIsAnalysis;
        item.incomplete = previousIncomplete;
        item.showingPrevious = previous !== null;
        for (const [k, v] of previousEdits) item.edits.set(k, v);
      }
      item.progress = { ...(item.progress ?? { ratio: 0 }), stage: cancelled ? 'cancelled' : 'error', etaSec: undefined, phase: undefined };
      item.status = cancelled ? 'cancelled' : 'error';
      if (cancelled) {
        this.#stopQueue = true;
      } else {
        item.error = describeError(e);
        const code = (e as { code?: unknown } | null)?.code;
        item.errorCode = typeof code === 'string' ? code : '';
        const many = this.queue.length > 1;
        this.error = { source: 'run', message: many ? t('error.runFile', { name: file.name, detail: item.error }) : item.error };
      }
    } finally {
      if (item.run) item.run.finishedAt = Date.now();
      if (this.#decoder) this.#decoder.onInfo = null;
      if (this.#runAbort === abort) this.#runAbort = null;
    }
  }

  /** Stops the file being processed (its finished chunks are kept) and the queue after it. */
  cancel(): void {
    this.#stopQueue = true;
    this.#runAbort?.abort();
  }

  /** Back to a clean page: every file that is not being processed leaves the queue; the loaded model
   *  and the options stay. */
  reset(): void {
    if (this.busy) return;
    this.queue = [];
    this.selectedId = null;
    if (this.error?.source !== 'engine') this.error = null;
  }

  dismissError(): void {
    this.error = null;
  }

  // ---- edits ----------------------------------------------------------------------------------------------

  /** Replaces the text of a chunk of the selected file (the same text as recognised removes the edit). */
  setEdit(chunkIndex: number, text: string): void {
    const item = this.selected;
    const chunk = item?.transcript?.chunks.find((c) => c.index === chunkIndex);
    if (!item || !chunk || chunk.status !== 'done') return;
    const edited = normaliseEdit(text);
    if (edited === chunkText(chunk)) item.edits.delete(chunkIndex);
    else item.edits.set(chunkIndex, edited);
  }

  /** Back to the recognised text of a chunk. */
  clearEdit(chunkIndex: number): void {
    this.selected?.edits.delete(chunkIndex);
  }

  // ---- exports --------------------------------------------------------------------------------------------

  /** Whether `format` can be saved for the selected file (a speech analysis only as "[speech]" SRT). */
  canExport(format: ExportFormat): boolean {
    return this.transcriptIsAnalysis ? format === 'srt' && this.hasSpeechPlan : this.hasText;
  }

  /** File name (after the input file), MIME type and text of an export of the selected file, edits applied. */
  exportFile(format: ExportFormat): { name: string; mime: string; text: string } | null {
    const item = this.selected;
    if (!item?.transcript || !this.canExport(format)) return null;
    const tr = prepare($state.snapshot(item.transcript) as Transcript, item.edits);
    let text: string;
    if (item.isAnalysis) text = transcriptToSpeechSrt(tr, t('export.speechCue'));
    else if (format === 'txt') text = transcriptToText(tr);
    else if (format === 'srt') text = transcriptToSrt(tr);
    else if (format === 'vtt') text = transcriptToVtt(tr);
    else text = transcriptToJson(tr);
    const stem = baseName(tr.fileName);
    return { name: item.isAnalysis ? `${stem}.speech.${format}` : `${stem}.${format}`, mime: EXPORT_MIME[format], text };
  }

  /** Saves an export through a Blob URL (nothing leaves the device). */
  download(format: ExportFormat): void {
    try {
      const out = this.exportFile(format);
      if (!out) return;
      const url = URL.createObjectURL(new Blob([out.text], { type: out.mime }));
      const a = document.createElement('a');
      a.href = url;
      a.download = out.name;
      a.rel = 'noopener';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      this.error = { source: 'export', message: t('error.save', { format: format.toUpperCase(), detail: describeError(e) }) };
    }
  }

  /** Copies the plain text of the selected file; resolves true on success. */
  async copyText(): Promise<boolean> {
    const out = this.exportFile('txt');
    return out ? this.copy(out.text) : false;
  }

  /** Copies some text to the clipboard; resolves true on success. */
  async copy(text: string): Promise<boolean> {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      this.error = { source: 'export', message: t('error.copy', { detail: describeError(e) }) };
      return false;
    }
  }

  // ---- models ----------------------------------------------------------------------------------------------

  /**
   * Reads a local model file into the engine (into the recogniser's or the aligner's slot, as its header
   * says). A file that is not a model leaves the model loaded before. Resolves with the model, or null.
   */
  async loadModel(file: File): Promise<LoadedModel | null> {
    if (this.busy || this.modelLoad || this.live.busy) return null;
    const abort = new AbortController();
    this.#modelAbort = abort;
    this.modelLoad = { fileName: file.name, bytes: file.size, ratio: 0 };
    if (this.error?.source === 'model') this.error = null;
    try {
      const loaded = await this.#ctl().loadModelFile(
        file,
        (ratio) => {
          if (this.modelLoad && this.#modelAbort === abort) this.modelLoad.ratio = clamp01(ratio);
        },
        abort.signal,
      );
      this.#setLoaded(loaded);
      return loaded;
    } catch (e) {
      if (!abort.signal.aborted && !isAbortError(e)) {
        this.error = { source: 'model', message: t('error.modelLoad', { name: file.name, detail: describeError(e) }) };
      }
      this.#syncModels();
      return null;
    } finally {
      if (this.#modelAbort === abort) {
        this.#modelAbort = null;
        this.modelLoad = null;
      }
    }
  }

  /**
   * Loads a stored model (its parts, e.g. from IndexedDB) into the slot of `kind`. Throws on failure (the
   * model manager shows it with a Retry); the slot then holds what the engine really has.
   */
  async loadStoredModel(kind: ModelKind, name: string, totalBytes: number, parts: AsyncIterable<Uint8Array>): Promise<LoadedModel> {
    if (this.busy || this.modelLoad || this.live.busy) throw new Error('Wait for the current work to finish');
    return this.#trackedLoad(new AbortController(), undefined, async (ctl, abort, onRatio) => {
      if (!ctl.loadModelParts) throw new Error('This engine cannot load stored models');
      return ctl.loadModelParts(kind, name, totalBytes, parts, onRatio, abort.signal);
    }, name, totalBytes);
  }

  /**
   * Runs one model load shown in the Models card (`modelLoad`, cancellable through `abort`): the
   * progress, the loaded slot on success, the engine's real slots on failure.
   */
  async #trackedLoad(
    abort: AbortController, onProgress: ((ratio: number) => void) | undefined,
    load: (ctl: Controller, abort: AbortController, onRatio: (ratio: number) => void) => Promise<LoadedModel>,
    name: string, totalBytes: number,
  ): Promise<LoadedModel> {
    const ctl = this.#ctl();
    this.#modelAbort = abort;
    this.modelLoad = { fileName: name, bytes: totalBytes, ratio: 0 };
    if (this.error?.source === 'model') this.error = null;
    try {
      const loaded = await load(ctl, abort, (ratio) => {
        if (this.modelLoad && this.#modelAbort === abort) this.modelLoad.ratio = clamp01(ratio);
        onProgress?.(clamp01(ratio));
      });
      this.#setLoaded(loaded);
      return loaded;
    } catch (e) {
      this.#syncModels();
      throw e;
    } finally {
      if (this.#modelAbort === abort) {
        this.#modelAbort = null;
        this.modelLoad = null;
      }
    }
  }

  /**
   * A run's model swap when one model fits at a time (see ModelManager.runSwap): frees `free`, then loads
   * stored parts into the slot of `kind`, while the queue is busy. The engine never holds both; the load
   * shows in the Models card like any other, and its Cancel (or the run's `signal`) stops it.
   */
  async swapStoredModel(
    free: ModelKind, kind: ModelKind, name: string, totalBytes: number, parts: AsyncIterable<Uint8Array>,
    opts: { signal?: AbortSignal; onProgress?: (ratio: number) => void } = {},
  ): Promise<LoadedModel> {
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort();
    if (opts.signal?.aborted) abort.abort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      return await this.#trackedLoad(abort, opts.onProgress, async (ctl, ab, onRatio) => {
        if (!ctl.loadModelParts || !ctl.unloadModel) throw new Error('This engine cannot swap stored models');
        await ctl.unloadModel(free);
        if (free === 'asr') this.model = null;
        else this.aligner = null;
        return ctl.loadModelParts(kind, name, totalBytes, parts, onRatio, ab.signal);
      }, name, totalBytes);
    } finally {
      opts.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  /** Frees a loaded model (recogniser or aligner). */
  async unloadModel(kind: ModelKind): Promise<void> {
    if (this.busy || this.modelLoad || this.live.busy) return;
    const ctl = this.#ctl();
    if (ctl.unloadModel) await ctl.unloadModel(kind);
    if (kind === 'asr') this.model = null;
    else this.aligner = null;
  }

  cancelModelLoad(): void {
    this.#modelAbort?.abort();
  }

  // ---- theme ------------------------------------------------------------------------------------------------

  /** Reads the saved theme choice. */
  initTheme(): void {
    let saved: string | null = null;
    try {
      saved = localStorage.getItem(THEME_KEY);
    } catch {
      /* storage blocked: keep the system theme */
    }
    this.setTheme(saved === 'light' || saved === 'dark' ? saved : 'auto', false);
  }

  setTheme(theme: Theme, save = true): void {
    this.theme = theme;
    const root = document.documentElement;
    if (theme === 'auto') delete root.dataset.theme;
    else root.dataset.theme = theme;
    if (!save) return;
    try {
      if (theme === 'auto') localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, theme);
    } catch {
      /* storage blocked: the choice lasts for this visit */
    }
  }
}

/** The decoder found nothing to hear in this file (not media, empty, no sound track): running it again is pointless. */
export function unreadable(item: QueueItem): boolean {
  return item.status === 'error' && ['not-media', 'empty-file', 'no-audio'].includes(item.errorCode);
}

/** A transcript as shown and exported: word times inside their chunks, then the user's edits. */
function prepare(tr: Transcript, edits: ReadonlyMap<number, string>): Transcript {
  return applyEdits(fitTokensToChunks(tr), edits);
}

function updateChunk(item: QueueItem, chunk: TranscriptChunk): void {
  const tr = item.transcript;
  if (!tr) return;
  const at = tr.chunks[chunk.index]?.index === chunk.index ? chunk.index : tr.chunks.findIndex((c) => c.index === chunk.index);
  if (at >= 0) tr.chunks[at] = { ...chunk };
}

/** The app's state (one instance for the page). */
export const app = new AppState();

// ---------------------------------------------------------------------------------------------------------
// Small display helpers shared by the components.

/** The name of a pipeline stage in the UI's language. */
export function stageLabel(stage: Stage): string {
  return t(`stage.${stage}`);
}

/** What ffmpeg said about the input, for the page. */
export function mediaFacts(info: MediaInfo, fileName: string): MediaFacts {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase() ?? '';
  const names = (info.container ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  let container: string | undefined;
  if (names.length) {
    const name = names.includes(ext) ? ext : names[0];
    container = name === 'matroska' ? 'Matroska' : name.replace(/_pipe$/, '').toUpperCase();
  }
  const facts: MediaFacts = { hasVideo: info.hasVideo };
  if (container) facts.container = container;
  if (info.audio) {
    facts.audioCodec = info.audio.codec;
    if (info.audio.sampleRate) facts.sampleRate = info.audio.sampleRate;
    if (info.audio.channels) facts.channels = info.audio.channels;
  }
  if (info.hasVideo && info.video) {
    facts.videoCodec = info.video.codec;
    if (info.video.width && info.video.height) {
      facts.width = info.video.width;
      facts.height = info.video.height;
    }
  }
  if (info.containerDurationSec && !info.durationEstimated) facts.durationSec = info.containerDurationSec;
  return facts;
}

/** Short facts about a file's media for the page: container, codecs, source sample rate and channels. */
export function mediaSummary(m: MediaFacts | null | undefined): string[] {
  if (!m) return [];
  const out: string[] = [];
  if (m.container) out.push(m.container);
  // A codec named like its container ("MP3 · mp3", "FLAC · flac") is said once.
  const codecs = [m.videoCodec, m.audioCodec].filter((c): c is string => !!c && c.toLowerCase() !== m.container?.toLowerCase());
  if (codecs.length) out.push(codecs.join(' + '));
  if (m.width && m.height) out.push(`${m.width}×${m.height}`);
  if (m.sampleRate) out.push(`${m.sampleRate % 1000 === 0 ? m.sampleRate / 1000 : (m.sampleRate / 1000).toFixed(1)} kHz`);
  if (m.channels) out.push(m.channels === 1 ? t('media.mono') : m.channels === 2 ? t('media.stereo') : t('media.channels', { count: m.channels }));
  return out;
}

export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

/** A sentence a person can act on, from whatever was thrown. */
export function describeError(e: unknown): string {
  const name = typeof e === 'object' && e !== null ? String((e as { name?: unknown }).name ?? '') : '';
  let message = '';
  if (typeof e === 'string') message = e;
  else if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    message = (e as { message: string }).message;
  }
  // Emscripten's advice is for developers, not for the person using the page.
  message = message.replace(/\s*Build with -s ASSERTIONS=1 for more info\.?/g, '').trim();
  if (/^Aborted\(\)$/.test(message)) return t('error.aborted');
  if (name === 'QuotaExceededError') return t('error.quota');
  if (/out of memory|allocation failed|Aborted\(OOM\)|Cannot enlarge memory/i.test(message)) return t('error.memory');
  if (/SharedArrayBuffer/i.test(message)) return t('error.sab', { detail: message });
  return message || t('error.unknown');
}

export function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/** "1:05" / "12:30" / "1:02:03" (clock style, for positions in a recording). */
export function formatClock(sec: number): string {
  const s = Math.max(0, Math.floor(Number.isFinite(sec) ? sec : 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${String(m).padStart(2, '0')}:${r}`;
}

/** "45 s" / "3 min 20 s" / "1 h 5 min" (for remaining or elapsed time), in the UI's language. */
export function formatSpan(sec: number): string {
  const s = Math.max(0, Math.round(Number.isFinite(sec) ? sec : 0));
  if (s < 60) return t('span.s', { s });
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return m > 0 ? t('span.hm', { h, m }) : t('span.h', { h });
  const r = s % 60;
  return r > 0 ? t('span.ms', { m, s: r }) : t('span.m', { m });
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** The input's name without its extension ("talk.final.mp4" → "talk.final"). */
export function baseName(fileName: string): string {
  const name = fileName.split(/[\\/]/).pop() || 'transcript';
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
