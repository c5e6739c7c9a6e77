// State of the model manager (the "Models" card): the manifest's models with what is stored of each, the
// download in progress, loading a stored model into the engine, a model file from this computer, storage
// use and persistence, and errors with a Retry. The engine side goes through a host (the app state), so
// the app's `model` / `aligner` always say what the engine really holds.
import { t } from '../i18n/index.svelte';
import { sniffModelKind, type ModelKind } from '../model-file';
import type { LoadedModel } from '../app-state.svelte';
import type { ModelSwap } from '../pipeline-types';
import { downloadModel, DownloadError, formatSize, type DownloadProgress } from './download';
import {
  BUNDLED_MANIFEST,
  defaultEntry,
  loadManifest,
  partBytesOf,
  readModelSource,
  type Manifest,
  type ManifestEntry,
  type ModelSource,
} from './manifest';
import { decideMemory, readDeviceMemory, type DeviceMemoryInput, type MemoryDecision, type ModelMemoryInput } from './memory';
import {
  checkStored,
  deleteModel as storeDelete,
  estimate,
  isPersisted,
  listStored,
  readParts,
  requestPersistence,
  salvage,
  storeBlob,
  StoreError,
  type StorageEstimate,
  type StoredModelRecord,
} from './store';

/** What the manager needs from the app: the engine slots and whether a run or a load is going on. */
export interface ModelHost {
  readonly busy: boolean;
  readonly loadingModel: boolean;
  loaded(kind: ModelKind): LoadedModel | null;
  /** Loads stored parts into the slot of `kind`; throws with the engine's message. */
  loadParts(kind: ModelKind, name: string, totalBytes: number, parts: AsyncIterable<Uint8Array>): Promise<LoadedModel>;
  /** Loads a local file (the app shows its own error); null when it failed or was cancelled. */
  loadFile(file: File): Promise<LoadedModel | null>;
  unload(kind: ModelKind): Promise<void>;
  /**
   * During a run (one model at a time): frees the model of `free`, then loads stored parts into the slot
   * of `kind`; not refused for the run being busy. Throws with the engine's message.
   */
  swapParts(
    free: ModelKind, kind: ModelKind, name: string, totalBytes: number, parts: AsyncIterable<Uint8Array>,
    opts: { signal?: AbortSignal; onProgress?: (ratio: number) => void },
  ): Promise<LoadedModel>;
  /** The app's wording of an error. */
  describeError(e: unknown): string;
}

export type RowState = 'not-stored' | 'partial' | 'downloading' | 'stored' | 'loading' | 'in-use';

export interface ModelRow {
  id: string;
  kind: ModelKind;
  displayName: string;
  /** The manifest's entry; null for a model file from this computer that matches none. */
  entry: ManifestEntry | null;
  record: StoredModelRecord | null;
  state: RowState;
  /** Size to show: what is stored when complete, else the manifest's (estimate when approximate). */
  bytes: number;
  approximate: boolean;
  /** Share already stored of a partial download. */
  storedRatio: number;
  isDefault: boolean;
  /** Set when this model would not fit in this device's memory. */
  memoryWarning: string;
}

export interface ActiveDownload {
  id: string;
  progress: DownloadProgress;
  /** "Connection lost — trying again…" while waiting to retry. */
  status: string;
}

export interface ManagerError {
  /** The model it is about (null: general, e.g. the models list). */
  id: string | null;
  message: string;
  /** What Retry does (none: nothing to retry). */
  retry?: () => void;
}

const ACTIVE_KEY = 'qasr.models.active';

const isAbortError = (e: unknown) => typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';

function kindName(kind: ModelKind): string {
  return kind === 'asr' ? 'speech recognition model' : 'word-timestamp aligner';
}

