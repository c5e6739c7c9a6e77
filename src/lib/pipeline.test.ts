// The windowed pipeline (src/lib/pipeline.ts) with fake workers: a long synthetic recording is
// decoded window by window, every speech burst ends up in exactly one chunk, each chunk gets the
// exact samples of its time span, no stage ever sees more than a window (+ carry) of PCM, and
// truncation, damage, cancellation and analyse-only runs end in a clear state.
import { describe, expect, it } from 'vitest';
import type { Engine } from './engine';
import type { DecodeOptions, DecodeResult, MediaDecoder } from './media';
import { MediaDecodeError } from './media-protocol';
import { TranscriptionController, type WindowingOptions } from './pipeline';
import type { ModelSwap, Progress, TranscriptChunk } from './pipeline-types';
import type { DetectOptions, VadDetectResult, VoiceActivityDetector } from './vad';

const SR = 16000;

/** Speech bursts: [start, end] seconds, on a deterministic pattern (some > 30 s, some gaps < 3 s). */
function burstsFor(durationSec: number): [number, number][] {
  const out: [number, number][] = [];
  let t = 2;
  let k = 0;
  while (t < durationSec) {
    const len = [4, 12, 45, 2.5, 20, 7][k % 6];
    const gap = [0.8, 5, 1.5, 12, 0.4, 2.5][k % 6];
    out.push([t, Math.min(durationSec, t + len)]);
    t += len + gap;
    k++;
  }
  return out;
}

/** The synthetic recording: a ramp inside bursts (the value encodes the sample index), 0 outside. */
function sampleAt(i: number, bursts: [number, number][]): number {
  const t = i / SR;
  for (const [a, b] of bursts) if (t >= a && t < b) return 0.2 + 0.5 * ((i % 997) / 997);
  return 0;
}

/** Samples [from, to) of the recording. */
function render(from: number, to: number, bursts: [number, number][]): Float32Array {
  const pcm = new Float32Array(Math.max(0, to - from));
  for (const [a, b] of bursts) {
    const s = Math.max(from, Math.ceil(a * SR));
    const e = Math.min(to, Math.ceil(b * SR));
    for (let i = s; i < e; i++) pcm[i - from] = 0.2 + 0.5 * ((i % 997) / 997);
  }
  return pcm;
}

interface FakeFile {
  durationSec: number;
  /** Samples that really decode (less than the duration for a truncated file). */
  decodableSec?: number;
  /** Windows whose decode fails (index by start second). */
  failAtSec?: number;
  hasVideo?: boolean;
}

class FakeMedia {
  calls: { startSec: number; durationSec?: number }[] = [];
  maxPcm = 0;
  constructor(private readonly f: FakeFile, private readonly bursts: [number, number][]) {}
  async decode(_file: Blob, options: DecodeOptions = {}): Promise<DecodeResult> {
    const range = options.range ?? { startSec: 0 };
    this.calls.push({ startSec: range.startSec, durationSec: range.durationSec });
    if (options.signal?.aborted) throw new DOMException('Cancelled', 'AbortError');
    if (this.f.failAtSec !== undefined && range.startSec >= this.f.failAtSec) {
      throw new MediaDecodeError('decode-failed', 'Couldn\'t decode the audio in "x": Invalid data.');
    }
    const end = Math.round((this.f.decodableSec ?? this.f.durationSec) * SR);
    const a = Math.min(end, Math.round(range.startSec * SR));
    const want = range.durationSec === undefined ? Infinity : Math.round(range.durationSec * SR);
    const b = Math.min(end, a + want);
    const pcm = render(a, b, this.bursts);
    this.maxPcm = Math.max(this.maxPcm, pcm.length);
    options.onProgress?.({ ratio: 1 });
    return {
      pcm,
      sampleRate: SR,
      durationSec: pcm.length / SR,
      info: { containerDurationSec: this.f.durationSec, audioStreamCount: 1, hasVideo: this.f.hasVideo ?? false, streams: [] },
      decodeMs: 1,
      startSec: range.startSec,
      endOfInput: b - a < want,
      decodeErrors: 0,
    };
  }
  dispose() {}
}

