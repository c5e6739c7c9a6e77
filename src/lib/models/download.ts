// Downloads a model into the store (./store): a streaming fetch cut into parts that are written as they
// fill, resumable with `Range` after a dropped connection (from the bytes still in memory) or after a reload
// (from the last stored part), with retries and backoff for network errors and 5xx answers, a size check,
// and an incremental SHA-256 checked against the manifest (or recorded when the manifest has none).
import { sniffModelKind } from '../model-file';
import { DEFAULT_PART_BYTES, resolveModelUrl, type ManifestEntry } from './manifest';
import { Sha256 } from './sha256';
import {
  checkStored,
  deleteModel,
  estimate,
  getRecord,
  hashStoredParts,
  isQuotaError,
  putRecord,
  salvage,
  storedBlob,
  writePart,
  type StoredModelRecord,
} from './store';

export interface DownloadProgress {
  /** Bytes received so far (stored parts + the part being filled). */
  bytes: number;
  /** Size of the file (the manifest's estimate until the server says). */
  total: number;
  ratio: number;
  /** Bytes per second over the last few seconds (0 until measured). */
  speedBps: number;
  /** Seconds left at that speed (Infinity while unknown). */
  etaSec: number;
}

export interface RetryInfo {
  /** The try that failed (1-based) and how many are allowed. */
  attempt: number;
  of: number;
  delayMs: number;
  reason: string;
}

export interface DownloadOptions {
  onProgress?: (p: DownloadProgress) => void;
  /** Told before waiting to try again. */
  onRetry?: (r: RetryInfo) => void;
  signal?: AbortSignal;
  /** Replaces everything before the file name of the entry's URL. */
  baseUrl?: string;
  /** Stored part size (a multiple of 64 bytes); default 32 MiB. */
  partBytes?: number;
  /** Tries in a row without progress before giving up (default 3). */
  maxTries?: number;
  /** Wait before try n+1 after try n failed (default 1 s, 2 s, 4 s …). */
  backoffMs?: (failedTry: number) => number;
  fetchFn?: typeof fetch;
}

export type DownloadErrorCode = 'not-found' | 'http' | 'network' | 'size' | 'hash' | 'quota' | 'storage' | 'not-a-model' | 'busy';

export class DownloadError extends Error {
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

const MAGIC = [0x67, 0x67, 0x6d, 0x6d]; // "ggmm"
const PROGRESS_EVERY_MS = 100;

/** Decimal units, as model hosts show sizes ("539 MB", "1.33 GB", "26.6 MB"). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e8) return `${Math.round(bytes / 1e6)} MB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} kB`;
  return `${bytes} B`;
}

function abortError(): DOMException {
  return new DOMException('Download cancelled', 'AbortError');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `bytes a-b/total` → its numbers (total null for `*`). */
export function parseContentRange(v: string | null): { start: number; end: number; total: number | null } | null {
  const m = v ? /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(v) : null;
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) return null;
  return { start, end, total: m[3] === '*' ? null : Number(m[3]) };
}

const weakless = (etag: string) => etag.replace(/^W\//, '');

/** Measures speed over a sliding window of a few seconds. */
class SpeedMeter {
  private samples: { t: number; bytes: number }[] = [];
  constructor(private readonly windowMs = 5000) {}
  add(bytes: number, t = performance.now()): void {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0].t > this.windowMs) this.samples.shift();
  }
  /** After a pause (retry wait), old samples would drag the speed down. */
  reset(): void {
    this.samples = [];
  }
  get bps(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    const dt = (b.t - a.t) / 1000;
    return dt > 0.2 ? Math.max(0, (b.bytes - a.bytes) / dt) : 0;
  }
}

async function quotaError(entry: ManifestEntry, total: number, storedParts: number): Promise<DownloadError> {
  const est = await estimate();
  const sizes = est
    ? ` This site may use ${formatSize(est.quota)} of storage; ${formatSize(est.usage)} is in use, ${formatSize(Math.max(0, est.quota - est.usage))} free.`
    : '';
  const kept = storedParts > 0 ? ` The ${storedParts} part${storedParts === 1 ? '' : 's'} already downloaded are kept for later.` : '';
  return new DownloadError(
    'quota',
    `Not enough storage space for the ${formatSize(total)} of ${entry.displayName}.${sizes}${kept} Delete stored models you no longer need or free some disk space, then retry.`,
  );
}

