// Models kept in IndexedDB (idb-keyval): each model is a run of parts (`parts/<id>/<index>` → Blob, 32 MB
// by default, the last one shorter) in one database, and a small record per model in another. Parts are
// written one by one, each followed by the record saying how many are complete, so a crash or a closed
// tab in the middle of a download leaves the earlier parts usable for resuming. Nothing is loaded into the
// engine unless its record says it is complete and every part is there with the right size.
import { createStore, del, delMany, get, promisifyRequest, set, values, type UseStore } from 'idb-keyval';
import type { ModelKind } from '../model-file';
import { Sha256, type Sha256State } from './sha256';

export interface StoredModelRecord {
  id: string;
  /** Size of the whole model (while incomplete: the size expected). */
  bytes: number;
  partBytes: number;
  /** Parts stored and complete, from index 0. */
  parts: number;
  complete: boolean;
  /** Hash of the whole file once complete (checked against the manifest, or recorded when it has none). */
  sha256: string | null;
  /** The hash matched the manifest's. */
  verified: boolean;
  /** When the last part was written (ms since the epoch). */
  storedAt: number;
  etag?: string;
  lastModified?: string;
  source: 'download' | 'local';
  /** Where a download came from. */
  url?: string;
  kind?: ModelKind;
  /** What to call it (file name for a local file). */
  name?: string;
  /** SHA-256 state after the stored parts, so a resumed download goes on hashing (incomplete only). */
  hashState?: Sha256State;
}

export class StoreError extends Error {
  constructor(message: string, readonly code: 'missing' | 'incomplete' | 'inconsistent' | 'unreadable') {
    super(message);
    this.name = 'StoreError';
  }
}

export type StoreCheck = { ok: true; record: StoredModelRecord } | { ok: false; reason: string; record?: StoredModelRecord; usableParts: number };

const DB_PARTS = 'qasr-models';
const DB_META = 'qasr-models-meta';

let stores: { parts: UseStore; meta: UseStore } | null = null;

// idb-keyval opens the database when the store is created: done on first use, so that nothing touches
// IndexedDB at import time (tests install their fake first).
function db() {
  stores ??= { parts: createStore(DB_PARTS, 'parts'), meta: createStore(DB_META, 'records') };
  return stores;
}

/** Forgets the open stores (tests that replace the IndexedDB implementation). */
export function resetStoreConnections(): void {
  stores = null;
}

export const partKey = (id: string, index: number) => `parts/${id}/${index}`;
const partRange = (id: string) => IDBKeyRange.bound(`parts/${id}/`, `parts/${id}/\uffff`);

export function expectedParts(bytes: number, partBytes: number): number {
  return Math.ceil(bytes / partBytes);
}

/** Size the part at `index` must have in a complete model. */
export function partSize(bytes: number, partBytes: number, index: number): number {
  return Math.max(0, Math.min(partBytes, bytes - index * partBytes));
}

export async function getRecord(id: string): Promise<StoredModelRecord | null> {
  return (await get<StoredModelRecord>(id, db().meta)) ?? null;
}

export async function putRecord(record: StoredModelRecord): Promise<void> {
  await set(record.id, record, db().meta);
}

/** All stored models, complete or not, newest first. */
export async function listStored(): Promise<StoredModelRecord[]> {
  const all = await values<StoredModelRecord>(db().meta);
  return all.filter((r) => r && typeof r.id === 'string').sort((a, b) => b.storedAt - a.storedAt);
}

/** Writes one part (copied into a Blob: the caller may reuse its buffer). */
export async function writePart(id: string, index: number, data: Uint8Array | Blob): Promise<void> {
  const blob = data instanceof Blob ? data : new Blob([data as Uint8Array<ArrayBuffer>]);
  await set(partKey(id, index), blob, db().parts);
}

async function readPartValue(id: string, index: number): Promise<Blob | null> {
  const v = await get<unknown>(partKey(id, index), db().parts);
  if (v instanceof Blob) return v;
  if (v instanceof ArrayBuffer) return new Blob([v]);
  if (ArrayBuffer.isView(v)) return new Blob([v as Uint8Array<ArrayBuffer>]);
  return null;
}