/** Speech wherever |x| > 0.1, in 512-sample frames; small gaps bridged (like the real VAD). */
class FakeVad {
  maxPcm = 0;
  async detect(pcm: Float32Array, options: DetectOptions = {}): Promise<VadDetectResult> {
    if (options.signal?.aborted) throw new DOMException('Cancelled', 'AbortError');
    this.maxPcm = Math.max(this.maxPcm, pcm.length);
    const segs: { start: number; end: number }[] = [];
    let open = -1;
    let lastSpeech = -1;
    for (let f = 0; f * 512 < pcm.length; f++) {
      let speech = false;
      for (let i = f * 512; i < Math.min(pcm.length, (f + 1) * 512); i += 8) if (Math.abs(pcm[i]) > 0.1) speech = true;
      if (speech) {
        if (open < 0) open = f;
        lastSpeech = f;
      } else if (open >= 0 && f - lastSpeech > 3) {
        segs.push({ start: (open * 512) / SR, end: ((lastSpeech + 1) * 512) / SR });
        open = -1;
      }
    }
    if (open >= 0) segs.push({ start: (open * 512) / SR, end: Math.min(pcm.length, (lastSpeech + 1) * 512) / SR });
    options.onProgress?.(1);
    return { segments: segs, pcm, stats: { frames: 0, streams: 1, ms: 0 } };
  }
  dispose() {}
}

class FakeEngine {
  seen: { start: number; ok: boolean; length: number }[] = [];
  /** What the engine holds, and every load / unload / request in order (two-pass tests). */
  loaded = new Set<string>(['asr']);
  log: string[] = [];
  maxLoaded = 1;
  /** Recognised text of a chunk: one word (default) or three (for word timestamps). */
  words = false;
  /** The aligner throws on these calls (0-based). */
  alignFailsOn = new Set<number>();
  /** The PCM each align() got. */
  aligned: Float32Array[] = [];
  constructor(private readonly bursts: [number, number][], private readonly chunkDelayMs = 0) {}
  async loadModelParts(kind: string, _total: number, parts: AsyncIterable<Uint8Array>, onProgress?: (r: number) => void, signal?: AbortSignal) {
    for await (const _part of parts) onProgress?.(1);
    if (signal?.aborted) throw new DOMException('Aborted', 'AbortError');
    this.loaded.add(kind);
    this.maxLoaded = Math.max(this.maxLoaded, this.loaded.size);
    this.log.push(`load ${kind}`);
    return { kind, classify_num: 5000, timestamp_segment_ms: 80 };
  }
  async unloadModel(kind: string) {
    this.loaded.delete(kind);
    this.log.push(`unload ${kind}`);
  }
  async align(units: string[], opts: { pcm?: Float32Array; signal?: AbortSignal } = {}) {
    if (opts.signal?.aborted) throw new DOMException('Cancelled', 'AbortError');
    if (!this.loaded.has('aligner')) throw new Error('no aligner loaded');
    const call = this.aligned.length;
    this.aligned.push(opts.pcm!);
    this.log.push('align');
    if (this.chunkDelayMs) await new Promise((r) => setTimeout(r, this.chunkDelayMs));
    if (this.alignFailsOn.has(call)) throw new Error('aligner exploded');
    return {
      start_ms: units.map((_, i) => i * 100), end_ms: units.map((_, i) => i * 100 + 80),
      classes: [], audio_tokens: 0, input_tokens: 0, timings: { encoder_ms: 0, decoder_ms: 0 },
    };
  }
  start() {
    return Promise.resolve({ variant: 'st' as const, threads: 1, kernels: 'scalar', crossOriginIsolated: false });
  }
  async transcribe(pcm: Float32Array, opts: { onText?: (t: string) => void; signal?: AbortSignal } = {}) {
    if (opts.signal?.aborted) throw new DOMException('Transcription cancelled', 'AbortError');
    if (this.chunkDelayMs) await new Promise((r) => setTimeout(r, this.chunkDelayMs));
    if (opts.signal?.aborted) throw new DOMException('Transcription cancelled', 'AbortError');
    if (!this.loaded.has('asr')) throw new Error('no recogniser loaded');
    this.log.push('transcribe');
    opts.onText?.('x');
    return {
      language: 'English', text: this.words ? `n${pcm.length} alpha beta` : `n${pcm.length}`, raw: '', tokens: [], audio_tokens: 0, prompt_tokens: 0, audio_sec: pcm.length / SR,
      stopped_by_repetition_guard: false, timings: { mel_ms: 0, encoder_ms: 0, prefill_ms: 0, decode_ms: 0, decode_tokens: 0 },
    };
  }
  dispose() {}
}