export class ModelManager {
  manifest = $state<Manifest>(BUNDLED_MANIFEST);
  source = $state<ModelSource>({ from: 'default' });
  /** The stored records by id. */
  records = $state<Record<string, StoredModelRecord>>({});
  /** False until the store has been read once. */
  ready = $state(false);
  download = $state<ActiveDownload | null>(null);
  /** The model being read from storage into the engine. */
  loading = $state<{ id: string } | null>(null);
  /** Stored models in use, with the name the engine slot got. */
  active = $state<Record<ModelKind, { id: string; name: string } | null>>({ asr: null, aligner: null });
  storage = $state<StorageEstimate | null>(null);
  persisted = $state<boolean | null>(null);
  error = $state<ManagerError | null>(null);
  /** Something the user should know that is not an error (e.g. a damaged copy was set aside). */
  notice = $state('');
  /** Keep a copy of a model file chosen from this computer. */
  keepLocalCopy = $state(true);
  /** Copying a local model file into storage. */
  storingLocal = $state<{ name: string; ratio: number } | null>(null);
  device = $state<DeviceMemoryInput>({});

  #host: ModelHost;
  #downloadAbort: AbortController | null = null;
  #initStarted = false;
  /** The stored aligner used last (a run swaps it in when one model fits at a time). */
  #lastAligner: string | null = null;

  constructor(host: ModelHost) {
    this.#host = host;
  }

  /** Manifest entries plus local files stored under their own id, each with its stored state. */
  readonly rows: ModelRow[] = $derived.by(() => {
    const out: ModelRow[] = [];
    const seen = new Set<string>();
    for (const entry of this.manifest.models) {
      seen.add(entry.id);
      out.push(this.#row(entry.id, entry.kind, entry.displayName, entry, this.records[entry.id] ?? null));
    }
    for (const r of Object.values(this.records)) {
      if (seen.has(r.id) || !r.complete || !r.kind) continue;
      out.push(this.#row(r.id, r.kind, r.name ?? r.id, null, r));
    }
    return out;
  });

  /** The pair the memory policy looks at: the recogniser and aligner in use, else the defaults. */
  readonly memory: MemoryDecision | null = $derived.by(() => {
    const asr = this.#memoryInput('asr');
    return asr ? decideMemory(asr, this.#memoryInput('aligner'), this.device) : null;
  });

  /** No recogniser stored or loaded: the page explains the first download. */
  readonly firstRun: boolean = $derived.by(
    () => this.ready && !this.#host.loaded('asr') && !Object.values(this.records).some((r) => r.complete && r.kind === 'asr'),
  );

  /** Bytes stored (complete and partial) of all models. */
  readonly storedBytes: number = $derived(
    Object.values(this.records).reduce((s, r) => s + (r.complete ? r.bytes : r.parts * r.partBytes), 0),
  );

  defaultEntry(kind: ModelKind): ManifestEntry | undefined {
    return defaultEntry(this.manifest, kind);
  }

  #row(id: string, kind: ModelKind, displayName: string, entry: ManifestEntry | null, record: StoredModelRecord | null): ModelRow {
    const loaded = this.#host.loaded(kind);
    const act = this.active[kind];
    let state: RowState;
    if (this.download?.id === id) state = 'downloading';
    else if (this.loading?.id === id) state = 'loading';
    else if (act?.id === id && loaded?.name === act.name) state = 'in-use';
    else if (record?.complete) state = 'stored';
    else if (record && record.parts > 0) state = 'partial';
    else state = 'not-stored';
    const bytes = record?.complete ? record.bytes : (record?.bytes ?? entry?.bytes ?? 0);
    const approximate = !record?.complete && !!entry?.approximate && !record;
    const storedRatio = record && !record.complete && record.bytes > 0 ? Math.min(1, (record.parts * record.partBytes) / record.bytes) : 0;
    return {
      id,
      kind,
      displayName,
      entry,
      record,
      state,
      bytes,
      approximate,
      storedRatio,
      isDefault: !!entry?.default,
      memoryWarning: this.#memoryWarning(kind, bytes, displayName),
    };
  }

  #memoryInput(kind: ModelKind, override?: { bytes: number; name: string }): ModelMemoryInput | null {
    if (override) return { name: override.name, bytes: override.bytes, large: override.bytes > 1e9 };
    const loaded = this.#host.loaded(kind);
    if (loaded) {
      return {
        name: loaded.name,
        bytes: loaded.info.file_bytes,
        kvBytesPerPosition: loaded.info.memory?.kv_bytes_per_position,
        large: loaded.info.text?.hidden > 1024,
      };
    }
    const entry = this.defaultEntry(kind);
    if (!entry) return null;
    const r = this.records[entry.id];
    const bytes = r?.complete ? r.bytes : entry.bytes;
    return { name: entry.displayName, bytes, large: bytes > 1e9 };
  }

  #memoryWarning(kind: ModelKind, bytes: number, name: string): string {
    const self = this.#memoryInput(kind, { bytes, name });
    const other = this.#memoryInput(kind === 'asr' ? 'aligner' : 'asr');
    if (!self) return '';
    const d = kind === 'asr' ? decideMemory(self, other, this.device) : other ? decideMemory(other, self, this.device) : null;
    if (!d || d.plan !== 'too-big') return '';
    // Only when this model is the one that does not fit.
    const alone = decideMemory(self, null, this.device);
    return alone.plan === 'too-big' ? alone.explanation : '';
  }