/** The part keys present for a model (keys only, no data read). */
async function storedIndexes(id: string): Promise<Set<number>> {
  const keys = await db().parts('readonly', (store) => promisifyRequest(store.getAllKeys(partRange(id))));
  const out = new Set<number>();
  const prefix = `parts/${id}/`;
  for (const k of keys) {
    if (typeof k !== 'string' || !k.startsWith(prefix)) continue;
    const n = Number(k.slice(prefix.length));
    if (Number.isSafeInteger(n) && n >= 0) out.add(n);
  }
  return out;
}

/**
 * Checks a stored model without reading its data: the record is complete and consistent, every part is
 * there with its exact size, and each part's first byte can be read (a Blob whose file vanished fails here).
 * When something is wrong, `usableParts` says how many leading parts are still good.
 */
export async function checkStored(id: string): Promise<StoreCheck> {
  const record = await getRecord(id);
  if (!record) return { ok: false, reason: 'it is not stored', usableParts: 0 };
  const { bytes, partBytes } = record;
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || !Number.isSafeInteger(partBytes) || partBytes <= 0 || partBytes % 64 !== 0) {
    return { ok: false, reason: 'its record is damaged', record, usableParts: 0 };
  }
  const want = expectedParts(bytes, partBytes);
  if (!Number.isSafeInteger(record.parts) || record.parts < 0 || record.parts > want) {
    return { ok: false, reason: 'its record is damaged', record, usableParts: 0 };
  }
  const present = await storedIndexes(id);
  let usable = 0;
  let problem = '';
  const limit = record.complete ? want : record.parts;
  for (let i = 0; i < limit; i++) {
    if (!present.has(i)) {
      problem = `part ${i + 1} of ${want} is missing`;
      break;
    }
    const blob = await readPartValue(id, i);
    // While incomplete, every stored part is a full one.
    const size = record.complete ? partSize(bytes, partBytes, i) : partBytes;
    if (!blob || blob.size !== size) {
      problem = `part ${i + 1} of ${want} has the wrong size (${blob ? blob.size : 0} bytes instead of ${size})`;
      break;
    }
    try {
      await blob.slice(0, 1).arrayBuffer();
    } catch {
      problem = `part ${i + 1} of ${want} can no longer be read`;
      break;
    }
    usable = i + 1;
  }
  if (problem) return { ok: false, reason: problem, record, usableParts: usable };
  if (record.complete && record.parts !== want) {
    return { ok: false, reason: `its record counts ${record.parts} parts instead of ${want}`, record, usableParts: usable };
  }
  if (!record.complete) return { ok: false, reason: `it is incomplete (${record.parts} of ${want} parts)`, record, usableParts: usable };
  return { ok: true, record };
}

/**
 * The parts of a complete model, in order, each a standalone Uint8Array (its buffer may be transferred).
 * The whole entry is checked first, and each part again as it is read: a partial or inconsistent entry
 * throws a StoreError before anything is yielded, or (if a part changes under us) before that part.
 */
export async function* readParts(id: string): AsyncGenerator<Uint8Array, void, void> {
  const check = await checkStored(id);
  if (!check.ok) {
    throw new StoreError(
      `The stored copy of this model can't be used: ${check.reason}.`,
      !check.record ? 'missing' : check.record.complete ? 'inconsistent' : 'incomplete',
    );
  }
  const { bytes, partBytes, parts } = check.record;
  let total = 0;
  for (let i = 0; i < parts; i++) {
    const blob = await readPartValue(id, i);
    const size = partSize(bytes, partBytes, i);
    if (!blob || blob.size !== size) throw new StoreError(`Part ${i + 1} of the stored model changed while it was read.`, 'inconsistent');
    let buf: ArrayBuffer;
    try {
      buf = await blob.arrayBuffer();
    } catch {
      throw new StoreError(`Part ${i + 1} of the stored model can no longer be read.`, 'unreadable');
    }
    if (buf.byteLength !== size) throw new StoreError(`Part ${i + 1} of the stored model has the wrong size.`, 'inconsistent');
    total += size;
    yield new Uint8Array(buf);
  }
  if (total !== bytes) throw new StoreError('The stored model does not add up to its size.', 'inconsistent');
}

/** The complete model as one Blob made of the stored part Blobs (nothing is read until sliced). */
export async function storedBlob(id: string): Promise<Blob> {
  const check = await checkStored(id);
  if (!check.ok) throw new StoreError(`The stored copy of this model can't be used: ${check.reason}.`, 'inconsistent');
  const blobs: Blob[] = [];
  for (let i = 0; i < check.record.parts; i++) blobs.push((await readPartValue(id, i))!);
  return new Blob(blobs);
}

