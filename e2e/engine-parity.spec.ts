// Token parity across builds, part 3 (Chromium): the threaded (plain and relaxed-SIMD) and the
// single-thread WASM builds, loaded from the shipped /wasm/ files by a Blob module worker (as the
// app's engine worker does),
// transcribe the cases of .cache/engine-cases/ (written by wasm/tests/native-parity.test.ts: the
// tiny q4_0 model, 1 s / 8.5 s / 20 s of speech, 40 tokens, fast and exact paths). The tokens must
// equal the ones the same builds gave in Node. The model and the PCM reach the page through
// page.route (same origin, with the CORP header a cross-origin-isolated page needs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { ROOT } from './fixtures';

const CASES = join(ROOT, '.cache/engine-cases');

interface Run { path: string; numerics: number; max_new_tokens: number; repetition_guard: number; prompt_tokens: number; tokens: number[] }
interface Case { name: string; pcm: string; samples: number; runs: Run[] }

function index(): { model: string; cases: Case[] } {
  const p = join(CASES, 'index.json');
  if (!existsSync(p)) throw new Error(`${p} is missing: run \`npx vitest run wasm/tests/native-parity.test.ts\` first (npm test runs vitest before the e2e tests)`);
  return JSON.parse(readFileSync(p, 'utf8'));
}

test.use({ serviceWorkers: 'block' });

const binary = { 'Content-Type': 'application/octet-stream', 'Cross-Origin-Resource-Policy': 'same-origin' };

for (const variant of ['mt', 'mt-relaxed', 'st'] as const) {
  test(`${variant} build in Chromium gives the Node WASM tokens`, async ({ page }) => {
    test.setTimeout(240_000);
    const idx = index();
    const model = readFileSync(join(ROOT, '.cache', idx.model));
    await page.route('**/engine-parity/tiny-model.bin', (route) => route.fulfill({ body: model, headers: binary }));
    await page.route('**/engine-parity/pcm/*', (route) => {
      const name = decodeURIComponent(new URL(route.request().url()).pathname.split('/').pop()!);
      const c = idx.cases.find((x) => x.pcm === name);
      return c ? route.fulfill({ body: readFileSync(join(CASES, c.pcm)), headers: binary }) : route.fulfill({ status: 404 });
    });
    await page.goto('/');

    const jobs = idx.cases.flatMap((c) => c.runs.map((r) => ({ name: c.name, pcm: c.pcm, path: r.path, numerics: r.numerics, maxNew: r.max_new_tokens, guard: r.repetition_guard })));
    const result = await page.evaluate(async ({ variant, jobs }) => {
      const fetchBytes = async (url: string) => {
        const r = await fetch(url);
        if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
        return r.arrayBuffer();
      };
      const model = await fetchBytes('/engine-parity/tiny-model.bin');
      const pcms: Record<string, ArrayBuffer> = {};
      for (const j of jobs) pcms[j.pcm] ??= await fetchBytes(`/engine-parity/pcm/${encodeURIComponent(j.pcm)}`);
      const src = `
        self.onmessage = async (e) => {
          try {
            const { url, model, pcms, jobs } = e.data;
            const { default: create } = await import(url);
            const M = await create({ print() {}, printErr() {} });
            const err = () => M.UTF8ToString(M._qasr_last_error());
            const info = JSON.parse(M.UTF8ToString(M._qasr_build_info()));
            const bytes = new Uint8Array(model);
            const buf = M._qasr_buffer_alloc(bytes.length) >>> 0;
            M.HEAPU8.set(bytes, buf);
            const h = M._qasr_model_load(buf, bytes.length, 0) >>> 0;
            if (!h) throw new Error('load: ' + err());
            const threads = JSON.parse(M.UTF8ToString(M._qasr_model_info(h))).threads;
            const out = [];
            for (const j of jobs) {
              const pcm = new Float32Array(pcms[j.pcm]);
              const p = M._malloc(pcm.length * 4) >>> 0;
              M.HEAPF32.set(pcm, p >>> 2);
              const o = M._malloc(28) >>> 0;
              new Int32Array(M.HEAPU8.buffer, o, 7).set([0, j.numerics, 0, 0, j.maxNew, j.guard, 0]);
              const s = M._qasr_session_start(h, p, pcm.length, o) >>> 0;
              M._free(p); M._free(o);
              if (!s) throw new Error('start: ' + err());
              for (let t; (t = M._qasr_session_next(s)) >= 0;) {}
              const r = JSON.parse(M.UTF8ToString(M._qasr_session_result(s)));
              M._qasr_session_free(s);
              out.push({ name: j.name, path: j.path, tokens: r.tokens, prompt_tokens: r.prompt_tokens });
            }
            M._qasr_model_free(h);
            self.postMessage({ info, threads, out });
          } catch (error) { self.postMessage({ error: String(error && error.stack || error) }); }
        };`;
      const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
      const url = new URL(`wasm/engine-${variant}.mjs`, location.href).href;
      try {
        return await new Promise<any>((resolve) => {
          w.onmessage = (e) => resolve(e.data);
          w.onerror = (e) => resolve({ error: e.message });
          w.postMessage({ url, model, pcms, jobs }, [model]);
        });
      } finally {
        w.terminate();
      }
    }, { variant, jobs });

    expect(result.error).toBeUndefined();
    expect(result.info.kernels).toBe(variant === 'mt-relaxed' ? 'wasm-simd128-relaxed' : 'wasm-simd128');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(result.threads).toBe(variant !== 'st' ? Math.min(cores, result.info.max_threads) : 1);
    let compared = 0;
    for (const c of idx.cases) {
      for (const r of c.runs) {
        const got = result.out.find((o: any) => o.name === c.name && o.path === r.path);
        expect(got, `${c.name} ${r.path}`).toBeTruthy();
        expect(got.prompt_tokens, `${c.name} ${r.path}: prompt`).toBe(r.prompt_tokens);
        expect(got.tokens, `${variant} build, ${c.name}, ${r.path} path`).toEqual(r.tokens);
        compared++;
      }
    }
    expect(compared).toBe(6);
  });
}
