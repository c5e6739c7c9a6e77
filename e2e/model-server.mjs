// A model host for the e2e tests (Node http, no dependencies): serves the files of a directory with Range,
// If-Range, ETag, Last-Modified and CORS (plus Cross-Origin-Resource-Policy, so a cross-origin isolated page
// may fetch from it), and misbehaves on request. Faults are chosen per request with `?fault=<modes>` on the
// file's URL, or for the following requests with the control endpoint `/__fault?mode=<modes>`:
//
//   drop      close the connection after `after` bytes of the body (default: half of it)
//   wrong     send wrong bytes (every 4096th byte after the first 1000 flipped; same size and headers)
//   404, 500  answer with that status
//   slow      trickle the body at `rate` bytes per second (default 2 MB/s)
//   changed   serve another version of the file: different bytes, 64 KiB longer, another ETag
//   ignore-if-range   honour Range even when If-Range does not match (a sloppy server)
//
// Modes combine with commas (`changed,slow`). `times=N` limits a control-endpoint fault to the next N file
// requests (default: 1 for drop and wrong, unlimited otherwise); `file=<name>` to one file. `/__fault?mode=none`
// clears it. `/__log` returns every request seen (method, path, range, if-range, status, bytes sent, fault);
// `/__log?clear=1` empties it. Run alone: `node e2e/model-server.mjs <dir> [port]`.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, extname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPES = { '.json': 'application/json', '.bin': 'application/octet-stream', '.txt': 'text/plain; charset=utf-8' };
const CHANGED_EXTRA = 64 * 1024;

function parseModes(s) {
  return new Set(
    String(s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x && x !== 'none'),
  );
}

function faultFrom(params) {
  const modes = parseModes(params.get('mode') ?? params.get('fault'));
  if (modes.size === 0) return null;
  const num = (k) => (params.has(k) && params.get(k) !== '' && Number.isFinite(Number(params.get(k))) ? Number(params.get(k)) : undefined);
  const defaultTimes = [...modes].every((m) => m === 'drop' || m === 'wrong') ? 1 : Infinity;
  return { modes, after: num('after'), rate: num('rate'), times: num('times') ?? defaultTimes, file: params.get('file') || undefined };
}

/**
 * Starts the server. Resolves with its URL and controls; `port` 0 picks a free one.
 * @param {{ dir: string, port?: number, host?: string }} options
 */