/** Hashes the first `parts` stored parts (to go on hashing a resumed download that lost its hash state). */
export async function hashStoredParts(id: string, parts: number, partBytes: number): Promise<Sha256> {
  const h = new Sha256();
  for (let i = 0; i < parts; i++) {
    const blob = await readPartValue(id, i);
    if (!blob || blob.size !== partBytes) throw new StoreError(`Part ${i + 1} of the stored download is damaged.`, 'inconsistent');
    h.update(new Uint8Array(await blob.arrayBuffer()));
  }
  return h;
}

/** Deletes the parts from `fromIndex` on (all of them by default). */
export async function deleteParts(id: string, fromIndex = 0): Promise<void> {
  if (fromIndex <= 0) {
    await db().parts('readwrite', (store) => {
      store.delete(partRange(id));
      return promisifyRequest(store.transaction);
    });
    return;
  }
  const doomed = [...(await storedIndexes(id))].filter((n) => n >= fromIndex).map((n) => partKey(id, n));
  if (doomed.length > 0) await delMany(doomed, db().parts);
}

/** Removes a model: the record first (so no record ever points at missing parts), then its parts. */
export async function deleteModel(id: string): Promise<void> {
  await del(id, db().meta);
  await deleteParts(id);
}

/**
 * Keeps the `usableParts` good leading parts of a damaged download as an incomplete entry to resume
 * (the hash is recomputed on resume); deletes the entry when nothing is usable or it was a local file.
 */
export async function salvage(id: string, usableParts: number): Promise<StoredModelRecord | null> {
  const record = await getRecord(id);
  if (!record || record.source !== 'download' || usableParts <= 0) {
    await deleteModel(id);
    return null;
  }
  const kept: StoredModelRecord = { ...record, parts: usableParts, complete: false, sha256: null, verified: false, hashState: undefined };
  await putRecord(kept);
  await deleteParts(id, usableParts);
  return kept;
}

export interface StorageEstimate {
  usage: number;
  quota: number;
}

export async function estimate(): Promise<StorageEstimate | null> {
  try {
    const e = await navigator.storage?.estimate?.();
    if (!e || typeof e.quota !== 'number') return null;
    return { usage: e.usage ?? 0, quota: e.quota };
  } catch {
    return null;
  }
}

/** Asks the browser not to evict our storage under pressure; true when granted. */
export async function requestPersistence(): Promise<boolean> {
  try {
    if (await navigator.storage?.persisted?.()) return true;
    return (await navigator.storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}

export async function isPersisted(): Promise<boolean | null> {
  try {
    const p = await navigator.storage?.persisted?.();
    return typeof p === 'boolean' ? p : null;
  } catch {
    return null;
  }
}

export function isQuotaError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { name, code } = e as { name?: unknown; code?: unknown };
  return name === 'QuotaExceededError' || code === 22;
}

/**
 * Stores a model held in a Blob (a file from this computer) as parts, hashing it on the way.
 * The record is written last: an interrupted copy leaves no record, and its parts are cleared first.
 */
export async function storeBlob(
  id: string,
  blob: Blob,
  meta: Pick<StoredModelRecord, 'kind' | 'name' | 'source'> & { expectedSha256?: string | null; partBytes: number },
  onProgress?: (ratio: number) => void,
  signal?: AbortSignal,
): Promise<StoredModelRecord> {
  const { partBytes } = meta;
  await deleteModel(id);
  const hash = new Sha256();
  const n = expectedParts(blob.size, partBytes);
  try {
    for (let i = 0; i < n; i++) {
      if (signal?.aborted) throw new DOMException('Cancelled', 'AbortError');
      const part = blob.slice(i * partBytes, Math.min(blob.size, (i + 1) * partBytes));
      hash.update(new Uint8Array(await part.arrayBuffer()));
      await writePart(id, i, part);
      onProgress?.((i + 1) / n);
    }
  } catch (e) {
    await deleteParts(id).catch(() => undefined);
    throw e;
  }
  const sha256 = hash.hex();
  const record: StoredModelRecord = {
    id,
    bytes: blob.size,
    partBytes,
    parts: n,
    complete: true,
    sha256,
    verified: !!meta.expectedSha256 && meta.expectedSha256 === sha256,
    storedAt: Date.now(),
    source: meta.source,
    kind: meta.kind,
    name: meta.name,
  };
  await putRecord(record);
  return record;
}
