import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web/wasm';
import {
  VAD_DEFAULTS,
  checkSileroSession,
  detectSpeech,
  planBatches,
  probabilitiesToSegments,
  sileroProbabilities,
  type SpeechSegment,
} from './silero-vad';
import { makeFixtures, DEFAULT_FIXTURES_DIR } from '../../tools/make-fixtures.mjs';

const MODEL = resolve(__dirname, '../../node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx');
const SR = 16000;
const FRAME_SEC = VAD_DEFAULTS.frameSamples / SR;

type Utterance = { start: number; end: number };
type Manifest = {
  canonical: { ref: string; durationSec: number; utterances: Utterance[] };
  fixtures: Array<{ file: string; kind: string; ref: string | null; speech: Utterance[] | null }>;
};

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Every utterance is covered (first start / last end of the segments touching it within ±tol) and no segment lies in silence. */
function expectCoversUtterances(segments: SpeechSegment[], utterances: Utterance[], tol: number, label: string) {
  for (const u of utterances) {
    const touching = segments.filter((s) => s.end > u.start - tol && s.start < u.end + tol);
    expect(touching.length, `${label}: segments for utterance ${u.start.toFixed(2)}-${u.end.toFixed(2)}`).toBeGreaterThan(0);
    expect(Math.abs(touching[0].start - u.start), `${label}: start of ${u.start.toFixed(2)} (got ${touching[0].start.toFixed(3)})`).toBeLessThanOrEqual(tol);
    const last = touching[touching.length - 1];
    expect(Math.abs(last.end - u.end), `${label}: end of ${u.end.toFixed(2)} (got ${last.end.toFixed(3)})`).toBeLessThanOrEqual(tol);
  }
  for (const s of segments) {
    const inSpeech = utterances.some((u) => s.end > u.start - tol && s.start < u.end + tol);
    expect(inSpeech, `${label}: segment ${s.start.toFixed(3)}-${s.end.toFixed(3)} lies in a silence`).toBe(true);
  }
}

function expectSameSegments(a: SpeechSegment[], b: SpeechSegment[], tol: number) {
  expect(a.length).toBe(b.length);
  a.forEach((s, i) => {
    expect(Math.abs(s.start - b[i].start)).toBeLessThanOrEqual(tol);
    expect(Math.abs(s.end - b[i].end)).toBeLessThanOrEqual(tol);
  });
}

describe('probabilitiesToSegments (hysteresis)', () => {
  const f = (n: number, p: number) => new Array<number>(n).fill(p);
  const pad = VAD_DEFAULTS.speechPadMs / 1000;

  it('defaults are the documented ones', () => {
    expect(VAD_DEFAULTS).toMatchObject({ threshold: 0.5, negThreshold: 0.35, minSpeechMs: 250, minSilenceMs: 100, speechPadMs: 30, frameSamples: 512 });
  });

  it('drops a blip shorter than minSpeechMs and keeps one just longer', () => {
    expect(probabilitiesToSegments([...f(20, 0), ...f(7, 0.9), ...f(20, 0)])).toEqual([]); // 224 ms
    const segs = probabilitiesToSegments([...f(20, 0), ...f(8, 0.9), ...f(20, 0)]); // 256 ms
    expect(segs).toHaveLength(1);
    expect(segs[0].start).toBeCloseTo(20 * FRAME_SEC - pad, 9);
    expect(segs[0].end).toBeCloseTo(28 * FRAME_SEC + pad, 9);
  });

  it('bridges silences shorter than minSilenceMs, splits longer ones', () => {
    const bridged = probabilitiesToSegments([...f(10, 0), ...f(20, 0.9), ...f(3, 0.1), ...f(20, 0.9), ...f(10, 0)]); // 96 ms gap
    expect(bridged).toHaveLength(1);
    expect(bridged[0].start).toBeCloseTo(10 * FRAME_SEC - pad, 9);
    expect(bridged[0].end).toBeCloseTo(53 * FRAME_SEC + pad, 9);
    const split = probabilitiesToSegments([...f(10, 0), ...f(20, 0.9), ...f(4, 0.1), ...f(20, 0.9), ...f(10, 0)]); // 128 ms gap
    expect(split).toHaveLength(2);
    expect(split[0].end).toBeCloseTo(30 * FRAME_SEC + pad, 9);
    expect(split[1].start).toBeCloseTo(34 * FRAME_SEC - pad, 9);
  });

  it('hysteresis: values between negThreshold and threshold neither start nor end speech', () => {
    expect(probabilitiesToSegments([...f(10, 0), ...f(30, 0.45), ...f(10, 0)])).toEqual([]);
    const segs = probabilitiesToSegments([...f(10, 0), ...f(10, 0.9), ...f(30, 0.4), ...f(10, 0)]);
    expect(segs).toHaveLength(1);
    expect(segs[0].end).toBeCloseTo(50 * FRAME_SEC + pad, 9);
  });

  it('pads, clips padding to [0, duration] and closes speech still going at the end', () => {
    const totalSamples = 59 * 512 + 100; // last frame partial
    const segs = probabilitiesToSegments([...f(20, 0.9), ...f(20, 0), ...f(20, 0.9)], { totalSamples });
    expect(segs).toHaveLength(2);
    expect(segs[0].start).toBe(0);
    expect(segs[0].end).toBeCloseTo(20 * FRAME_SEC + pad, 9);
    expect(segs[1].start).toBeCloseTo(40 * FRAME_SEC - pad, 9);
    expect(segs[1].end).toBe(totalSamples / SR);
  });

  it('speech followed by a too-short silence at the very end ends where the silence starts', () => {
    const segs = probabilitiesToSegments([...f(5, 0), ...f(20, 0.9), ...f(2, 0)]);
    expect(segs).toHaveLength(1);
    expect(segs[0].end).toBeCloseTo(25 * FRAME_SEC + pad, 9);
  });

  it('splits the gap between neighbours when padding would make them overlap', () => {
    const segs = probabilitiesToSegments([...f(5, 0), ...f(20, 0.9), ...f(4, 0), ...f(20, 0.9), ...f(5, 0)], { speechPadMs: 100 });
    expect(segs).toHaveLength(2);
    expect(segs[0].end).toBeCloseTo(27 * FRAME_SEC, 9);
    expect(segs[1].start).toBeCloseTo(27 * FRAME_SEC, 9);
    expect(segs[0].start).toBeCloseTo(5 * FRAME_SEC - 0.1, 9);
  });

  it('empty input → no segments; output is sorted and non-overlapping', () => {
    expect(probabilitiesToSegments([])).toEqual([]);
    const probs = Array.from({ length: 2000 }, (_, i) => (Math.sin(i / 7) + Math.sin(i / 3.1) > 0.6 ? 0.9 : 0.1));
    const segs = probabilitiesToSegments(probs);
    expect(segs.length).toBeGreaterThan(10);
    for (let i = 0; i < segs.length; i++) {
      expect(segs[i].end).toBeGreaterThan(segs[i].start);
      if (i) expect(segs[i].start).toBeGreaterThanOrEqual(segs[i - 1].end);
    }
  });
});