const SMALL: Partial<WindowingOptions> = { firstWindowSec: 60, windowSec: 120, commitMarginSec: 60, maxQueuedSec: 240 };

function setup(f: FakeFile, windowing: Partial<WindowingOptions> = SMALL, chunkDelayMs = 0) {
  const bursts = burstsFor(f.durationSec);
  const media = new FakeMedia(f, bursts);
  const vad = new FakeVad();
  const engine = new FakeEngine(bursts, chunkDelayMs);
  const ctl = new TranscriptionController({
    media: media as unknown as MediaDecoder,
    vad: vad as unknown as VoiceActivityDetector,
    engine: engine as unknown as Engine,
    windowing,
  });
  // A model is "loaded" so the run transcribes.
  (ctl as unknown as { models: Map<string, unknown> }).models.set('asr', { name: 'fake', info: {} });
  return { ctl, media, vad, engine, bursts };
}

function checkPlan(chunks: TranscriptChunk[], bursts: [number, number][], durationSec: number) {
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i];
    expect(c.index).toBe(i);
    expect(c.end).toBeGreaterThan(c.start);
    expect(c.end - c.start).toBeLessThanOrEqual(30 + 1e-6);
    if (i > 0) expect(c.start).toBeGreaterThanOrEqual(chunks[i - 1].end - 1e-6);
    expect(c.end).toBeLessThanOrEqual(durationSec + 1e-6);
  }
  // Every burst is covered (every sample of speech lies in some chunk, frame-quantised).
  for (const [a, b] of bursts) {
    for (let t = a + 0.05; t < b - 0.05; t += 0.25) {
      expect(chunks.some((c) => c.start <= t && t <= c.end), `speech at ${t.toFixed(2)} s not in any chunk`).toBe(true);
    }
  }
}

