// A loopback HTTP server for the benchmarks: files (and small JSON bodies) with the CORS and CORP
// headers a cross-origin-isolated page needs to fetch them.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';

export type Served = { file: string } | { json: string } | null;

/** Serves what `route` maps each path (no query, leading slash kept) to; null or a missing file is 404. */
export function serveFiles(route: (path: string) => Served): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    const headers = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' };
    if (req.method === 'OPTIONS') return void res.writeHead(204, headers).end();
    const target = route(decodeURIComponent((req.url ?? '/').split('?')[0]));
    if (target && 'json' in target) return void res.writeHead(200, { ...headers, 'Content-Type': 'application/json' }).end(target.json);
    let size = -1;
    try { if (target) size = statSync(target.file).size; } catch { /* 404 below */ }
    if (!target || size < 0) return void res.writeHead(404, headers).end();
    res.writeHead(200, { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': size });
    createReadStream(target.file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number };
    resolve({ url: `http://127.0.0.1:${a.port}/`, close: () => server.close() });
  }));
}
