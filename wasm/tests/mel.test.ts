// The engine's log-mel (WASM, single-thread and threaded builds) against the independent float64
// TypeScript reference (research/qwen3-asr-official.md §2.2; addendum 1: compare within ~1e-4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logMel } from '../../tools/reference/mel';
import type { EngineBinding } from '../../src/lib/engine-binding';
import { loadEngine, shutdownEngine, variantAvailable, type Variant } from './load-engine';
import { noise, speech } from './test-audio';

const TOLERANCE = 1e-4;
const CASES: [string, () => Float32Array][] = [
  ['speech 0.3 s', () => speech(0.3, 1.2)],
  ['speech 1 s', () => speech(1, 1.5)],
  ['speech 17.3 s', () => speech(17.3, 0.5)],
  ['noise 0.3 s', () => noise(0.3, 7)],
  ['noise 1 s', () => noise(1, 8)],
  ['noise 17.3 s', () => noise(17.3, 9)],
  ['silence 1 s', () => new Float32Array(16000)],
  ['odd length 1 s + 77 samples', () => speech(1 + 77 / 16000, 2)],
];

for (const variant of ['st', 'mt-node'] as Variant[]) {
  describe.skipIf(!variantAvailable(variant))(`log-mel, WASM ${variant}`, () => {
    let engine: EngineBinding;
    beforeAll(async () => { engine = await loadEngine(variant); });
    afterAll(() => shutdownEngine(engine));

    for (const [name, make] of CASES) {
      it(`${name} matches the float64 reference within ${TOLERANCE}`, () => {
        const pcm = make();
        const ref = logMel(pcm);
        const got = engine.mel(pcm, variant === 'st' ? 1 : 2);
        expect(got.T).toBe(ref.T);
        expect(got.T).toBe(Math.floor(Math.max(pcm.length, 8000) / 160));
        let maxDiff = 0;
        for (let i = 0; i < ref.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.data[i] - ref.data[i]));
        expect(maxDiff).toBeLessThanOrEqual(TOLERANCE);
      });
    }

    it('gives the same result for 1 and 2 threads', () => {
      const pcm = speech(3);
      const a = engine.mel(pcm, 1), b = engine.mel(pcm, 2);
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
    });
  });
}
