// The app's one shared state module. Components read `app` and call its actions; all the work (decoding,
// VAD, engine, export formats) happens in the pipeline (./pipeline), which this module only drives and
// listens to. Failures become a readable message and leave the app usable: a failed run never loses the
// loaded model or the previous transcript, a failed model load never loses the model loaded before.

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
}

export interface RunInfo {
  startedAt: number;
  finishedAt?: number;
  analyseOnly: boolean;
  fileName: string;
}

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
  /** The audio / video file to transcribe. */
  file = $state<File | null>(null);
  options = $state<RunOptions>({ language: '', context: '' });
  progress = $state<Progress | null>(null);
  /** Media facts of the current run (known after decoding). */
  media = $state<{ durationSec: number; sampleRate: number } | null>(null);
  /** The transcript shown: the running one, or the last finished one. */
  transcript = $state<Transcript | null>(null);
  /** True when `transcript` comes from an "analyse speech" run (chunk plan, no text). */
  transcriptIsAnalysis = $state(false);
  /** Set when the run producing `transcript` was cancelled or failed part-way. */
  transcriptIncomplete = $state(false);
  /** The last run failed or was cancelled early, and `transcript` is the one from before it. */
  showingPrevious = $state(false);
  error = $state<AppError | null>(null);
  /** A transcription run is in progress. */
  busy = $state(false);
  run = $state<RunInfo | null>(null);
  theme = $state<Theme>('auto');

  /** Languages the loaded model knows (the language choice offers "Auto-detect" + these). */
  readonly languages: string[] = $derived(this.model?.info.languages ?? []);
  /** Without a speech model the run only decodes, finds speech and plans the chunks. */
  readonly analyseOnly: boolean = $derived(this.model === null);
  readonly canStart: boolean = $derived(this.file !== null && !this.busy && this.modelLoad === null);
  /** Some chunk has text: exports make sense. */
  readonly hasText: boolean = $derived(
    !!this.transcript && this.transcript.chunks.some((c) => c.status === 'done' && c.text.trim() !== ''),
  );

  #controller: Controller | null;
  #runAbort: AbortController | null = null;
  #modelAbort: AbortController | null = null;
  #engineStarting = false;

  /** The models card: downloads, stored models, loading them into the engine. */
  readonly models: ModelManager;

  constructor(controller?: Controller) {
    this.#controller = controller ?? null;
    const self = this;
    this.models = new ModelManager({
      get busy() {
        return self.busy;
      },
      get loadingModel() {
        return self.modelLoad !== null;
      },
      loaded: (kind) => (kind === 'asr' ? this.model : this.aligner),
      loadParts: (kind, name, totalBytes, parts) => this.loadStoredModel(kind, name, totalBytes, parts),
      loadFile: (file) => this.loadModel(file),
      unload: (kind) => this.unloadModel(kind),
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
    if (!this.#controller) this.#controller = new TranscriptionController();
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
      this.error = { source: 'engine', message: `The speech engine could not start: ${this.engineError}` };
    } finally {
      this.#engineStarting = false;
    }
  }

  /** Chooses the audio/video file (ffmpeg decides later whether it can be read). */
  pickFile(file: File | null): void {
    if (this.busy) return;
    this.file = file;
    if (this.error?.source === 'run') this.error = null;
  }

  /**
   * Reads a local model file into the engine (into the recogniser's or the aligner's slot, as its header
   * says). A file that is not a model leaves the model loaded before. Resolves with the model, or null.
   */
  async loadModel(file: File): Promise<LoadedModel | null> {
    if (this.busy || this.modelLoad) return null;
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
        this.error = { source: 'model', message: `Couldn't load “${file.name}”: ${describeError(e)}` };
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
    const ctl = this.#ctl();
    if (!ctl.loadModelParts) throw new Error('This engine cannot load stored models');
    if (this.busy || this.modelLoad) throw new Error('Wait for the current work to finish');
    const abort = new AbortController();
    this.#modelAbort = abort;
    this.modelLoad = { fileName: name, bytes: totalBytes, ratio: 0 };
    if (this.error?.source === 'model') this.error = null;
    try {
      const loaded = await ctl.loadModelParts(
        kind,
        name,
        totalBytes,
        parts,
        (ratio) => {
          if (this.modelLoad && this.#modelAbort === abort) this.modelLoad.ratio = clamp01(ratio);
        },
        abort.signal,
      );
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

  /** Frees a loaded model (recogniser or aligner). */
  async unloadModel(kind: ModelKind): Promise<void> {
    if (this.busy || this.modelLoad) return;
    const ctl = this.#ctl();
    if (ctl.unloadModel) await ctl.unloadModel(kind);
    if (kind === 'asr') this.model = null;
    else this.aligner = null;
  }

  cancelModelLoad(): void {
    this.#modelAbort?.abort();
  }

  /** Transcribes the chosen file, or only analyses it (speech + chunk plan) when no model is loaded. */
  async start(): Promise<void> {
    const file = this.file;
    if (!file || !this.canStart) return;
    const analyseOnly = this.analyseOnly;
    const abort = new AbortController();
    this.#runAbort = abort;

    const previous = this.transcript ? $state.snapshot(this.transcript) : null;
    const previousIsAnalysis = this.transcriptIsAnalysis;
    const previousIncomplete = this.transcriptIncomplete;

    this.busy = true;
    if (this.error?.source === 'run' || this.error?.source === 'export') this.error = null;
    this.run = { startedAt: Date.now(), analyseOnly, fileName: file.name };
    this.progress = { stage: 'idle', ratio: 0 };
    this.media = null;
    this.transcript = null;
    this.transcriptIsAnalysis = analyseOnly;
    this.transcriptIncomplete = false;
    this.showingPrevious = false;

    const options = { language: this.options.language, context: this.options.context.trim(), analyseOnly };
    try {
      const result = await this.#ctl().run(
        file,
        file.name,
        options,
        {
          onProgress: (p) => {
            if (this.#runAbort === abort) this.progress = { ...p };
          },
          onMedia: (info) => {
            if (this.#runAbort === abort) this.media = { ...info };
          },
          onChunks: (t) => {
            if (this.#runAbort === abort) this.transcript = structuredClone(t);
          },
          onChunkUpdate: (c) => {
            if (this.#runAbort === abort) this.#updateChunk(c);
          },
        },
        abort.signal,
      );
      this.transcript = structuredClone(result);
      this.progress = { ...(this.progress ?? { ratio: 1 }), stage: 'done', ratio: 1, etaSec: 0 };
    } catch (e) {
      const cancelled = abort.signal.aborted || isAbortError(e);
      this.transcriptIncomplete = true;
      const keptSomething = !!this.transcript?.chunks.some((c) => c.status === 'done' || c.status === 'no-speech');
      // A cancelled run keeps what it finished (the user asked it to stop); a failed run gives back the
      // previous transcript, and keeps its own partial result only when there was nothing before.
      const restore = cancelled ? !keptSomething : previous !== null || !keptSomething;
      if (restore) {
        this.transcript = previous;
        this.transcriptIsAnalysis = previousIsAnalysis;
        this.transcriptIncomplete = previousIncomplete;
        this.showingPrevious = previous !== null;
      }
      this.progress = { ...(this.progress ?? { ratio: 0 }), stage: cancelled ? 'cancelled' : 'error', etaSec: undefined };
      if (!cancelled) this.error = { source: 'run', message: describeError(e) };
    } finally {
      if (this.run) this.run.finishedAt = Date.now();
      this.busy = false;
      if (this.#runAbort === abort) this.#runAbort = null;
    }
  }

  #updateChunk(chunk: TranscriptChunk): void {
    const t = this.transcript;
    if (!t) return;
    const at = t.chunks[chunk.index]?.index === chunk.index ? chunk.index : t.chunks.findIndex((c) => c.index === chunk.index);
    if (at >= 0) t.chunks[at] = { ...chunk };
  }

  cancel(): void {
    this.#runAbort?.abort();
  }

  /** Back to a clean page for the next file; the loaded model and the options stay. */
  reset(): void {
    if (this.busy) return;
    this.file = null;
    this.transcript = null;
    this.transcriptIsAnalysis = false;
    this.transcriptIncomplete = false;
    this.showingPrevious = false;
    this.progress = null;
    this.media = null;
    this.run = null;
    if (this.error?.source !== 'engine') this.error = null;
  }

  dismissError(): void {
    this.error = null;
  }

  /** File name (after the input file), MIME type and text of an export. */
  exportFile(format: ExportFormat): { name: string; mime: string; text: string } | null {
    if (!this.transcript) return null;
    const t = $state.snapshot(this.transcript) as Transcript;
    const text =
      format === 'txt' ? transcriptToText(t) : format === 'srt' ? transcriptToSrt(t) : format === 'vtt' ? transcriptToVtt(t) : transcriptToJson(t);
    return { name: `${baseName(t.fileName)}.${format}`, mime: EXPORT_MIME[format], text };
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
      this.error = { source: 'export', message: `Couldn't save the ${format.toUpperCase()} file: ${describeError(e)}` };
    }
  }

  /** Copies the plain text; resolves true on success. */
  async copyText(): Promise<boolean> {
    const out = this.exportFile('txt');
    if (!out) return false;
    try {
      await navigator.clipboard.writeText(out.text);
      return true;
    } catch (e) {
      this.error = {
        source: 'export',
        message: `Couldn't copy to the clipboard (${describeError(e)}). Use the TXT download instead.`,
      };
      return false;
    }
  }

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

/** The app's state (one instance for the page). */
export const app = new AppState();

// ---------------------------------------------------------------------------------------------------------
// Small display helpers shared by the components.

export const STAGE_LABELS: Record<Stage, string> = {
  idle: 'Starting…',
  'loading-engine': 'Starting the engine',
  'loading-model': 'Loading the model',
  decoding: 'Decoding the audio',
  vad: 'Finding speech',
  transcribing: 'Transcribing',
  done: 'Done',
  cancelled: 'Cancelled',
  error: 'Stopped by an error',
};

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
  if (/^Aborted\(\)$/.test(message)) return 'The speech engine stopped unexpectedly (it aborted).';
  if (name === 'QuotaExceededError') {
    return 'The browser has no storage space left for this. Free some disk space or delete stored models, then try again.';
  }
  if (/out of memory|allocation failed|Aborted\(OOM\)|Cannot enlarge memory/i.test(message)) {
    return 'The browser ran out of memory. Close other tabs, or try a smaller model or a shorter file.';
  }
  if (/SharedArrayBuffer/i.test(message)) {
    return `${message} — this page is not cross-origin isolated, so only the single-threaded engine can run.`;
  }
  return message || 'Something went wrong, and no details were given.';
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

/** "45 s" / "3 min 20 s" / "1 h 5 min" (for remaining or elapsed time). */
export function formatSpan(sec: number): string {
  const s = Math.max(0, Math.round(Number.isFinite(sec) ? sec : 0));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  const r = s % 60;
  return r > 0 ? `${m} min ${r} s` : `${m} min`;
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
