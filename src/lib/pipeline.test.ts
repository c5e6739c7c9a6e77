// The windowed pipeline (src/lib/pipeline.ts) with fake workers: a long synthetic recording is
// decoded window by window, every speech burst ends up in exactly one chunk, each chunk gets the
// exact samples of its time span, no stage ever sees more than a window (+ carry) of PCM, and
// truncation, damage, cancellation and analyse-only runs end in a clear state.
import { describe, expect, it } from 'vitest';
import type { Engine } from './engine';
import type { DecodeOptions, DecodeResult, MediaDecoder } from './media';
import { MediaDecodeError } from './media-protocol';
import { TranscriptionController, type WindowingOptions } from './pipeline';
import type { Progress, TranscriptChunk } from './pipeline-types';
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
  constructor(private readonly bursts: [number, number][], private readonly chunkDelayMs = 0) {}
  start() {
    return Promise.resolve({ variant: 'st' as const, threads: 1, kernels: 'scalar', crossOriginIsolated: false });
  }
  async transcribe(pcm: Float32Array, opts: { onText?: (t: string) => void; signal?: AbortSignal } = {}) {
    if (opts.signal?.aborted) throw new DOMException('Transcription cancelled', 'AbortError');
    if (this.chunkDelayMs) await new Promise((r) => setTimeout(r, this.chunkDelayMs));
    if (opts.signal?.aborted) throw new DOMException('Transcription cancelled', 'AbortError');
    opts.onText?.('x');
    return {
      language: 'English', text: `n${pcm.length}`, raw: '', tokens: [], audio_tokens: 0, prompt_tokens: 0, audio_sec: pcm.length / SR,
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
