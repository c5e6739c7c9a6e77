import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MODEL_TYPE_ALIGNER, MODEL_TYPE_ASR } from '../model-file';
import { downloadModel, DownloadError, parseContentRange, type DownloadOptions, type DownloadProgress } from './download';
import type { ManifestEntry } from './manifest';
import { sha256Hex } from './sha256';
import { checkStored, getRecord, putRecord, readParts, resetStoreConnections } from './store';

const PART = 64 * 1024;

/** Looks like a GGMM file to sniffModelKind: magic, version 1, config offset, model type. */
function fakeModel(n: number, seed = 1, type = MODEL_TYPE_ASR): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  out.set([0x67, 0x67, 0x6d, 0x6d], 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, 1, true);
  dv.setUint32(8, 64, true);
  dv.setUint32(64, type, true);
  return out;
}

function entry(data: Uint8Array, extra: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    id: 'm',
    kind: 'asr',
    displayName: 'Test model',
    file: 'm.bin',
    url: 'http://models.test/m.bin',
    bytes: data.length,
    sha256: sha256Hex(data),
    quant: 'q4_0',
    languages: ['English'],
    license: 'apache-2.0',
    ...extra,
  };
}

interface Seen {
  range: string | null;
  ifRange: string | null;
  status: number;
}

/** A fake model host: Range, If-Range, ETag, and scripted faults per request. */
function server(initial: Uint8Array, etag = '"v1"') {
  let file = initial;
  let tag = etag;
  const seen: Seen[] = [];
  /** Faults for the next requests, used up in order. */
  const faults: ({ kind: 'drop'; after: number } | { kind: 'status'; status: number } | { kind: 'wrong' } | { kind: 'ignore-if-range' } | { kind: 'html' })[] = [];
  const fetchFn = (async (_url: RequestInfo | URL, init?: RequestInit) => {
    const h = new Headers(init?.headers);
    const range = h.get('Range');
    const ifRange = h.get('If-Range');
    const fault = faults.shift();
    const note = (status: number) => seen.push({ range, ifRange, status });
    if (fault?.kind === 'status') {
      note(fault.status);
      return new Response('error', { status: fault.status });
    }
    if (fault?.kind === 'html') {
      note(200);
      return new Response('<html>login</html>', { status: 200, headers: { 'Content-Type': 'text/html' } });
    }
    let start = 0;
    let status = 200;
    const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
    const honour = m && (!ifRange || ifRange === tag || fault?.kind === 'ignore-if-range');
    if (m && honour) {
      start = Number(m[1]);
      if (start >= file.length) {
        note(416);
        return new Response(null, { status: 416 });
      }
      status = 206;
    }
    let body = file.slice(start);
    if (fault?.kind === 'wrong') {
      body = body.slice();
      for (let i = 1000; i < body.length; i += 4096) body[i] ^= 0xff;
    }
    const headers: Record<string, string> = { 'Content-Length': String(body.length), ETag: tag, 'Content-Type': 'application/octet-stream' };
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${file.length - 1}/${file.length}`;
    note(status);
    const dropAt = fault?.kind === 'drop' ? fault.after : Infinity;
    let pos = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pos >= body.length) return c.close();
        if (pos >= dropAt) return c.error(new TypeError('network error'));
        const n = Math.min(10_000, body.length - pos, dropAt - pos);
        c.enqueue(body.slice(pos, pos + n));
        pos += n;
      },
    });
    return new Response(stream, { status, headers });
  }) as typeof fetch;
  return {
    fetchFn,
    seen,
    faults,
    change(next: Uint8Array, nextTag: string) {
      file = next;
      tag = nextTag;
    },
  };
}

const fast: Partial<DownloadOptions> = { partBytes: PART, backoffMs: () => 1 };

async function readAll(id: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of readParts(id)) parts.push(p);
  return new Uint8Array(await new Blob(parts as Uint8Array<ArrayBuffer>[]).arrayBuffer());
}

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory();
  resetStoreConnections();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('downloadModel', () => {
  it('downloads into parts, checks the size and the SHA-256, and reports progress', async () => {
    const data = fakeModel(5 * PART + 777);
    const srv = server(data);
    const progress: DownloadProgress[] = [];
    const rec = await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn, onProgress: (p) => progress.push(p) });
    expect(rec).toMatchObject({ complete: true, verified: true, sha256: sha256Hex(data), bytes: data.length, parts: 6, etag: '"v1"', source: 'download' });
    expect(await readAll('m')).toEqual(data);
    expect(srv.seen).toEqual([{ range: null, ifRange: null, status: 200 }]);
    expect(progress.at(-1)).toMatchObject({ bytes: data.length, total: data.length, ratio: 1 });
    for (let i = 1; i < progress.length; i++) expect(progress[i].bytes).toBeGreaterThanOrEqual(progress[i - 1].bytes);
    // Already complete: nothing fetched again.
    await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn });
    expect(srv.seen).toHaveLength(1);
  });

  it('records the hash when the manifest has none (not verified)', async () => {
    const data = fakeModel(2 * PART + 5);
    const rec = await downloadModel(entry(data, { sha256: null }), { ...fast, fetchFn: server(data).fetchFn });
    expect(rec).toMatchObject({ verified: false, sha256: sha256Hex(data) });
  });

  it('resumes a dropped connection with Range from the exact byte it stopped at', async () => {
    const data = fakeModel(6 * PART + 123);
    const srv = server(data);
    const dropAt = 2 * PART + 30_000; // inside the third part, which is still in memory
    srv.faults.push({ kind: 'drop', after: dropAt });
    const retries: number[] = [];
    const rec = await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn, onRetry: (r) => retries.push(r.attempt) });
    expect(rec.verified).toBe(true);
    expect(retries).toEqual([1]);
    expect(srv.seen.map((s) => [s.range, s.ifRange, s.status])).toEqual([
      [null, null, 200],
      [`bytes=${dropAt}-`, '"v1"', 206],
    ]);
    expect(await readAll('m')).toEqual(data);
  });

  it('keeps the completed parts when cancelled and resumes from them later (as after a reload)', async () => {
    const data = fakeModel(8 * PART + 1);
    const srv = server(data);
    const abort = new AbortController();
    await expect(
      downloadModel(entry(data), {
        ...fast,
        fetchFn: srv.fetchFn,
        signal: abort.signal,
        onProgress: (p) => {
          if (p.bytes >= 3 * PART) abort.abort();
        },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    const partial = await getRecord('m');
    expect(partial).toMatchObject({ complete: false, parts: 3 });
    expect(partial?.hashState?.bytes).toBe(3 * PART);
    const rec = await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn });
    expect(rec.verified).toBe(true);
    expect(srv.seen.at(-1)).toMatchObject({ range: `bytes=${3 * PART}-`, status: 206 });
    expect(await readAll('m')).toEqual(data);
  });

  it('goes on hashing from the stored parts when the saved hash state is missing', async () => {
    const data = fakeModel(4 * PART + 9);
    const srv = server(data);
    const abort = new AbortController();
    await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn, signal: abort.signal, onProgress: (p) => p.bytes >= 2 * PART && abort.abort() }).catch(() => undefined);
    const r = await getRecord('m');
    await putRecord({ ...r!, hashState: undefined });
    const rec = await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn });
    expect(rec.verified).toBe(true);
  });

  it('starts over when the file changed on the server (If-Range answered with 200)', async () => {
    const old = fakeModel(6 * PART, 1);
    const next = fakeModel(6 * PART + 999, 2);
    const srv = server(old, '"old"');
    const abort = new AbortController();
    const e = entry(next, { approximate: true, bytes: 6 * PART });
    await downloadModel({ ...e, sha256: null }, { ...fast, fetchFn: srv.fetchFn, signal: abort.signal, onProgress: (p) => p.bytes >= 2 * PART && abort.abort() }).catch(() => undefined);
    expect((await getRecord('m'))?.etag).toBe('"old"');
    srv.change(next, '"new"');
    const rec = await downloadModel(e, { ...fast, fetchFn: srv.fetchFn });
    expect(srv.seen.at(-1)).toMatchObject({ range: `bytes=${2 * PART}-`, ifRange: '"old"', status: 200 });
    expect(rec).toMatchObject({ verified: true, bytes: next.length, etag: '"new"' });
    expect(await readAll('m')).toEqual(next);
  });

  it('starts over when a resumed answer has another total size (server ignoring If-Range)', async () => {
    const old = fakeModel(6 * PART, 1);
    const next = fakeModel(7 * PART + 3, 2);
    const srv = server(old, '"same"');
    const abort = new AbortController();
    const e = entry(next, { approximate: true, bytes: 1 });
    await downloadModel({ ...e, sha256: null }, { ...fast, fetchFn: srv.fetchFn, signal: abort.signal, onProgress: (p) => p.bytes >= 2 * PART && abort.abort() }).catch(() => undefined);
    expect((await getRecord('m'))?.bytes).toBe(old.length);
    srv.change(next, '"same"');
    srv.faults.push({ kind: 'ignore-if-range' });
    const rec = await downloadModel(e, { ...fast, fetchFn: srv.fetchFn });
    const last = srv.seen.slice(-2);
    expect(last[0]).toMatchObject({ range: `bytes=${2 * PART}-`, status: 206 });
    expect(last[1]).toMatchObject({ range: null, status: 200 });
    expect(rec).toMatchObject({ verified: true, bytes: next.length });
  });

  it('fails at once with a clear error on 404', async () => {
    const data = fakeModel(PART);
    const srv = server(data);
    srv.faults.push({ kind: 'status', status: 404 });
    const err = await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe('not-found');
    expect(err.message).toMatch(/not found on the server \(HTTP 404\): http:\/\/models\.test\/m\.bin/);
    expect(srv.seen).toHaveLength(1);
  });

  it('retries 5xx with backoff, then gives up after 3 tries; a later success completes', async () => {
    const data = fakeModel(2 * PART);
    const srv = server(data);
    srv.faults.push(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 500 })));
    const waits: number[] = [];
    const err = await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn, backoffMs: (n) => (waits.push(n), 1) }).catch((e) => e);
    expect(err).toMatchObject({ code: 'http', status: 500 });
    expect(err.message).toMatch(/failed 3 times/);
    expect(srv.seen.map((s) => s.status)).toEqual([500, 500, 500]);
    expect(waits).toEqual([1, 2]);
    srv.faults.push({ kind: 'status', status: 503 }, { kind: 'status', status: 502 });
    const rec = await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn });
    expect(rec.verified).toBe(true);
  });

  it('deletes a download whose SHA-256 does not match, and a retry works', async () => {
    const data = fakeModel(3 * PART + 11);
    const srv = server(data);
    srv.faults.push({ kind: 'wrong' });
    const err = await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn }).catch((e) => e);
    expect(err).toMatchObject({ code: 'hash' });
    expect(err.message).toMatch(/does not match its published SHA-256/);
    expect(await getRecord('m')).toBeNull();
    expect((await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn })).verified).toBe(true);
  });

  it('refuses a file of the wrong size before downloading it, and a web page', async () => {
    const data = fakeModel(2 * PART);
    const err = await downloadModel(entry(data, { bytes: data.length + 1 }), { ...fast, fetchFn: server(data).fetchFn }).catch((e) => e);
    expect(err).toMatchObject({ code: 'size' });
    expect(err.message).toMatch(/is 131,072 bytes, but Test model should be 131,073/);
    const srv = server(data);
    srv.faults.push({ kind: 'html' });
    expect(await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn }).catch((e) => e.code)).toBe('not-a-model');
    const junk = fakeModel(PART);
    junk[0] = 0x3c;
    expect(await downloadModel(entry(junk), { ...fast, fetchFn: server(junk).fetchFn }).catch((e) => e.code)).toBe('not-a-model');
    expect(await getRecord('m')).toBeNull();
  });

  it('accepts the real size of an approximate entry and records it', async () => {
    const data = fakeModel(3 * PART + 17, 5, MODEL_TYPE_ALIGNER);
    const rec = await downloadModel(entry(data, { kind: 'aligner', bytes: 10 * PART, approximate: true, sha256: null }), { ...fast, fetchFn: server(data).fetchFn });
    expect(rec).toMatchObject({ bytes: data.length, complete: true, kind: 'aligner' });
    expect((await checkStored('m')).ok).toBe(true);
  });

  it('refuses a model of the other kind', async () => {
    const data = fakeModel(2 * PART, 3, MODEL_TYPE_ALIGNER);
    const err = await downloadModel(entry(data), { ...fast, fetchFn: server(data).fetchFn }).catch((e) => e);
    expect(err).toMatchObject({ code: 'not-a-model' });
    expect(await getRecord('m')).toBeNull();
  });

  it('stops on a full disk with the sizes, keeping the parts already stored', async () => {
    const data = fakeModel(5 * PART);
    const proto = (globalThis as unknown as { IDBObjectStore: { prototype: IDBObjectStore } }).IDBObjectStore.prototype;
    const put = proto.put;
    vi.spyOn(proto, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (value instanceof Blob && String(key).endsWith('/2')) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.call(this, value, key);
    });
    const err = await downloadModel(entry(data), { ...fast, fetchFn: server(data).fetchFn }).catch((e) => e);
    expect(err).toMatchObject({ code: 'quota' });
    expect(err.message).toMatch(/Not enough storage space for the 328 kB of Test model/);
    expect(err.message).toMatch(/The 2 parts already downloaded are kept/);
    expect(await getRecord('m')).toMatchObject({ parts: 2, complete: false });
    vi.restoreAllMocks();
    const rec = await downloadModel(entry(data), { ...fast, fetchFn: server(data).fetchFn });
    expect(rec.verified).toBe(true);
  });

  it('does not start when the browser says the file will not fit', async () => {
    const data = fakeModel(4 * PART);
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 900_000, quota: 1_000_000 }) } });
    const srv = server(data);
    const err = await downloadModel(entry(data), { ...fast, fetchFn: srv.fetchFn }).catch((e) => e);
    vi.unstubAllGlobals();
    expect(err).toMatchObject({ code: 'quota' });
    expect(err.message).toMatch(/This site may use 1.0 MB of storage; 900 kB is in use, 100 kB free/);
    expect(srv.seen).toHaveLength(0);
  });

  it('parses Content-Range', () => {
    expect(parseContentRange('bytes 10-99/100')).toEqual({ start: 10, end: 99, total: 100 });
    expect(parseContentRange('bytes 0-9/*')).toEqual({ start: 0, end: 9, total: null });
    expect(parseContentRange('bytes 9-1/100')).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });
});
