// The built site on a plain static host (issue "Ship it", items 2 and 6): a tiny Node file server in this
// file serves dist/ with no special headers at all (no COOP/COEP, no CSP, like a host that cannot set
// them). The app's service worker (public/sw.js) then makes the page cross-origin isolated after one
// reload, so the engine runs multi-threaded; after the first visit the app opens and transcribes with
// the network cut. A host where isolation stays impossible runs single-threaded, says so, and does not
// reload in a loop.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { fixturePath, ROOT, TINY_ASR } from './fixtures';

const DIST = process.env.QASR_DIST ?? join(ROOT, 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.onnx': 'application/octet-stream',
};

interface StaticHost {
  url: string;
  /** Paths requested so far. */
  log: string[];
  close(): Promise<void>;
}

/** Serves `dir` with Content-Type and Content-Length only. `overrides` replaces files by path. */
function startStaticHost(dir: string, overrides: Record<string, { type: string; body: string }> = {}): Promise<StaticHost> {
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    log.push(path);
    const override = overrides[path];
    if (override) {
      res.writeHead(200, { 'Content-Type': override.type, 'Content-Length': Buffer.byteLength(override.body) });
      res.end(override.body);
      return;
    }
    let file = normalize(join(dir, path));
    if (!file.startsWith(dir + sep) && file !== dir) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        log,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function isolated(page: Page): Promise<boolean> {
  return page.evaluate(() => self.crossOriginIsolated).catch(() => false); // false while reloading
}

async function transcribeCanonical(page: Page): Promise<void> {
  await page.getByTestId('model-input').setInputFiles(TINY_ASR);
  await expect(page.getByTestId('model-info')).toContainText('q4_0', { timeout: 60_000 });
  await page.getByTestId('file-input').setInputFiles(fixturePath('canonical.wav'));
  await page.getByTestId('transcribe').click();
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });
  const statuses = await page.getByTestId('chunk').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  expect(statuses).toContain('done');
}

test('on a host without headers the service worker brings threads, and the app works offline after the first visit', async ({ page, context }) => {
  const host = await startStaticHost(DIST);
  try {
    // The host really sends no isolation headers.
    const head = await fetch(host.url);
    expect(head.headers.get('cross-origin-opener-policy')).toBeNull();
    expect(head.headers.get('cross-origin-embedder-policy')).toBeNull();
    expect(head.headers.get('content-security-policy')).toBeNull();

    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    await page.goto(host.url);
    // First load: not isolated; the service worker takes over and the page reloads once.
    await expect.poll(() => isolated(page), { timeout: 30_000 }).toBe(true);
    await expect(page.getByTestId('engine-badge')).toContainText('multi-threaded');
    expect(loads.length).toBe(2);
    // …and then stays (no reload loop).
    await page.waitForTimeout(2000);
    expect(loads.length).toBe(2);

    // Everything of the build is cached for offline use.
    await expect(page.locator('html')).toHaveAttribute('data-offline', 'ready', { timeout: 120_000 });
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const cache = await caches.open(names.find((n) => n.startsWith('qasr-app-'))!);
      return (await cache.keys()).map((r) => new URL(r.url).pathname);
    });
    for (const f of [/\/index\.html$/, /ffmpeg-core-.*\.wasm$/, /ort-wasm-simd-threaded-.*\.wasm$/, /silero_vad_v5-.*\.onnx$/, /\/wasm\/engine-mt\.wasm$/, /\/wasm\/engine-mt-relaxed\.wasm$/, /\/wasm\/engine-st\.wasm$/]) {
      expect(cached.some((p) => f.test(p)), `${f} not cached`).toBe(true);
    }

    // Cut the network: the browser goes offline and the host is shut down.
    await context.setOffline(true);
    await host.close();
    const served = host.log.length;
    await page.reload();
    await expect(page.getByTestId('engine-badge')).toContainText('multi-threaded', { timeout: 30_000 });
    expect(await isolated(page)).toBe(true);
    await transcribeCanonical(page);
    expect(host.log.length).toBe(served);
    // A fresh tab opens offline too.
    const second = await context.newPage();
    await second.goto(host.url);
    await expect(second.getByTestId('engine-badge')).toContainText('multi-threaded', { timeout: 30_000 });
    await second.close();
  } finally {
    await context.setOffline(false).catch(() => {});
    await host.close().catch(() => {});
  }
});

test.describe('where isolation is impossible', () => {
  test('a service worker that cannot add headers: one reload at most, then single-threaded and saying so', async ({ page }) => {
    // A stand-in service worker that takes control but passes responses through unchanged.
    const inert = `self.addEventListener('install', (e) => e.waitUntil(self.skipWaiting()));
      self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));`;
    const host = await startStaticHost(DIST, { '/sw.js': { type: 'text/javascript', body: inert } });
    try {
      let loads = 0;
      page.on('load', () => loads++);
      await page.goto(host.url);
      await page.waitForTimeout(4000);
      expect(loads).toBe(2);
      expect(await isolated(page)).toBe(false);
      await expect(page.getByTestId('engine-badge')).toContainText('single-threaded — page is not cross-origin isolated');
      await transcribeCanonical(page);
      await page.reload();
      await page.waitForTimeout(2000);
      expect(loads).toBe(3); // the reload asked for above, no more
    } finally {
      await host.close();
    }
  });

  test.describe('without service workers', () => {
    test.use({ serviceWorkers: 'block' });
    test('the app runs single-threaded and says so', async ({ page }) => {
      const host = await startStaticHost(DIST);
      try {
        await page.goto(host.url);
        await expect(page.getByTestId('engine-badge')).toContainText('single-threaded — page is not cross-origin isolated');
        await transcribeCanonical(page);
      } finally {
        await host.close();
      }
    });
  });
});
