// Privacy you can verify (issue "Ship it", item 3): while a file is transcribed with a model loaded from
// a local file, every request of the page, its workers (engine + pthreads, media + ffmpeg's own worker,
// VAD) and the service worker goes to our origin only — nothing to any other host, no WebSocket, and no
// request carries a body (so no audio can leave in one). The Content-Security-Policy is in force: a
// request to another host is refused by the browser before it reaches the network.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Request } from '@playwright/test';
import { fixturePath, ROOT, TINY_ASR } from './fixtures';

interface Seen {
  url: string;
  method: string;
  bodyBytes: number;
  type: string;
  /** Made by the service worker itself (its precache), not by the page or a dedicated worker. */
  fromServiceWorker: boolean;
}

/** Origins of the model files in models-manifest.json (allowed by the CSP; none is used in this test). */
function modelOrigins(): string[] {
  try {
    const m = JSON.parse(readFileSync(join(ROOT, 'models-manifest.json'), 'utf8')) as { models: { url: string }[] };
    return [...new Set(m.models.map((x) => new URL(x.url).origin))];
  } catch {
    return ['https://huggingface.co'];
  }
}

test('transcribing a local file with a local model talks to nobody but our own origin, and sends no audio', async ({ page, context, baseURL }) => {
  const ours = new URL(baseURL!).origin;
  const seen: Seen[] = [];
  const record = (r: Request) => {
    let bodyBytes = 0;
    try {
      bodyBytes = r.postDataBuffer()?.byteLength ?? 0;
    } catch {
      bodyBytes = -1; // a body Playwright can't read: counts as "has a body"
    }
    seen.push({ url: r.url(), method: r.method(), bodyBytes, type: r.resourceType(), fromServiceWorker: r.serviceWorker() !== null });
  };
  context.on('request', record);
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  page.on('worker', (w) => w.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(`[worker] ${m.text()}`);
  }));

  await page.goto('/');
  await expect(page.getByTestId('engine-badge')).toContainText('multi-threaded');
  await page.getByTestId('model-input').setInputFiles(TINY_ASR);
  await expect(page.getByTestId('model-info')).toContainText('q4_0', { timeout: 60_000 });
  await page.getByTestId('file-input').setInputFiles(fixturePath('canonical.wav'));
  await page.getByTestId('transcribe').click();
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });
  const statuses = await page.getByTestId('chunk').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  expect(statuses).toContain('done');
  // The service worker's precache (every file of the build) is part of what is checked.
  await expect(page.locator('html')).toHaveAttribute('data-offline', 'ready', { timeout: 120_000 });
  context.off('request', record);

  // What was recorded covers the dedicated workers too: these files are fetched only by the engine worker,
  // ffmpeg's worker (inside the media worker) and the VAD worker (besides the service worker's precache).
  const paths = seen.filter((s) => !s.fromServiceWorker).map((s) => new URL(s.url).pathname);
  for (const file of [/\/wasm\/engine-(mt|mt-relaxed|st)\.wasm$/, /\/wasm\/engine-mt(-relaxed)?\.worker\.js$/, /ffmpeg-core-.*\.wasm$/, /ort-wasm-simd-threaded-.*\.wasm$/, /silero_vad_v5-.*\.onnx$/]) {
    expect(paths.some((p) => file.test(p)), `no request for ${file}`).toBe(true);
  }
  expect(seen.some((s) => s.fromServiceWorker)).toBe(true);

  const allowed = new Set([ours, ...modelOrigins()]);
  const network = seen.filter((s) => !/^(data|blob):/.test(s.url));
  const elsewhere = network.filter((s) => !allowed.has(new URL(s.url).origin));
  expect(elsewhere, `requests to other hosts: ${elsewhere.map((s) => s.url).join(', ')}`).toEqual([]);
  // The model hosts are allowed by the CSP but not used here: the model came from a local file.
  expect(network.filter((s) => new URL(s.url).origin !== ours)).toEqual([]);
  const withBody = network.filter((s) => s.bodyBytes !== 0);
  expect(withBody, `requests with a body: ${withBody.map((s) => `${s.method} ${s.url} (${s.bodyBytes} B)`).join(', ')}`).toEqual([]);
  const methods = new Set(network.map((s) => s.method));
  for (const m of methods) expect(['GET', 'HEAD']).toContain(m);
  expect(sockets).toEqual([]);
  expect(violations).toEqual([]);
  if (process.env.QASR_PRIVACY_LOG) for (const s of network) console.log(`  ${s.method} ${s.url} ${s.type}${s.fromServiceWorker ? ' (service worker)' : ''}`);
  console.log(`[privacy] ${network.length} requests, all to ${ours} (${network.filter((s) => s.fromServiceWorker).length} by the service worker); methods: ${[...methods].join(', ')}`);
});

test('the Content-Security-Policy blocks requests to other hosts, from the page and from workers', async ({ page }) => {
  await page.goto('/');
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toMatch(/connect-src 'self' /);
  expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval'/);
  // No source that would let anything through: '*', a bare scheme, or a wildcard host without a domain.
  const connect = /connect-src ([^;]*)/.exec(csp!)![1].split(/\s+/);
  for (const src of connect) expect(src).not.toMatch(/^(\*|https?:|wss?:|https?:\/\/\*(:\*)?)$/);
  // The outcome of each attempt is read from the browser's CSP violation reports (a failed request alone
  // proves nothing on a machine without internet access).
  const result = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
    await fetch('https://example.com/upload', { method: 'POST', body: new Float32Array(16) }).catch(() => undefined);
    navigator.sendBeacon('https://example.com/beacon', 'x');
    try {
      const ws = new WebSocket('wss://example.com/socket');
      await new Promise((r) => { ws.onerror = r; ws.onopen = r; setTimeout(r, 2000); });
      ws.close();
    } catch {
      // some browsers throw right away
    }
    // A worker made from a blob inherits the page's policy; it reports its own violations.
    const src = `const v = [];
      self.addEventListener('securitypolicyviolation', (e) => v.push(e.effectiveDirective + ' ' + e.blockedURI));
      fetch('https://example.com/from-worker').catch(() => {}).then(() => setTimeout(() => postMessage(v), 100));`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    const fromWorker = await new Promise<string[]>((resolve) => (w.onmessage = (e) => resolve(e.data as string[])));
    w.terminate();
    await new Promise((r) => setTimeout(r, 200));
    return { violations, fromWorker };
  });
  console.log(`[privacy] CSP violations: ${[...result.violations, ...result.fromWorker.map((v) => `(worker) ${v}`)].join('; ')}`);
  expect(result.violations).toContain('connect-src https://example.com/upload');
  expect(result.violations).toContain('connect-src https://example.com/beacon');
  expect(result.violations.some((v) => /^connect-src wss:\/\/example\.com/.test(v))).toBe(true);
  expect(result.fromWorker).toContain('connect-src https://example.com/from-worker');
});