describe('planBatches', () => {
  it('short audio runs as one stream; long audio as up to maxBatch streams that tile every frame', () => {
    expect(planBatches(0)).toMatchObject({ streams: 1, steps: 0 });
    expect(planBatches(1000)).toMatchObject({ streams: 1, steps: 1000, warmFrames: 0, starts: [0] });
    const frames = 112_500; // one hour
    const p = planBatches(frames);
    expect(p.streams).toBe(16);
    expect(p.warmFrames).toBe(16);
    const covered = new Uint8Array(frames);
    p.starts.forEach((s, b) => {
      for (let t = b === 0 ? 0 : p.warmFrames; t < p.steps; t++) if (s + t < frames) covered[s + t]++;
    });
    expect(covered.every((c) => c === 1)).toBe(true);
    expect(p.steps * p.streams).toBeLessThan(frames * 1.01);
  });
  it('never makes streams shorter than their warm-up', () => {
    const p = planBatches(40, { maxBatch: 16, minSegmentSec: 0 });
    expect(p.steps).toBeGreaterThanOrEqual(2 * p.warmFrames + 1);
  });
});

describe('Silero VAD v5 on the fixtures (onnxruntime-web/wasm in Node)', () => {
  let session: ort.InferenceSession;
  let manifest: Manifest;
  let canonical: Float32Array;

  beforeAll(async () => {
    manifest = (await makeFixtures(DEFAULT_FIXTURES_DIR)) as Manifest;
    ort.env.wasm.numThreads = 1;
    session = await ort.InferenceSession.create(readFileSync(MODEL));
    canonical = readF32(join(DEFAULT_FIXTURES_DIR, manifest.canonical.ref));
    await sileroProbabilities(ort, session, canonical.subarray(0, SR * 2), { maxBatch: 1 }); // warm-up (JIT tier-up)
  });

  it('is a v5 model and the checker rejects others', () => {
    expect(() => checkSileroSession(session)).not.toThrow();
    expect(() => checkSileroSession({ inputNames: ['input', 'sr', 'h', 'c'], outputNames: ['output', 'hn', 'cn'], run: session.run })).toThrow(/Not a Silero VAD v5 model/);
  });

  it('finds both utterances of the canonical clip (±0.3 s) and nothing in the silences', async () => {
    const progress: number[] = [];
    const { segments, probs } = await detectSpeech(ort, session, canonical, { onProgress: (r) => progress.push(r) });
    expect(probs.length).toBe(Math.ceil(canonical.length / 512));
    expectCoversUtterances(segments, manifest.canonical.utterances, 0.3, 'canonical.wav');
    expect(segments[segments.length - 1].end).toBeLessThanOrEqual(canonical.length / SR);
    expect(progress.length).toBeGreaterThan(10);
    expect(progress[progress.length - 1]).toBe(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1]);
  });

  it('same result on every container variant (Debian ffmpeg decodes)', async () => {
    for (const fx of manifest.fixtures.filter((x) => x.kind === 'canonical')) {
      const pcm = readF32(join(DEFAULT_FIXTURES_DIR, fx.ref!));
      const { segments } = await detectSpeech(ort, session, pcm);
      expectCoversUtterances(segments, fx.speech!, 0.3, fx.file);
    }
  });

  it('pure silence → no segments; empty input → no frames', async () => {
    const silence = readF32(join(DEFAULT_FIXTURES_DIR, 'silence-10s.wav.ref.f32'));
    const { segments, probs } = await detectSpeech(ort, session, silence);
    expect(segments).toEqual([]);
    expect(Math.max(...probs)).toBeLessThan(VAD_DEFAULTS.negThreshold);
    const empty = await detectSpeech(ort, session, new Float32Array(0));
    expect(empty.probs.length).toBe(0);
    expect(empty.segments).toEqual([]);
  });

  it('batched ≈ unbatched: same segments within 0.1 s; stream 0 is bit-identical', async () => {
    const seq = await sileroProbabilities(ort, session, canonical, { maxBatch: 1 });
    const seqSegs = probabilitiesToSegments(seq, { totalSamples: canonical.length });
    for (const maxBatch of [2, 4]) {
      const plan = planBatches(seq.length, { maxBatch, minSegmentSec: 0 });
      expect(plan.streams).toBe(maxBatch);
      const bat = await sileroProbabilities(ort, session, canonical, { maxBatch, minSegmentSec: 0 });
      const batSegs = probabilitiesToSegments(bat, { totalSamples: canonical.length });
      expectSameSegments(batSegs, seqSegs, 0.1);
      expect(Array.from(bat.subarray(0, plan.steps))).toEqual(Array.from(seq.subarray(0, plan.steps)));
      // Decisions (p >= threshold) differ on at most a couple of frames, which sit at speech edges.
      let flips = 0;
      for (let i = 0; i < seq.length; i++) if (seq[i] >= 0.5 !== bat[i] >= 0.5) flips++;
      expect(flips).toBeLessThanOrEqual(3);
    }
  });

  it('long audio: batched covers the same speech as sequential; reports frames/s', async () => {
    // ~2.3 minutes: the canonical clip 10 times with varying extra silence between copies.
    const parts: Float32Array[] = [];
    for (let k = 0; k < 10; k++) parts.push(canonical, new Float32Array(1733 * k));
    const long = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      long.set(p, off);
      off += p.length;
    }
    let t = performance.now();
    const seq = await sileroProbabilities(ort, session, long, { maxBatch: 1 });
    const seqMs = performance.now() - t;
    t = performance.now();
    const bat = await sileroProbabilities(ort, session, long, { maxBatch: 16, minSegmentSec: 5 });
    const batMs = performance.now() - t;
    const frames = seq.length;
    const plan = planBatches(frames, { maxBatch: 16, minSegmentSec: 5 });
    console.log(
      `[vad] ${frames} frames (${(long.length / SR).toFixed(0)} s): sequential ${(frames / (seqMs / 1000)).toFixed(0)} frames/s ` +
        `(${(seqMs / frames).toFixed(3)} ms/frame, ${((long.length / SR) / (seqMs / 1000)).toFixed(0)}x real time); ` +
        `batched x${plan.streams} ${(frames / (batMs / 1000)).toFixed(0)} frames/s (${(batMs / frames).toFixed(3)} ms/frame, ` +
        `${((long.length / SR) / (batMs / 1000)).toFixed(0)}x real time)`,
    );
    let agree = 0;
    for (let i = 0; i < frames; i++) if (seq[i] >= 0.5 === bat[i] >= 0.5) agree++;
    expect(agree / frames).toBeGreaterThan(0.99);
    // Per copy: both utterances found within ±0.3 s, in both modes.
    const utterances: Utterance[] = [];
    off = 0;
    for (let k = 0; k < 10; k++) {
      for (const u of manifest.canonical.utterances) utterances.push({ start: u.start + off / SR, end: u.end + off / SR });
      off += canonical.length + 1733 * k;
    }
    expectCoversUtterances(probabilitiesToSegments(seq, { totalSamples: long.length }), utterances, 0.3, 'long sequential');
    expectCoversUtterances(probabilitiesToSegments(bat, { totalSamples: long.length }), utterances, 0.3, 'long batched');
  });

  it('is cancellable between batches (AbortSignal or isCancelled)', async () => {
    const ac = new AbortController();
    let last = 0;
    const p = sileroProbabilities(ort, session, canonical, {
      maxBatch: 1,
      signal: ac.signal,
      onProgress: (r) => {
        last = r;
        if (r > 0.2) ac.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(last).toBeLessThan(0.25);
    let calls = 0;
    const q = sileroProbabilities(ort, session, canonical, { maxBatch: 4, minSegmentSec: 0, isCancelled: () => ++calls > 5 });
    await expect(q).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toBeLessThan(10);
    const pre = new AbortController();
    pre.abort();
    await expect(sileroProbabilities(ort, session, canonical, { signal: pre.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
