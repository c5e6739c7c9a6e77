import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from './sha256';
import {
  checkStored,
  deleteModel,
  deleteParts,
  getRecord,
  isQuotaError,
  listStored,
  partKey,
  putRecord,
  readParts,
  resetStoreConnections,
  salvage,
  storeBlob,
  StoreError,
  writePart,
  type StoredModelRecord,
} from './store';
import { createStore, del, set } from 'idb-keyval';

const PART = 1024;

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 255;
  return out;
}

async function putModel(id: string, data: Uint8Array, complete = true): Promise<StoredModelRecord> {
  const parts = Math.ceil(data.length / PART);
  for (let i = 0; i < parts; i++) await writePart(id, i, data.subarray(i * PART, (i + 1) * PART));
  const record: StoredModelRecord = {
    id,
    bytes: data.length,
    partBytes: PART,
    parts,
    complete,
    sha256: sha256Hex(data),
    verified: false,
    storedAt: Date.now(),
    source: 'download',
    kind: 'asr',
  };
  await putRecord(record);
  return record;
}

async function collect(id: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const p of readParts(id)) out.push(p);
  return out;
}

// The raw parts database, to damage entries the way a crash or a browser cleanup would.
const rawParts = () => createStore('qasr-models', 'parts');

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory();
  resetStoreConnections();
});

describe('model store', () => {
  it('stores a model as parts and reads it back as standalone arrays', async () => {
    const data = bytes(3 * PART + 100);
    await putModel('m', data);
    const parts = await collect('m');
    expect(parts.map((p) => p.byteLength)).toEqual([PART, PART, PART, 100]);
    for (const p of parts) {
      expect(p.byteOffset).toBe(0);
      expect(p.buffer.byteLength).toBe(p.byteLength); // not a view of something larger
    }
    const joined = new Uint8Array(data.length);
    let o = 0;
    for (const p of parts) {
      joined.set(p, o);
      o += p.length;
    }
    expect(joined).toEqual(data);
    expect((await checkStored('m')).ok).toBe(true);
    expect((await listStored()).map((r) => r.id)).toEqual(['m']);
  });

  it('never reads an incomplete download', async () => {
    await putModel('m', bytes(3 * PART), false);
    const c = await checkStored('m');
    expect(c.ok).toBe(false);
    await expect(collect('m')).rejects.toThrow(StoreError);
    await expect(collect('m')).rejects.toThrow(/incomplete/);
  });

  it('detects a missing part, a part of the wrong size, and a wrong part count', async () => {
    await putModel('a', bytes(4 * PART));
    await del(partKey('a', 2), rawParts());
    const a = await checkStored('a');
    expect(a).toMatchObject({ ok: false, usableParts: 2 });
    expect(a.ok ? '' : a.reason).toMatch(/part 3 of 4 is missing/);
    await expect(collect('a')).rejects.toThrow(/part 3 of 4 is missing/);

    await putModel('b', bytes(2 * PART + 5));
    await set(partKey('b', 1), new Blob([bytes(PART - 1) as Uint8Array<ArrayBuffer>]), rawParts());
    const b = await checkStored('b');
    expect(b.ok ? '' : b.reason).toMatch(/part 2 of 3 has the wrong size/);
    await expect(collect('b')).rejects.toThrow(StoreError);

    const rec = await putModel('c', bytes(2 * PART));
    await putRecord({ ...rec, parts: 1 });
    const c = await checkStored('c');
    expect(c.ok ? '' : c.reason).toMatch(/counts 1 parts instead of 2/);

    await putRecord({ ...rec, id: 'd', bytes: 3 * PART }); // total bigger than what is stored
    expect((await checkStored('d')).ok).toBe(false);
    expect((await checkStored('nothing')).ok).toBe(false);
  });

  it('deletes the record and every part of a model, and only that model', async () => {
    await putModel('x', bytes(3 * PART));
    await putModel('x2', bytes(2 * PART)); // an id that starts like the other
    await writePart('x', 7, bytes(10)); // an orphan part past the record
    await deleteModel('x');
    expect(await getRecord('x')).toBeNull();
    const keys = await rawParts()('readonly', (s) => new Promise<IDBValidKey[]>((r) => (s.getAllKeys().onsuccess = (e) => r((e.target as IDBRequest<IDBValidKey[]>).result))));
    expect(keys.sort()).toEqual([partKey('x2', 0), partKey('x2', 1)]);
    expect((await checkStored('x2')).ok).toBe(true);
  });

  it('keeps the good leading parts of a damaged download for resuming', async () => {
    await putModel('s', bytes(4 * PART));
    await del(partKey('s', 3), rawParts());
    const check = await checkStored('s');
    const kept = await salvage('s', check.ok ? 0 : check.usableParts);
    expect(kept).toMatchObject({ parts: 3, complete: false, sha256: null });
    expect((await getRecord('s'))?.parts).toBe(3);
    // A local copy cannot be resumed: it goes.
    const rec = await putModel('l', bytes(2 * PART));
    await putRecord({ ...rec, source: 'local' });
    expect(await salvage('l', 1)).toBeNull();
    expect(await getRecord('l')).toBeNull();
  });

  it('deletes parts from an index on', async () => {
    await putModel('t', bytes(4 * PART));
    await deleteParts('t', 2);
    const c = await checkStored('t');
    expect(c).toMatchObject({ ok: false, usableParts: 2 });
  });

  it('stores a local file with its hash, verified only when it matches', async () => {
    const data = bytes(5 * PART + 3, 9);
    const hash = sha256Hex(data);
    const r = await storeBlob('local:f.bin', new Blob([data as Uint8Array<ArrayBuffer>]), { kind: 'asr', name: 'f.bin', source: 'local', partBytes: PART, expectedSha256: hash });
    expect(r).toMatchObject({ complete: true, parts: 6, bytes: data.length, sha256: hash, verified: true, source: 'local' });
    const joined = new Uint8Array(await new Blob((await collect('local:f.bin')) as Uint8Array<ArrayBuffer>[]).arrayBuffer());
    expect(joined).toEqual(data);
    const r2 = await storeBlob('g', new Blob([data as Uint8Array<ArrayBuffer>]), { kind: 'asr', name: 'g', source: 'local', partBytes: PART, expectedSha256: 'f'.repeat(64) });
    expect(r2.verified).toBe(false);
  });

  it('recognises a quota error', () => {
    expect(isQuotaError(new DOMException('full', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaError({ name: 'Error', code: 22 })).toBe(true);
    expect(isQuotaError(new Error('x'))).toBe(false);
    expect(isQuotaError(null)).toBe(false);
  });
});