export async function startModelServer({ dir, port = 0, host = '127.0.0.1' }) {
  const root = resolve(dir);
  /** @type {null | { modes: Set<string>, after?: number, rate?: number, times: number, file?: string }} */
  let fault = null;
  const log = [];
  const info = new Map(); // path → { size, etag, mtime, changed: Buffer }

  function fileInfo(path) {
    const st = statSync(path);
    const key = `${path}:${st.size}:${st.mtimeMs}`;
    let i = info.get(path);
    if (!i || i.key !== key) {
      const bytes = readFileSync(path);
      const sha = createHash('sha256').update(bytes).digest('hex');
      const changed = Buffer.alloc(bytes.length + CHANGED_EXTRA);
      bytes.copy(changed);
      for (let k = 4096; k < changed.length; k += 512) changed[k] ^= 0x5a;
      changed.fill(0x11, bytes.length);
      i = {
        key,
        size: st.size,
        etag: `"${sha.slice(0, 24)}"`,
        mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString(),
        changed,
        changedEtag: `"${createHash('sha256').update(changed).digest('hex').slice(0, 24)}"`,
        changedMtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000 - 86_400_000).toUTCString(),
      };
      info.set(path, i);
    }
    return i;
  }

  function cors(res) {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range, If-Range, If-None-Match, If-Modified-Since');
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified, Content-Encoding');
    res.setHeader('Access-Control-Max-Age', '600');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    cors(res);
    const entry = {
      time: Date.now(),
      method: req.method,
      path: url.pathname,
      range: req.headers.range ?? null,
      ifRange: req.headers['if-range'] ?? null,
      status: 0,
      bytesSent: 0,
      fault: null,
    };

    if (url.pathname === '/__fault') {
      fault = faultFrom(url.searchParams);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ fault: fault && { ...fault, modes: [...fault.modes], times: Number.isFinite(fault.times) ? fault.times : null } }));
      return;
    }
    if (url.pathname === '/__log') {
      if (url.searchParams.has('clear')) log.length = 0;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(log));
      return;
    }
    log.push(entry);
    if (req.method === 'OPTIONS') {
      entry.status = 204;
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      entry.status = 405;
      res.writeHead(405);
      res.end();
      return;
    }

    const path = resolve(join(root, decodeURIComponent(url.pathname)));
    if (!path.startsWith(root + sep)) {
      entry.status = 403;
      res.writeHead(403);
      res.end();
      return;
    }
    let st;
    try {
      st = statSync(path);
    } catch {
      st = null;
    }
    if (!st || !st.isFile()) {
      entry.status = 404;
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }

    // Which fault applies to this request (model files only).
    let f = null;
    const isModel = extname(path) === '.bin';
    const perRequest = url.searchParams.has('fault') ? faultFrom(url.searchParams) : null;
    if (isModel && perRequest) f = perRequest;
    else if (isModel && fault && fault.times > 0 && (!fault.file || fault.file === basename(path))) {
      f = fault;
      fault.times -= 1;
      if (fault.times <= 0) fault = null;
    }
    entry.fault = f ? [...f.modes].join(',') : null;
    const has = (m) => !!f && f.modes.has(m);

    if (has('404') || has('500')) {
      entry.status = has('404') ? 404 : 500;
      res.writeHead(entry.status, { 'Content-Type': 'text/plain' });
      res.end(entry.status === 404 ? 'not found' : 'internal error');
      return;
    }

    const i = fileInfo(path);
    const changed = has('changed');
    const size = changed ? i.changed.length : i.size;
    const etag = changed ? i.changedEtag : i.etag;
    const mtime = changed ? i.changedMtime : i.mtime;

    let start = 0;
    let end = size - 1;
    let status = 200;
    const m = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? '').trim());
    const ifRange = req.headers['if-range'];
    const rangeOk = !ifRange || ifRange === etag || ifRange === mtime || has('ignore-if-range');
    if (m && rangeOk && (m[1] !== '' || m[2] !== '')) {
      if (m[1] === '') {
        start = Math.max(0, size - Number(m[2]));
      } else {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(end, Number(m[2]));
      }
      if (start >= size || start > end) {
        entry.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
    }
    const length = end - start + 1;
    const headers = {
      'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
      'Content-Length': String(length),
      'Accept-Ranges': 'bytes',
      ETag: etag,
      'Last-Modified': mtime,
      'Cache-Control': 'no-cache',
    };
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    entry.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }

    const dropAfter = has('drop') ? (f.after ?? Math.floor(length / 2)) : Infinity;
    const rate = has('slow') ? (f.rate ?? 2_000_000) : Infinity;
    const wrong = has('wrong');
    let closed = false;
    res.on('close', () => {
      closed = true;
    });

    // The body, as chunks: from the file, or from the changed version in memory.
    const source = changed
      ? (async function* () {
          for (let p = start; p <= end; p += 64 * 1024) yield i.changed.subarray(p, Math.min(end + 1, p + 64 * 1024));
        })()
      : createReadStream(path, { start, end, highWaterMark: 64 * 1024 });

    (async () => {
      let sent = 0;
      const t0 = Date.now();
      try {
        for await (const raw of source) {
          if (closed) break;
          let chunk = Buffer.from(raw);
          if (wrong) {
            chunk = Buffer.from(chunk);
            for (let k = 0; k < chunk.length; k++) {
              const abs = start + sent + k;
              if (abs >= 1000 && abs % 4096 === 0) chunk[k] ^= 0xff;
            }
          }
          // Trickle: small pieces, paced to the rate.
          const piece = Number.isFinite(rate) ? Math.max(1024, Math.floor(rate / 20)) : chunk.length;
          for (let o = 0; o < chunk.length && !closed; o += piece) {
            let part = chunk.subarray(o, Math.min(chunk.length, o + piece));
            if (sent + part.length > dropAfter) {
              part = part.subarray(0, Math.max(0, dropAfter - sent));
              if (part.length > 0) await new Promise((r) => res.write(part, r));
              sent += part.length;
              entry.bytesSent = sent;
              entry.dropped = true;
              res.destroy();
              return;
            }
            const ok = res.write(part);
            sent += part.length;
            entry.bytesSent = sent;
            if (!ok) await new Promise((r) => res.once('drain', r));
            if (Number.isFinite(rate)) {
              const due = t0 + (sent / rate) * 1000;
              const wait = due - Date.now();
              if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            }
          }
        }
        if (!closed) res.end();
      } catch {
        res.destroy();
      } finally {
        if (typeof source.destroy === 'function') source.destroy();
      }
    })();
  });

  await new Promise((r) => server.listen(port, host, r));
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const base = `http://${host}:${actualPort}/`;
  return {
    url: base,
    port: actualPort,
    /** Requests seen so far (live array). */
    log,
    clearLog() {
      log.length = 0;
    },
    /** Same as /__fault: `{ mode: 'drop', after: 1e6 }`, `{ mode: 'changed,slow', rate: 3e6 }`, or null to clear. */
    setFault(opts) {
      const p = new URLSearchParams();
      if (opts) for (const [k, v] of Object.entries(opts)) if (v !== undefined) p.set(k, String(v));
      fault = opts ? faultFrom(p) : null;
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r(undefined)));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.argv[2] ?? '.';
  const s = await startModelServer({ dir, port: Number(process.argv[3] ?? 8787) });
  console.log(`Serving ${resolve(dir)} at ${s.url} (faults: ${s.url}__fault?mode=…, log: ${s.url}__log)`);
}