/**
 * Downloads `entry` into the store and returns its complete record. Already complete → returned as is.
 * Cancelling (signal) keeps every completed part for a later resume. One download per model at a time
 * across tabs (Web Locks, where available).
 */
export async function downloadModel(entry: ManifestEntry, opts: DownloadOptions = {}): Promise<StoredModelRecord> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return download(entry, opts);
  return locks.request(`qasr-model-download:${entry.id}`, { ifAvailable: true }, async (lock) => {
    if (!lock) throw new DownloadError('busy', `${entry.displayName} is already being downloaded in another tab of this site.`);
    return download(entry, opts);
  });
}

async function download(entry: ManifestEntry, opts: DownloadOptions): Promise<StoredModelRecord> {
  const { signal, onProgress, onRetry } = opts;
  const id = entry.id;
  const url = resolveModelUrl(entry, opts.baseUrl);
  const partBytes = opts.partBytes ?? DEFAULT_PART_BYTES;
  if (!Number.isSafeInteger(partBytes) || partBytes <= 0 || partBytes % 64 !== 0) throw new Error('partBytes must be a multiple of 64');
  const maxTries = Math.max(1, opts.maxTries ?? 3);
  const backoff = opts.backoffMs ?? ((n: number) => 1000 * 2 ** (n - 1));
  const fetchFn = opts.fetchFn ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  if (signal?.aborted) throw abortError();

  // ---- what is already stored
  let record = await getRecord(id);
  if (record?.complete) {
    const check = await checkStored(id);
    if (check.ok) return check.record;
    record = await salvage(id, check.ok ? 0 : check.usableParts);
  }
  if (record && (record.source !== 'download' || record.partBytes !== partBytes || record.url !== url)) {
    await deleteModel(id);
    record = null;
  }
  if (record && record.parts > 0) {
    const check = await checkStored(id);
    if (!check.ok && check.usableParts < record.parts) record = await salvage(id, check.usableParts);
  }

  let stored = record?.parts ?? 0; // complete parts handed to the store (the last may still be being written)
  let hasher =
    stored === 0
      ? new Sha256()
      : record!.hashState && record!.hashState.bytes === stored * partBytes
        ? Sha256.fromState(record!.hashState)
        : await hashStoredParts(id, stored, partBytes);
  const buf = new Uint8Array(partBytes);
  let fill = 0; // bytes of the part being filled
  let got = stored * partBytes; // bytes received and kept (stored parts + the part being filled)
  let total = record?.bytes ?? entry.bytes;
  let totalKnown = !!record || !entry.approximate;
  let failures = 0;
  let useIfRange = true;
  const speed = new SpeedMeter();
  let lastReport = 0;
  const received = () => got;

  const report = (force = false) => {
    const now = performance.now();
    if (!force && now - lastReport < PROGRESS_EVERY_MS) return;
    lastReport = now;
    const bytes = received();
    const t = Math.max(total, bytes);
    const bps = speed.bps;
    onProgress?.({ bytes, total: t, ratio: t > 0 ? Math.min(1, bytes / t) : 0, speedBps: bps, etaSec: bps > 0 ? (t - bytes) / bps : Infinity });
  };

  const storageError = async (e: unknown) =>
    isQuotaError(e)
      ? await quotaError(entry, total, record?.parts ?? 0)
      : new DownloadError('storage', `Couldn't write ${entry.displayName} to this browser's storage (${(e as Error)?.message || String(e)}).`);

  const save = async (patch: Partial<StoredModelRecord>) => {
    record = { ...record!, ...patch, storedAt: Date.now() };
    try {
      await putRecord(record);
    } catch (e) {
      throw await storageError(e);
    }
  };

  // Parts are written while the next one fills (at most one write in flight), so a slow disk does not hold
  // up reading the network: bytes a browser has buffered are lost with the connection if it drops.
  let writing: Promise<void> | null = null;
  const settle = async () => {
    const w = writing;
    writing = null;
    if (w) await w;
  };

  const startOver = async () => {
    await settle().catch(() => undefined);
    await deleteModel(id);
    record = null;
    stored = 0;
    fill = 0;
    got = 0;
    hasher = new Sha256();
    total = entry.bytes;
    totalKnown = !entry.approximate;
    useIfRange = true;
  };

  /** A failed try: wait and go on, or give up after `maxTries` in a row. */
  const failed = async (reason: string, error: () => DownloadError) => {
    failures++;
    if (failures >= maxTries) throw error();
    const delayMs = backoff(failures);
    onRetry?.({ attempt: failures, of: maxTries, delayMs, reason });
    await sleep(delayMs, signal);
    speed.reset();
  };

  const flushPart = async (data: Uint8Array) => {
    await settle();
    const blob = new Blob([data as Uint8Array<ArrayBuffer>]); // a copy: the buffer is refilled meanwhile
    const index = stored++;
    const hashState = data.length === partBytes ? hasher.state() : undefined;
    writing = (async () => {
      try {
        await writePart(id, index, blob);
      } catch (e) {
        throw await storageError(e);
      }
      await save({ parts: index + 1, hashState });
    })();
    writing.catch(() => undefined); // surfaced by settle()
  };

  // Not worth starting when the browser already says the rest won't fit.
  const est = await estimate();
  const need = total - stored * partBytes;
  if (est && est.quota > 0 && est.quota - est.usage < need) throw await quotaError(entry, total, stored);

  report(true);
  for (;;) {
    if (signal?.aborted) throw abortError();
    const from = received();
    const headers: Record<string, string> = {};
    if (from > 0) {
      headers.Range = `bytes=${from}-`;
      const etag = record?.etag;
      const validator = etag && !etag.startsWith('W/') ? etag : record?.lastModified;
      if (validator && useIfRange) headers['If-Range'] = validator;
    }

    let res: Response;
    try {
      res = await fetchFn(url, { headers, signal, cache: 'no-store' });
    } catch (e) {
      if (signal?.aborted) throw abortError();
      // A failing preflight for If-Range looks like a network error: the next try goes without it
      // (a changed file is still caught by its ETag and total size).
      if (headers['If-Range']) useIfRange = false;
      await failed(`network error (${(e as Error).message || 'no answer'})`, () =>
        new DownloadError('network', `Couldn't reach the model server (${new URL(url).host}) after ${maxTries} tries. Check your connection, then retry.`),
      );
      continue;
    }

    const discard = () => res.body?.cancel().catch(() => undefined);
    if (res.status === 404 || res.status === 410) {
      void discard();
      throw new DownloadError('not-found', `${entry.displayName} was not found on the server (HTTP ${res.status}): ${url}`, res.status);
    }
    if (res.status === 416 && from > 0) {
      // Our stored part reaches past the end of the server's file: it changed.
      void discard();
      await startOver();
      continue;
    }
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      void discard();
      await failed(`the server answered HTTP ${res.status}`, () =>
        new DownloadError('http', `The model server failed ${maxTries} times in a row (HTTP ${res.status}). It may be busy or down; retry in a moment.`, res.status),
      );
      continue;
    }
    if (!res.ok || !res.body) {
      void discard();
      throw new DownloadError('http', `The model server refused the download of ${entry.displayName} (HTTP ${res.status}).`, res.status);
    }
    if (/text\/html/i.test(res.headers.get('Content-Type') ?? '')) {
      void discard();
      throw new DownloadError('not-a-model', `The server sent a web page instead of ${entry.displayName} (${url}). The address may be wrong or need a login.`);
    }

    const resEtag = res.headers.get('ETag') ?? undefined;
    const resModified = res.headers.get('Last-Modified') ?? undefined;
    let serverTotal: number | null = null;
    if (res.status === 206) {
      const cr = parseContentRange(res.headers.get('Content-Range'));
      const changed =
        !cr ||
        cr.start !== from ||
        (totalKnown && cr.total !== null && cr.total !== total) ||
        (!!record?.etag && !!resEtag && weakless(record.etag) !== weakless(resEtag));
      if (changed) {
        // Not the continuation of what we have (the file changed, or an odd answer): from the start.
        void discard();
        await startOver();
        continue;
      }
      serverTotal = cr.total;
    } else {
      if (from > 0) await startOver(); // a 200 to a Range request: the whole file again (changed, or no ranges)
      const len = res.headers.get('Content-Length');
      const encoded = (res.headers.get('Content-Encoding') ?? 'identity') !== 'identity';
      serverTotal = len !== null && !encoded && /^\d+$/.test(len) ? Number(len) : null;
    }

    if (received() === 0) {
      if (!entry.approximate) {
        if (serverTotal !== null && serverTotal !== entry.bytes) {
          void discard();
          throw new DownloadError(
            'size',
            `The server's ${entry.file} is ${serverTotal.toLocaleString('en')} bytes, but ${entry.displayName} should be ${entry.bytes.toLocaleString('en')}: it is not the expected file.`,
          );
        }
        total = entry.bytes;
        totalKnown = true;
      } else {
        total = serverTotal ?? entry.bytes;
        totalKnown = serverTotal !== null;
      }
      record = {
        id,
        bytes: total,
        partBytes,
        parts: 0,
        complete: false,
        sha256: null,
        verified: false,
        storedAt: Date.now(),
        etag: resEtag,
        lastModified: resModified,
        source: 'download',
        url,
        kind: entry.kind,
        name: entry.displayName,
        hashState: hasher.state(),
      };
      try {
        await save({});
      } catch (e) {
        void discard();
        throw e;
      }
    }

    // ---- the body, cut into parts
    const reader = res.body.getReader();
    let ended = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (signal?.aborted) throw abortError();
        if (done) {
          ended = true;
          break;
        }
        if (value.length > 0) failures = 0; // progress: the next failure starts a new count
        let off = 0;
        while (off < value.length) {
          if (totalKnown && received() >= total) {
            throw new DownloadError('size', `The server sent more than the ${total.toLocaleString('en')} bytes of ${entry.displayName}.`);
          }
          const take = Math.min(partBytes - fill, value.length - off, totalKnown ? total - received() : Infinity);
          const piece = value.subarray(off, off + take);
          const wasAt = received();
          buf.set(piece, fill);
          hasher.update(piece);
          fill += take;
          got += take;
          off += take;
          if (wasAt < MAGIC.length && received() >= MAGIC.length && stored === 0 && MAGIC.some((b, i) => buf[i] !== b)) {
            throw new DownloadError('not-a-model', `The server did not send a model file for ${entry.displayName} (${url}).`);
          }
          if (fill === partBytes) {
            await flushPart(buf);
            fill = 0;
            report(true);
          }
        }
        speed.add(received());
        report();
      }
    } catch (e) {
      reader.cancel().catch(() => undefined);
      // The part being written is finished first, so a cancel or a retry keeps it.
      const writeError = await settle().then(
        () => null,
        (w: unknown) => w,
      );
      if (signal?.aborted) throw abortError();
      if (e instanceof DownloadError && (e.code === 'not-a-model' || e.code === 'size')) {
        await deleteModel(id).catch(() => undefined);
        throw e;
      }
      if (writeError) throw writeError;
      if (e instanceof DownloadError) throw e;
      if (isQuotaError(e)) throw await storageError(e);
      await failed(`connection lost at ${formatSize(received())}`, () =>
        new DownloadError('network', `The connection to the model server kept dropping (${maxTries} tries). The part already downloaded is kept; retry to continue.`),
      );
      continue;
    }
    if (ended && totalKnown && received() < total) {
      // The body ended early without an error: the same as a dropped connection.
      await settle();
      await failed(`the server stopped sending at ${formatSize(received())}`, () =>
        new DownloadError('network', `The model server keeps ending the download early (${maxTries} tries). The part already downloaded is kept; retry to continue.`),
      );
      continue;
    }
    break;
  }

  // ---- the last (short) part, then the checks
  if (fill > 0) {
    await flushPart(buf.subarray(0, fill));
    fill = 0;
  }
  await settle();
  const bytes = got;
  if (bytes === 0 || (!entry.approximate && bytes !== entry.bytes) || (totalKnown && bytes !== total)) {
    await deleteModel(id);
    throw new DownloadError('size', `The download of ${entry.displayName} has the wrong size (${bytes.toLocaleString('en')} bytes instead of ${total.toLocaleString('en')}); it was deleted. Retry to download it again.`);
  }
  const sha256 = hasher.hex();
  if (entry.sha256 && sha256 !== entry.sha256) {
    await deleteModel(id);
    throw new DownloadError(
      'hash',
      `The downloaded ${entry.displayName} does not match its published SHA-256 checksum (the file was damaged on the way or changed on the server), so it was deleted. Retry to download it again.`,
    );
  }
  await save({ bytes, parts: stored, complete: true, sha256, verified: !!entry.sha256, hashState: undefined });
  try {
    const kind = await sniffModelKind(await storedBlob(id));
    if (kind !== entry.kind) throw new Error(`it holds ${kind === 'asr' ? 'a speech recognition model' : 'a ForcedAligner'}`);
  } catch (e) {
    await deleteModel(id);
    throw new DownloadError('not-a-model', `The downloaded file is not ${entry.displayName}: ${(e as Error).message}. It was deleted.`);
  }
  report(true);
  return record!;
}