  // -------------------------------------------------------------------------------------------------------

  /** Reads the manifest (or its override), what is stored, the storage numbers; loads the model in use before. */
  async init(): Promise<void> {
    if (this.#initStarted) return;
    this.#initStarted = true;
    this.device = readDeviceMemory();
    const href = typeof location !== 'undefined' ? location.href : undefined;
    let storage: Storage | null = null;
    try {
      storage = typeof localStorage !== 'undefined' ? localStorage : null;
    } catch {
      storage = null;
    }
    this.source = readModelSource(href, storage);
    try {
      this.manifest = await loadManifest(this.source);
    } catch (e) {
      this.error = { id: null, message: t('models.err.manifestFallback', { detail: this.#host.describeError(e) }) };
      this.manifest = BUNDLED_MANIFEST;
    }
    try {
      await this.refresh(true);
    } catch (e) {
      this.error = { id: null, message: t('models.err.storageUnreadable', { detail: this.#host.describeError(e) }) };
    }
    this.ready = true;
    void this.refreshStorage();
    await this.#restoreActive();
  }

  /** Re-reads the stored records; with `check`, complete ones are checked and damaged ones set aside. */
  async refresh(check = false): Promise<void> {
    const list = await listStored();
    const next: Record<string, StoredModelRecord> = {};
    const damaged: string[] = [];
    for (const r of list) {
      let rec: StoredModelRecord | null = r;
      if (check && r.complete) {
        const c = await checkStored(r.id);
        if (!c.ok) {
          damaged.push(`${r.name ?? r.id} (${c.reason})`);
          rec = await salvage(r.id, c.usableParts);
        }
      }
      if (rec) next[rec.id] = rec;
    }
    this.records = next;
    if (damaged.length > 0) {
      this.notice = t('models.notice.damaged', { list: damaged.join('; ') });
    }
  }

  async refreshStorage(): Promise<void> {
    this.storage = await estimate();
    this.persisted = await isPersisted();
  }

  #rememberActive(): void {
    try {
      const ids = { asr: this.active.asr?.id ?? null, aligner: this.active.aligner?.id ?? null };
      localStorage.setItem(ACTIVE_KEY, JSON.stringify(ids));
    } catch {
      /* storage blocked */
    }
  }

  /** On start: load the recogniser (and aligner) used last time, or the stored default recogniser. */
  async #restoreActive(): Promise<void> {
    let remembered: Partial<Record<ModelKind, string | null>> = {};
    try {
      remembered = JSON.parse(localStorage.getItem(ACTIVE_KEY) ?? '{}') ?? {};
    } catch {
      remembered = {};
    }
    this.#lastAligner = remembered.aligner ?? this.#lastAligner;
    for (const kind of ['asr', 'aligner'] as const) {
      if (this.#host.loaded(kind) || this.#host.busy || this.#host.loadingModel) continue;
      let id = remembered[kind] ?? null;
      if ((!id || !this.records[id]?.complete) && kind === 'asr') id = this.defaultEntry('asr')?.id ?? null;
      if (!id || !this.records[id]?.complete) continue;
      const row = this.rows.find((r) => r.id === id);
      if (!row || row.memoryWarning) continue;
      if (kind === 'aligner' && this.memory?.plan !== 'both-resident') continue;
      await this.use(id);
    }
  }

  // -------------------------------------------------------------------------------------------------------

  #entry(id: string): ManifestEntry | undefined {
    return this.manifest.models.find((m) => m.id === id);
  }

  /** Downloads a manifest model (resuming what is stored); when done, uses it if its slot is empty. */
  async startDownload(id: string): Promise<void> {
    const entry = this.#entry(id);
    if (!entry || this.download) return;
    const abort = new AbortController();
    this.#downloadAbort = abort;
    const rec = this.records[id];
    const have = rec && !rec.complete ? rec.parts * rec.partBytes : 0;
    const total = rec?.bytes ?? entry.bytes;
    this.download = { id, progress: { bytes: have, total, ratio: total > 0 ? have / total : 0, speedBps: 0, etaSec: Infinity }, status: '' };
    if (this.error?.id === id || this.error?.id === null) this.error = null;
    this.notice = '';
    let ok = false;
    try {
      await downloadModel(entry, {
        baseUrl: this.source.baseUrl,
        partBytes: partBytesOf(this.manifest),
        signal: abort.signal,
        onProgress: (p) => {
          if (this.download?.id === id) this.download = { id, progress: p, status: '' };
        },
        onRetry: (r) => {
          if (this.download?.id === id) {
            this.download.status = `${r.reason[0].toUpperCase()}${r.reason.slice(1)} — trying again in ${Math.round(r.delayMs / 1000)} s (try ${r.attempt + 1} of ${r.of})`;
          }
        },
      });
      ok = true;
    } catch (e) {
      if (!abort.signal.aborted && !isAbortError(e)) {
        const message = e instanceof DownloadError ? e.message : t('models.err.downloadFailed', { name: entry.displayName, detail: this.#host.describeError(e) });
        const retryable = !(e instanceof DownloadError) || e.code !== 'busy';
        this.error = { id, message, retry: retryable ? () => void this.startDownload(id) : undefined };
      }
    } finally {
      if (this.#downloadAbort === abort) this.#downloadAbort = null;
      this.download = null;
      await this.refresh().catch(() => undefined);
      void this.refreshStorage();
    }
    if (ok) {
      if (this.persisted !== true) this.persisted = await requestPersistence();
      if (!this.#host.loaded(entry.kind) && !this.#host.busy && !this.#host.loadingModel && !this.loading) {
        const row = this.rows.find((r) => r.id === id);
        const fits = entry.kind === 'asr' || this.memory?.plan === 'both-resident';
        if (row && !row.memoryWarning && fits) await this.use(id);
      }
    }
  }

  cancelDownload(): void {
    this.#downloadAbort?.abort();
  }

  /** Removes a stored model (a running download of it is cancelled first; a loaded copy stays loaded). */
  async deleteModel(id: string): Promise<void> {
    if (this.download?.id === id) {
      this.cancelDownload();
      while (this.download?.id === id) await new Promise((r) => setTimeout(r, 20));
    }
    if (this.loading?.id === id) return;
    try {
      await storeDelete(id);
      if (this.error?.id === id) this.error = null;
    } catch (e) {
      this.error = { id, message: t('models.err.deleteFailed', { detail: this.#host.describeError(e) }), retry: () => void this.deleteModel(id) };
    }
    await this.refresh().catch(() => undefined);
    void this.refreshStorage();
  }

  /**
   * Loads a stored model into the engine. When the device holds one model at a time, the other kind is
   * unloaded first (and the user told). A damaged copy is found before anything is loaded.
   */
  async use(id: string): Promise<void> {
    const record = this.records[id];
    if (!record?.complete || this.#host.busy || this.#host.loadingModel || this.loading) return;
    const row = this.rows.find((r) => r.id === id);
    const kind = record.kind ?? row?.kind;
    if (!kind || !row) return;
    const name = row.displayName;
    if (this.error?.id === id) this.error = null;
    this.notice = '';
    this.loading = { id };
    try {
      const other: ModelKind = kind === 'asr' ? 'aligner' : 'asr';
      const otherLoaded = this.#host.loaded(other);
      if (otherLoaded) {
        const d = decideMemory(
          kind === 'asr' ? this.#memoryInput('asr', { bytes: record.bytes, name })! : this.#memoryInput('asr')!,
          kind === 'aligner' ? this.#memoryInput('aligner', { bytes: record.bytes, name }) : this.#memoryInput('aligner'),
          this.device,
        );
        if (d.plan === 'one-at-a-time') {
          await this.#host.unload(other);
          this.active[other] = null;
          this.notice = t('models.notice.unloaded', { name: otherLoaded.name, why: d.explanation });
        }
      }
      const check = await checkStored(id);
      if (!check.ok) throw new StoreError(`The stored copy can't be used: ${check.reason}.`, 'inconsistent');
      const loaded = await this.#host.loadParts(kind, name, record.bytes, readParts(id));
      this.active[kind] = { id, name: loaded.name };
      if (kind === 'aligner') this.#lastAligner = id;
      this.#rememberActive();
    } catch (e) {
      if (e instanceof StoreError) {
        const c = await checkStored(id);
        if (!c.ok) await salvage(id, c.usableParts).catch(() => undefined);
        await this.refresh().catch(() => undefined);
        this.error = {
          id,
          message: t('models.err.storedDamaged', { name, detail: e.message.replace(/^The stored copy can't be used: /, '').replace(/\.$/, '') }),
          retry: this.#entry(id) ? () => void this.startDownload(id) : undefined,
        };
      } else if (!isAbortError(e)) {
        this.error = { id, message: t('models.err.loadFailed', { name, detail: this.#host.describeError(e) }), retry: () => void this.use(id) };
      }
      if (this.active[kind]?.id === id && !this.#host.loaded(kind)) this.active[kind] = null;
    } finally {
      this.loading = null;
    }
  }

  /** Frees a loaded model (it stays stored). */
  async unload(kind: ModelKind): Promise<void> {
    if (this.#host.busy || this.#host.loadingModel) return;
    await this.#host.unload(kind);
    this.active[kind] = null;
    this.#rememberActive();
  }

  /**
   * A model file from this computer: checked and loaded by the engine, then (if wanted) kept in this
   * browser, under the manifest's id when it is that model (same file name and size, hash when known).
   */
  async addLocalFile(file: File): Promise<void> {
    if (this.#host.busy || this.#host.loadingModel || this.loading) return;
    this.notice = '';
    await this.#makeRoomFor(file);
    const loaded = await this.#host.loadFile(file);
    if (!loaded) return;
    const kind = loaded.info.kind;
    this.active[kind] = null;
    if (!this.keepLocalCopy) {
      this.#rememberActive();
      return;
    }
    const match = this.manifest.models.find(
      (m) => m.kind === kind && m.file === file.name && (m.approximate || m.bytes === file.size),
    );
    let id = match?.id ?? `local:${file.name}`;
    this.storingLocal = { name: file.name, ratio: 0 };
    try {
      const meta = { kind, name: match ? match.displayName : file.name, source: 'local' as const, partBytes: partBytesOf(this.manifest) };
      let record = await storeBlob(id, file, { ...meta, expectedSha256: match?.sha256 }, (ratio) => {
        if (this.storingLocal) this.storingLocal.ratio = ratio;
      });
      if (match?.sha256 && !record.verified) {
        // Same name, different file: keep it as a file of its own.
        await storeDelete(id);
        id = `local:${file.name}`;
        record = await storeBlob(id, file, { ...meta, name: file.name }, (ratio) => {
          if (this.storingLocal) this.storingLocal.ratio = ratio;
        });
      }
      this.active[kind] = { id, name: loaded.name };
      if (kind === 'aligner') this.#lastAligner = id;
      this.#rememberActive();
      if (this.persisted !== true) this.persisted = await requestPersistence();
    } catch (e) {
      const why = e instanceof DownloadError ? e.message : this.#host.describeError(e);
      this.error = {
        id: null,
        message: t('models.err.keepFailed', { file: file.name, detail: why }),
      };
    } finally {
      this.storingLocal = null;
      await this.refresh().catch(() => undefined);
      void this.refreshStorage();
    }
  }

  /** Under the one-at-a-time plan, a model file from this computer first frees the other kind, as `use()` does. */
  async #makeRoomFor(file: File): Promise<void> {
    let kind: ModelKind;
    try {
      kind = await sniffModelKind(file);
    } catch {
      return; // not a model: loading it fails with the app's message, and the loaded models stay
    }
    const other: ModelKind = kind === 'asr' ? 'aligner' : 'asr';
    const otherLoaded = this.#host.loaded(other);
    if (!otherLoaded) return;
    const self = { bytes: file.size, name: file.name };
    const d = decideMemory(
      kind === 'asr' ? this.#memoryInput('asr', self)! : this.#memoryInput('asr')!,
      kind === 'aligner' ? this.#memoryInput('aligner', self) : this.#memoryInput('aligner'),
      this.device,
    );
    if (d.plan !== 'one-at-a-time') return;
    await this.#host.unload(other);
    this.active[other] = null;
    this.notice = t('models.notice.unloaded', { name: otherLoaded.name, why: d.explanation });
  }

  /**
   * What a run needs to add word timestamps when only one model fits at a time (see `ModelSwap`): swapping
   * the engine from the recogniser in use to the stored aligner (the one used last, else the recommended
   * one, else any) and back. Null when both fit, an aligner is loaded anyway, none is stored, or the
   * recogniser could not be loaded back (a file from this computer that was not kept).
   */
  runSwap(): ModelSwap | null {
    if (this.memory?.plan !== 'one-at-a-time' || this.#host.loaded('aligner')) return null;
    const asr = this.active.asr ? { ...this.active.asr } : null; // a copy: the swap changes `active`
    const asrRecord = asr ? this.records[asr.id] : undefined;
    if (!asr || !asrRecord?.complete || this.#host.loaded('asr')?.name !== asr.name) return null;
    const usable = (id: string | null | undefined) => {
      const row = id ? this.rows.find((r) => r.id === id) : undefined;
      return row && row.kind === 'aligner' && row.record?.complete && !row.memoryWarning ? row : undefined;
    };
    const aligner =
      usable(this.#lastAligner) ?? usable(this.defaultEntry('aligner')?.id) ?? this.rows.find((r) => usable(r.id));
    if (!aligner?.record) return null;
    const alignerBytes = aligner.record.bytes;
    const swapTo = async (kind: ModelKind, id: string, name: string, bytes: number, opts: { signal?: AbortSignal; onProgress?: (ratio: number) => void } = {}) => {
      const other: ModelKind = kind === 'asr' ? 'aligner' : 'asr';
      if (this.#host.loaded(kind)?.name === name && !this.#host.loaded(other)) {
        this.active[kind] = { id, name }; // already there (e.g. a swap that stopped before freeing it)
        return;
      }
      this.loading = { id };
      try {
        const check = await checkStored(id);
        if (!check.ok) throw new StoreError(`The stored copy can't be used: ${check.reason}.`, 'inconsistent');
        this.active[other] = null;
        const loaded = await this.#host.swapParts(other, kind, name, bytes, readParts(id), opts);
        this.active[kind] = { id, name: loaded.name };
      } finally {
        this.loading = null;
      }
    };
    return {
      // The choice remembered for the next visit stays the recogniser: the swap is part of a run.
      toAligner: (opts) => swapTo('aligner', aligner.id, aligner.displayName, alignerBytes, opts),
      toRecogniser: async (opts) => {
        try {
          await swapTo('asr', asr.id, asr.name, asrRecord.bytes, opts);
        } catch (e) {
          this.error = {
            id: asr.id,
            message: t('models.err.reloadFailed', { name: asr.name, detail: this.#host.describeError(e) }),
            retry: () => void this.use(asr.id),
          };
          throw e;
        }
      },
    };
  }

  retry(): void {
    const r = this.error?.retry;
    this.error = null;
    r?.();
  }

  dismissError(): void {
    this.error = null;
  }

  /** "Qwen3-ASR 0.6B (q4_0): 539 MB, downloaded once and kept in this browser". */
  firstRunText(entry: ManifestEntry): string {
    return `${entry.displayName}: ${entry.approximate ? 'about ' : ''}${formatSize(entry.bytes)}, downloaded once and kept in this browser`;
  }

  kindName = kindName;
}