describe('windowed pipeline', () => {
  it('a 20-minute recording: windows, exact chunk audio, bounded PCM, progress to the end', async () => {
    const durationSec = 1200;
    // Chunks take a little time, so the run lasts long enough for an ETA (it needs > 0.5 s of history).
    const { ctl, media, vad, engine, bursts } = setup({ durationSec }, SMALL, 15);
    const progress: Progress[] = [];
    let onChunksCalls = 0;
    let maxChunksBeforeEnd = 0;
    const received = new Map<number, Float32Array>();
    // Check the audio each chunk gets, as it is transcribed.
    const orig = engine.transcribe.bind(engine);
    let chunkNo = 0;
    engine.transcribe = async (pcm, opts) => {
      received.set(chunkNo++, pcm.slice());
      return orig(pcm, opts);
    };
    const t = await ctl.run(new Blob(['x']), 'long.mp3', { language: '', context: '' }, {
      onProgress: (p) => progress.push(p),
      onChunks: (tr) => {
        onChunksCalls++;
        maxChunksBeforeEnd = Math.max(maxChunksBeforeEnd, tr.chunks.length);
      },
    });
    // Windows: 60 s, then 120 s each, contiguous.
    expect(media.calls[0]).toEqual({ startSec: 0, durationSec: 60 });
    for (let i = 1; i < media.calls.length; i++) expect(media.calls[i].startSec).toBeCloseTo(60 + 120 * (i - 1), 6);
    expect(media.maxPcm).toBeLessThanOrEqual(120 * SR);
    // The VAD sees a window plus the carry, never the recording.
    expect(vad.maxPcm).toBeLessThanOrEqual((120 + 60 + 30 + 1) * SR);
    expect(onChunksCalls).toBeGreaterThan(3);
    expect(t.durationSec).toBeCloseTo(durationSec, 3);
    checkPlan(t.chunks, bursts, durationSec);
    expect(t.chunks.every((c) => c.status === 'done')).toBe(true);
    // Each chunk got exactly its samples.
    for (const c of t.chunks) {
      const pcm = received.get(c.index)!;
      const a = Math.floor(c.start * SR);
      expect(Math.abs(pcm.length - (Math.ceil(c.end * SR) - a))).toBeLessThanOrEqual(1);
      for (let j = 0; j < pcm.length; j += 97) expect(pcm[j]).toBe(Math.fround(sampleAt(a + j, bursts)));
    }
    // Speech segments for the timeline: sorted, inside the recording, not duplicated by the carry.
    for (let i = 1; i < t.speech.length; i++) expect(t.speech[i].start).toBeGreaterThanOrEqual(t.speech[i - 1].end - 1e-6);
    const transcribing = progress.filter((p) => p.stage === 'transcribing');
    expect(transcribing.length).toBeGreaterThan(10);
    for (const p of transcribing) {
      expect(p.audioTotalSec).toBeCloseTo(durationSec, 3);
      expect(p.ratio).toBeGreaterThanOrEqual(0);
      expect(p.ratio).toBeLessThanOrEqual(1);
    }
    expect(transcribing.some((p) => p.etaSec !== undefined)).toBe(true);
    expect(progress[progress.length - 1]).toMatchObject({ stage: 'done', ratio: 1 });
  });

  it('the plan does not depend on the window size (the chunks of one single window, within a VAD frame)', async () => {
    const durationSec = 900;
    const a = setup({ durationSec });
    const b = setup({ durationSec }, { firstWindowSec: 10_000, windowSec: 10_000 });
    const ta = await a.ctl.run(new Blob(['x']), 'a', { language: '', context: '', analyseOnly: true });
    const tb = await b.ctl.run(new Blob(['x']), 'b', { language: '', context: '', analyseOnly: true });
    expect(b.media.calls).toHaveLength(1);
    // The VAD's 32 ms frame grid starts at each window's start, so boundaries may move by < 1 frame.
    expect(ta.chunks.length).toBe(tb.chunks.length);
    for (let i = 0; i < ta.chunks.length; i++) {
      expect(Math.abs(ta.chunks[i].start - tb.chunks[i].start)).toBeLessThan(0.064);
      expect(Math.abs(ta.chunks[i].end - tb.chunks[i].end)).toBeLessThan(0.064);
    }
  });

  it('a truncated file: what decodes is transcribed, the missing tail is an error chunk saying so', async () => {
    const { ctl } = setup({ durationSec: 600, decodableSec: 250 });
    const t = await ctl.run(new Blob(['x']), 'cut.flac', { language: '', context: '' });
    const last = t.chunks[t.chunks.length - 1];
    expect(last.status).toBe('error');
    expect(last.error).toMatch(/ends early: the audio from 4:10 to 10:00 is missing/);
    expect(last.end).toBeCloseTo(600, 3);
    expect(t.durationSec).toBeCloseTo(600, 3);
    expect(t.chunks.slice(0, -1).every((c) => c.status === 'done' && c.end <= 250 + 0.5)).toBe(true);
  });

  it('a decode failure in a later window keeps what was decoded before it', async () => {
    const { ctl } = setup({ durationSec: 600, failAtSec: 180 });
    const t = await ctl.run(new Blob(['x']), 'bad.mp3', { language: '', context: '' });
    const last = t.chunks[t.chunks.length - 1];
    expect(last.status).toBe('error');
    expect(last.error).toMatch(/^Decoding stopped at 3:00: Couldn't decode/);
    expect(t.chunks.filter((c) => c.status === 'done').length).toBeGreaterThan(3);
  });

  it('a failure of the first window is the run\'s error', async () => {
    const { ctl } = setup({ durationSec: 600, failAtSec: 0 });
    await expect(ctl.run(new Blob(['x']), 'bad.mp3', { language: '', context: '' })).rejects.toThrow(/Couldn't decode/);
  });

  it('a video whose audio is shorter than the container is no error', async () => {
    const { ctl } = setup({ durationSec: 300, decodableSec: 200, hasVideo: true });
    const t = await ctl.run(new Blob(['x']), 'v.mp4', { language: '', context: '' });
    expect(t.chunks.every((c) => c.status === 'done')).toBe(true);
  });

  it('cancel mid-way rejects with AbortError, keeps finished chunks, stops decoding', async () => {
    const { ctl, media } = setup({ durationSec: 3600 }, SMALL, 2);
    const abort = new AbortController();
    let done = 0;
    const run = ctl.run(new Blob(['x']), 'long.mp3', { language: '', context: '' }, {
      onChunkUpdate: (c) => {
        if (c.status === 'done' && ++done === 5) abort.abort();
      },
    }, abort.signal);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    const calls = media.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(media.calls.length).toBe(calls);
    expect(calls).toBeLessThan(10);
  });

  it('backpressure: the decoder never runs more than maxQueuedSec ahead of the engine', async () => {
    const { ctl, media } = setup({ durationSec: 1800 }, SMALL, 1);
    const seen: number[] = [];
    let doneUntil = 0;
    await ctl.run(new Blob(['x']), 'long.mp3', { language: '', context: '' }, {
      onChunkUpdate: (c) => {
        if (c.status === 'done') doneUntil = Math.max(doneUntil, c.end);
      },
      onProgress: () => seen.push(media.calls.length ? media.calls[media.calls.length - 1].startSec - doneUntil : 0),
    });
    // A window is asked for only when ≤ maxQueuedSec (240) of planned audio waits, plus one window.
    expect(Math.max(...seen)).toBeLessThanOrEqual(240 + 120 + 60 + 30);
  });
});

/** The model manager's side of a two-pass run, on the fake engine: free one model, then load the other. */
function fakeSwap(ctl: TranscriptionController, failAligner = false): ModelSwap & { calls: string[] } {
  async function* parts() {
    yield new Uint8Array(4);
  }
  const calls: string[] = [];
  return {
    calls,
    async toAligner(o = {}) {
      calls.push('toAligner');
      await ctl.unloadModel('asr');
      if (failAligner) throw new Error('The stored copy is damaged');
      await ctl.loadModelParts('aligner', 'aligner', 4, parts(), o.onProgress ?? (() => {}), o.signal);
    },
    async toRecogniser(o = {}) {
      calls.push('toRecogniser');
      await ctl.unloadModel('aligner');
      await ctl.loadModelParts('asr', 'fake', 4, parts(), o.onProgress ?? (() => {}), o.signal);
    },
  };
}

const OPTS = { language: '', context: '', wordTimestamps: true };

function twoPassSetup(durationSec: number, windowing: Partial<WindowingOptions> = SMALL, chunkDelayMs = 0, failAligner = false) {
  const s = setup({ durationSec }, windowing, chunkDelayMs);
  s.engine.words = true;
  const swap = fakeSwap(s.ctl, failAligner);
  /** Every chunk state the UI was sent, in order. */
  const updates: TranscriptChunk[] = [];
  const progress: Progress[] = [];
  const events = {
    onChunkUpdate: (c: TranscriptChunk) => updates.push(structuredClone(c)),
    onProgress: (p: Progress) => progress.push(p),
  };
  return { ...s, swap, updates, progress, events };
}

/** The chunk's audio as the recording has it (what pass 1 gave the recogniser). */
function expectChunkAudio(pcm: Float32Array, c: TranscriptChunk, bursts: [number, number][]) {
  const a = Math.floor(c.start * SR);
  expect(Math.abs(pcm.length - (Math.ceil(c.end * SR) - a))).toBeLessThanOrEqual(1);
  for (let j = 0; j < pcm.length; j += 97) expect(pcm[j]).toBe(Math.fround(sampleAt(a + j, bursts)));
}

describe('two passes when one model fits at a time', () => {
  it('recognises every chunk, swaps to the aligner, aligns each chunk in order, swaps back; never both models', async () => {
    const { ctl, engine, bursts, swap, updates, progress, events } = twoPassSetup(400);
    const t = await ctl.run(new Blob(['x']), 'a.mp3', { ...OPTS, swap }, events);
    const done = t.chunks.filter((c) => c.status === 'done');
    expect(done.length).toBeGreaterThan(5);
    // The order: all recognition, then the swap, all alignment, then back.
    const n = done.length;
    expect(engine.log).toEqual([
      ...Array(t.chunks.length).fill('transcribe'), 'unload asr', 'load aligner', ...Array(n).fill('align'), 'unload aligner', 'load asr',
    ]);
    expect(engine.maxLoaded).toBe(1);
    expect(swap.calls).toEqual(['toAligner', 'toRecogniser']);
    expect(ctl.loadedModel).not.toBeNull();
    expect(ctl.loadedAligner).toBeNull();
    // The aligner got each chunk's own audio (kept from pass 1: this file is well within the budget).
    for (let i = 0; i < n; i++) expectChunkAudio(engine.aligned[i], done[i], bursts);
    // Progress: the recognising pass, then the aligner's load, then the aligning pass, each with its own percent.
    const phases = progress.map((p) => `${p.stage}/${p.phase ?? ''}`).filter((x, i, a) => x !== a[i - 1] && !x.startsWith('decoding') && !x.startsWith('vad'));
    expect(phases).toEqual(['transcribing/recognising', 'loading-model/aligning', 'transcribing/aligning', 'loading-model/recognising', 'done/']);
    const aligning = progress.filter((p) => p.phase === 'aligning' && p.stage === 'transcribing');
    for (let i = 1; i < aligning.length; i++) expect(aligning[i].ratio).toBeGreaterThanOrEqual(aligning[i - 1].ratio);
    expect(aligning[0].ratio).toBeLessThan(0.2);
    expect(aligning[aligning.length - 1].ratio).toBe(1);
    // Chunk-level times first (marked pending), then replaced by the word times.
    for (const c of done) {
      const mine = updates.filter((u) => u.index === c.index && u.status === 'done');
      const first = mine[0];
      expect(first.wordsPending).toBe(true);
      expect(first.tokens).toEqual([{ text: first.text, start: c.start, end: c.end }]);
      const last = mine[mine.length - 1];
      expect(last.wordsPending).toBeUndefined();
      expect(last.text).toBe(first.text);
      expect(last.tokens!.map((k) => k.text).join('')).toBe(first.text);
      expect(last.tokens).toHaveLength(3);
      expect(last.tokens![1].start).toBeCloseTo(c.start + 0.1, 6);
      expect(last.tokens![2].end).toBeCloseTo(c.start + 0.28, 6);
      expect(c).toMatchObject({ tokens: last.tokens, text: first.text });
      expect(c.wordsPending).toBeUndefined();
      expect(c.wordsError).toBeUndefined();
    }
  });

  it('past the PCM budget, pass 2 decodes the chunks again in shared windows, never the whole file', async () => {
    const { ctl, engine, media, bursts, swap, events } = twoPassSetup(900, { ...SMALL, keepPcmBytes: 0 });
    const t = await ctl.run(new Blob(['x']), 'long.mp3', { ...OPTS, swap }, events);
    const done = t.chunks.filter((c) => c.status === 'done');
    expect(engine.maxLoaded).toBe(1);
    expect(engine.aligned).toHaveLength(done.length);
    for (let i = 0; i < done.length; i++) expectChunkAudio(engine.aligned[i], done[i], bursts);
    const pass1 = media.calls.findIndex((c, i) => i > 0 && c.startSec < media.calls[i - 1].startSec);
    const again = media.calls.slice(pass1);
    expect(again.length).toBeGreaterThan(1);
    expect(again.length).toBeLessThan(done.length / 3);
    expect(media.maxPcm).toBeLessThanOrEqual(120 * SR);
  });

  it('cancel in pass 1: the recogniser stays, finished chunks keep their text with chunk-level times', async () => {
    const { ctl, engine, swap, updates, events } = twoPassSetup(600, SMALL, 2);
    const abort = new AbortController();
    let done = 0;
    const run = ctl.run(new Blob(['x']), 'a.mp3', { ...OPTS, swap }, {
      ...events,
      onChunkUpdate: (c) => {
        events.onChunkUpdate(c);
        if (c.status === 'done' && c.wordsPending && ++done === 3) abort.abort();
      },
    }, abort.signal);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(swap.calls).toEqual([]);
    expect(engine.log.filter((l) => l !== 'transcribe')).toEqual([]);
    expect(ctl.loadedModel).not.toBeNull();
    const last = new Map(updates.map((u) => [u.index, u]));
    const kept = [...last.values()].filter((u) => u.status === 'done');
    expect(kept.length).toBeGreaterThanOrEqual(3);
    for (const u of kept) {
      expect(u.text).toMatch(/^n\d+ alpha beta$/);
      expect(u.tokens).toHaveLength(1);
      expect(u.wordsPending).toBeUndefined();
    }
  });

  it('cancel in pass 2: aligned chunks keep their words, the rest their text, and the recogniser is loaded back', async () => {
    const { ctl, engine, swap, updates, events } = twoPassSetup(400, SMALL, 2);
    const abort = new AbortController();
    let aligned = 0;
    const run = ctl.run(new Blob(['x']), 'a.mp3', { ...OPTS, swap }, {
      ...events,
      onChunkUpdate: (c) => {
        events.onChunkUpdate(c);
        if (c.status === 'done' && !c.wordsPending && (c.tokens?.length ?? 0) === 3 && ++aligned === 2) abort.abort();
      },
    }, abort.signal);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(engine.log.filter((l) => l === 'align')).toHaveLength(2);
    expect(engine.log.slice(-2)).toEqual(['unload aligner', 'load asr']);
    expect(engine.maxLoaded).toBe(1);
    expect(ctl.loadedModel).not.toBeNull();
    expect(ctl.loadedAligner).toBeNull();
    const last = [...new Map(updates.map((u) => [u.index, u])).values()].filter((u) => u.status === 'done');
    expect(last.length).toBeGreaterThan(4);
    expect(last.filter((u) => u.tokens!.length === 3)).toHaveLength(2);
    for (const u of last) {
      expect(u.text).toMatch(/^n\d+ alpha beta$/);
      expect(u.wordsPending).toBeUndefined();
    }
  });

  it('an aligner error on one chunk keeps that chunk\'s text and chunk-level times, with a notice', async () => {
    const { ctl, engine, swap, events } = twoPassSetup(400);
    engine.alignFailsOn.add(1);
    const t = await ctl.run(new Blob(['x']), 'a.mp3', { ...OPTS, swap }, events);
    const done = t.chunks.filter((c) => c.status === 'done');
    expect(done[1].wordsError).toBe('aligner exploded');
    expect(done[1].tokens).toEqual([{ text: done[1].text, start: done[1].start, end: done[1].end }]);
    expect(done[1].text).toMatch(/^n\d+ alpha beta$/);
    for (const c of [done[0], ...done.slice(2)]) {
      expect(c.tokens).toHaveLength(3);
      expect(c.wordsError).toBeUndefined();
    }
    expect(ctl.loadedModel).not.toBeNull();
  });

  it('an aligner that cannot be loaded: every chunk keeps its text, says why, and the recogniser comes back', async () => {
    const { ctl, engine, swap, events } = twoPassSetup(300, SMALL, 0, true);
    const t = await ctl.run(new Blob(['x']), 'a.mp3', { ...OPTS, swap }, events);
    const done = t.chunks.filter((c) => c.status === 'done');
    expect(done.length).toBeGreaterThan(2);
    for (const c of done) {
      expect(c.tokens).toHaveLength(1);
      expect(c.wordsPending).toBeUndefined();
      expect(c.wordsError).toMatch(/aligner could not be loaded: The stored copy is damaged/);
    }
    expect(engine.log.slice(-2)).toEqual(['unload aligner', 'load asr']);
    expect(engine.maxLoaded).toBe(1);
  });

  it('one pass, as before, without word timestamps or without a swap', async () => {
    for (const options of [{ ...OPTS, wordTimestamps: false }, OPTS]) {
      const { ctl, engine, swap, events } = twoPassSetup(200);
      const t = await ctl.run(new Blob(['x']), 'a.mp3', { ...options, ...(options.wordTimestamps ? {} : { swap }) }, events);
      expect(swap.calls).toEqual([]);
      expect(engine.log.every((l) => l === 'transcribe')).toBe(true);
      expect(t.chunks.every((c) => c.wordsPending === undefined)).toBe(true);
    }
  });
});
