// The JS memory a model load costs (issue 5): how much JS heap loading the full-size recogniser from
// IndexedDB adds at its peak, in every realm the model's bytes pass through. The model is put into
// IndexedDB by the app's own download path (the manifest/base-URL override of the e2e tests, served from
// localhost), the page is reloaded for fresh heaps, then the row's "Use" button loads it the real way:
// store.readParts (main thread: IndexedDB Blob → ArrayBuffer, one part at a time) → Engine.loadModelParts
// (each part transferred, not copied, to the engine worker) → engine worker (copied into the WASM heap).
//
// How the heap is read: Chromium's DevTools protocol, `Runtime.getHeapUsage`, on the page and on each of
// its dedicated workers (the engine worker, and the media/VAD workers if they exist). Workers are reached
// with `Target.setAutoAttach({ flatten: false })` on a page CDP session and `Target.sendMessageToTarget`,
// since Playwright's CDPSession cannot address flattened child sessions. A realm's JS heap is
// `usedSize` (V8 heap objects) + `backingStorageSize` (ArrayBuffer backing stores and external strings),
// the same quantity as `performance.memory.usedJSHeapSize` in this Chromium (which exists on the page
// only). ArrayBuffers must count: the model's parts are ArrayBuffers. WebAssembly.Memory (the engine's
// heap, a SharedArrayBuffer in the threaded build) is NOT in either number: checked on Chromium 156, a
// 100 MB WebAssembly.Memory, shared or not, leaves both unchanged while a 100 MB ArrayBuffer adds 100 MB.
// Blobs (IndexedDB values) live in the browser process's blob storage, not in a JS heap. The engine's
// pthread workers (nested in the engine worker) are not measured: they only run C++ on the shared WASM
// memory and never see the part bytes; nor is the service worker (sw.js), which the load does not go
// through. A realm that does not answer within 5 s is left out of that round (a terminated worker whose
// detach event has not come yet).
//
// The heaps are sampled together, one round every ~20 ms while the load runs (a round asks every realm at
// once; the sum of one round is one sample); a realm that appears during the load counts from 0.
// peak_js_heap_bytes = highest sum − the baseline sum measured after forced GCs just before the load.
// The bytes pass through two realms: the page holds each 32 MiB part as an ArrayBuffer only between
// Blob.arrayBuffer() resolving and its transfer to the worker (same task); the engine worker holds it until
// it is copied into the WASM heap (workers/engine.worker.ts then detaches it, freeing it at once).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type CDPSession } from '@playwright/test';
import { serveFiles } from './file-server';

export interface ModelLoadMemory {
  /** Peak JS heap added during the load, summed over realms at the same sample time. */
  peak_js_heap_bytes: number;
  /** JS heap of the measured realms just before the load (after GC). */
  baseline_js_heap_bytes: number;
  /** From the click on "Use" until the row says the model is in use. */
  load_ms: number;
  model_file_bytes: number;
  /** Each realm's own highest added heap (not simultaneous; for diagnosis). */
  peak_by_realm: Record<string, number>;
  samples: number;
}

export interface ModelLoadMemoryOptions {
  /** The served app (with COOP/COEP), e.g. `http://127.0.0.1:4179/`. */
  appUrl: string;
  /** The generated full-0.6b model file. */
  modelPath: string;
  chromiumArgs: string[];
  log?: (s: string) => void;
}

const ROOT = join(import.meta.dirname, '..');
const ASR_ID = 'qwen3-asr-0.6b-q4_0';
const SAMPLE_EVERY_MS = 5;

// The real manifest with our file's size and hash for the 0.6B recogniser. The 1.7B entry is made the
// default, so that after the reload the app's start-up restore (which loads the default recogniser when it
// is stored) leaves the slot empty and the load happens when we click "Use".
function benchManifest(bytes: number, sha256: string) {
  const real = JSON.parse(readFileSync(join(ROOT, 'models-manifest.json'), 'utf8')) as { version: number; models: Record<string, unknown>[] };
  const other = real.models.find((m) => m.kind === 'asr' && m.id !== ASR_ID);
  if (!other) throw new Error('models-manifest.json has no second recogniser to make the default');
  const models = real.models.map((m) =>
    m.id === ASR_ID ? { ...m, bytes, sha256, default: false } : m === other ? { ...m, default: true } : m,
  );
  return { version: real.version, models };
}

/** Serves the manifest and the model under its published file name (CORS + CORP for the isolated page). */
function serveModel(modelPath: string, fileName: string, manifest: unknown): Promise<{ url: string; close: () => void }> {
  const json = JSON.stringify(manifest);
  return serveFiles((path) => (path === '/manifest.json' ? { json } : path === `/${fileName}` ? { file: modelPath } : null));
}

interface HeapUsage { usedSize: number; backingStorageSize?: number }

