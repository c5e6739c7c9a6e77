// The engine's WASM builds in Chromium (threaded and single-thread): the log-mel against the
// independent float64 reference, and the threads really used. A module worker made from a Blob
// imports the shipped /wasm/ files, exactly as the app's engine worker does.
import { expect, test } from '@playwright/test';
import { logMel } from '../tools/reference/mel';
import { readF32 } from './fixtures';

function makeInputs(): Record<string, Float32Array> {
  const speechSrc = readF32('canonical.wav.ref.f32');
  const take = (sec: number, off: number) => {
    const out = new Float32Array(Math.round(sec * 16000));
    for (let i = 0; i < out.length; i++) out[i] = speechSrc[(Math.round(off * 16000) + i) % speechSrc.length];
    return out;
  };
  let s = 12345;
  const noise = (sec: number) => Float32Array.from({ length: Math.round(sec * 16000) }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.6;
  });
  return { 'speech 0.3 s': take(0.3, 1.2), 'speech 1 s': take(1, 1.5), 'speech 17.3 s': take(17.3, 0.5), 'noise 1 s': noise(1), 'noise 17.3 s': noise(17.3) };
}

for (const variant of ['mt', 'st'] as const) {
  test(`log-mel of the ${variant} build matches the float64 reference in Chromium`, async ({ page }) => {
    await page.goto('/');
    const inputs = makeInputs();
    const payload = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, Array.from(v)]));
    const result = await page.evaluate(async ({ variant, payload }) => {
      const src = `
        self.onmessage = async (e) => {
          try {
            const { default: create } = await import(e.data.url);
            const M = await create({ print() {}, printErr() {} });
            const info = JSON.parse(M.UTF8ToString(M._qasr_build_info()));
            const out = {};
            for (const [name, arr] of Object.entries(e.data.payload)) {
              const pcm = new Float32Array(arr);
              const p = M._malloc(pcm.length * 4);
              M.HEAPF32.set(pcm, p >> 2);
              const cap = 128 * (Math.floor(Math.max(pcm.length, 8000) / 160) + 1);
              const o = M._malloc(cap * 4);
              const T = M._qasr_debug_mel(p, pcm.length, o, cap, 0);
              out[name] = { T, data: Array.from(M.HEAPF32.subarray(o >> 2, (o >> 2) + 128 * T)) };
              M._free(p); M._free(o);
            }
            self.postMessage({ info, pool: M.PThread ? M.PThread.unusedWorkers.length + M.PThread.runningWorkers.length : 0, out });
          } catch (err) { self.postMessage({ error: String(err) }); }
        };`;
      const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
      const url = new URL(`wasm/engine-${variant}.mjs`, location.href).href;
      return await new Promise<any>((resolve) => { w.onmessage = (e) => resolve(e.data); w.postMessage({ url, payload }); });
    }, { variant, payload });
    expect(result.error).toBeUndefined();
    expect(result.info.kernels).toBe('wasm-simd128');
    if (variant === 'mt') {
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      expect(result.info.max_threads).toBe(cores);
      expect(result.pool).toBe(Math.min(cores, 8));
    } else {
      expect(result.info.max_threads).toBe(1);
    }
    for (const [name, pcm] of Object.entries(inputs)) {
      const ref = logMel(pcm);
      const got = result.out[name];
      expect(got.T, name).toBe(ref.T);
      let maxDiff = 0;
      for (let i = 0; i < ref.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.data[i] - ref.data[i]));
      expect(maxDiff, name).toBeLessThanOrEqual(1e-4);
    }
  });
}