/** The page and its dedicated workers, each readable with Runtime.getHeapUsage. */
class Realms {
  readonly workers = new Map<string, string>(); // sessionId → name
  #next = 0;
  #pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  constructor(readonly page: CDPSession) {
    page.on('Target.attachedToTarget', (e) => {
      if (e.targetInfo.type !== 'worker') return;
      const file = e.targetInfo.url.split('?')[0].split('/').pop() || e.targetInfo.url;
      this.workers.set(e.sessionId, `worker ${file.replace(/-[\w-]{8}\.js$/, '.js')}`);
    });
    page.on('Target.detachedFromTarget', (e) => this.workers.delete(e.sessionId));
    page.on('Target.receivedMessageFromTarget', (e) => {
      const m = JSON.parse(e.message);
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error.message));
      else p.resolve(m.result);
    });
  }

  async start(): Promise<void> {
    await this.page.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  }

  #sendTo(sessionId: string, method: string, params: object = {}): Promise<any> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      // A worker that is busy for long (or gone without a detach event) must not stall the sampling.
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer from ${this.workers.get(sessionId) ?? sessionId}`));
      }, 5000);
      const done = (f: (v: any) => void) => (v: any) => { clearTimeout(timer); f(v); };
      this.#pending.set(id, { resolve: done(resolve), reject: done(reject) });
      this.page.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(done(reject));
    });
  }

  async #call(sessionId: string | null, method: string): Promise<any> {
    return sessionId === null ? this.page.send(method as 'Runtime.getHeapUsage') : this.#sendTo(sessionId, method);
  }

  /** JS heap (V8 objects + ArrayBuffer backing stores) of every realm, read at the same time. */
  async sample(): Promise<Map<string, number>> {
    const ids: (string | null)[] = [null, ...this.workers.keys()];
    const got = await Promise.all(ids.map((id) => this.#call(id, 'Runtime.getHeapUsage').catch(() => null) as Promise<HeapUsage | null>));
    const out = new Map<string, number>();
    ids.forEach((id, i) => {
      const u = got[i];
      if (u) out.set(id === null ? 'page' : `${this.workers.get(id)} (${id.slice(0, 6)})`, u.usedSize + (u.backingStorageSize ?? 0));
    });
    return out;
  }

  async gc(): Promise<void> {
    const ids: (string | null)[] = [null, ...this.workers.keys()];
    await Promise.all(ids.map((id) => this.#call(id, 'HeapProfiler.collectGarbage').catch(() => undefined)));
  }
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

export async function measureModelLoadMemory(opts: ModelLoadMemoryOptions): Promise<ModelLoadMemory> {
  const log = opts.log ?? (() => undefined);
  const stamp = JSON.parse(readFileSync(`${opts.modelPath}.json`, 'utf8')) as { bytes: number; sha256: string };
  const modelBytes = statSync(opts.modelPath).size;
  const models = await serveModel(opts.modelPath, `${ASR_ID}.bin`, benchManifest(modelBytes, stamp.sha256));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...opts.chromiumArgs, '--enable-precise-memory-info'] });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => log(`page error: ${e.stack ?? e.message}`));
    const url = `${opts.appUrl}?manifest=${encodeURIComponent(`${models.url}manifest.json`)}&models=${encodeURIComponent(models.url)}`;
    const row = page.locator(`[data-testid="model-row"][data-model-id="${ASR_ID}"]`);

    // (a) Into IndexedDB by the app's download (it then loads it once: the slot is empty).
    log('load memory: downloading the full-0.6b model into IndexedDB…');
    await page.goto(url);
    await row.getByTestId('download').click();
    const t = performance.now();
    for (let i = 0; ; i++) {
      const state = await row.getAttribute('data-state', { timeout: 10_000 });
      if (state === 'in-use' || state === 'stored') break;
      if ((await page.getByTestId('model-error').count()) > 0) break;
      if (performance.now() - t > 900_000) throw new Error(`the download did not finish in 15 min (row state ${state})`);
      if (i % 10 === 9) log(`load memory: ${(await row.getByTestId('download-progress').textContent().catch(() => ''))?.replace(/\s+/g, ' ').trim()}`);
      await page.waitForTimeout(1000);
    }
    const err = await page.getByTestId('model-error').allTextContents();
    if (err.length) throw new Error(`download failed: ${err.join('; ')}`);

    // (b) Fresh heaps: forget the model in use and reload (nothing is loaded at start, see benchManifest).
    await page.evaluate(() => localStorage.removeItem('qasr.models.active'));
    await page.goto(url);
    await page.waitForSelector(`[data-testid="model-row"][data-model-id="${ASR_ID}"][data-state="stored"]`);
    const cdp = await page.context().newCDPSession(page);
    const realms = new Realms(cdp);
    await realms.start();
    await page.waitForTimeout(1500); // start-up work (engine worker init, storage estimate) settles
    for (let i = 0; i < 3; i++) {
      await realms.gc();
      await page.waitForTimeout(300); // ArrayBuffer backing stores are freed by a concurrent sweeper
    }
    const baseline = await realms.sample();
    const baselineSum = sum(baseline);
    log(`load memory: baseline ${[...baseline].map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(1)} MiB`).join(', ')}`);

    // (c) Load it the app's way, sampling all realms together until it is in use.
    let running = true;
    let peak = 0;
    let samples = 0;
    const peakByRealm: Record<string, number> = {};
    const sampler = (async () => {
      while (running) {
        const s = await realms.sample();
        samples++;
        peak = Math.max(peak, sum(s) - baselineSum);
        for (const [k, v] of s) peakByRealm[k] = Math.max(peakByRealm[k] ?? 0, v - (baseline.get(k) ?? 0));
        await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
      }
    })();
    const t0 = performance.now();
    await row.getByTestId('use-model').click();
    await page.waitForSelector(`[data-testid="model-row"][data-model-id="${ASR_ID}"][data-state="in-use"]`, { timeout: 300_000, state: 'attached' });
    const load_ms = performance.now() - t0;
    running = false;
    await sampler;
    const loadErr = await page.getByTestId('model-error').allTextContents();
    if (loadErr.length) throw new Error(`load failed: ${loadErr.join('; ')}`);
    log(`load memory: ${samples} samples, peak per realm ${Object.entries(peakByRealm).map(([k, v]) => `${k} +${(v / 2 ** 20).toFixed(1)} MiB`).join(', ')}`);
    return { peak_js_heap_bytes: peak, baseline_js_heap_bytes: baselineSum, load_ms, model_file_bytes: modelBytes, peak_by_realm: peakByRealm, samples };
  } finally {
    await browser.close();
    models.close();
  }
}
