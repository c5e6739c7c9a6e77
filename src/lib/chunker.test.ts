import { describe, it, expect } from 'vitest';
import {
  CHUNKER_DEFAULTS,
  planChunks,
  quietestPointFromPcm,
  type Chunk,
  type ChunkerOptions,
  type QuietnessProbe,
  type SpeechSegment,
} from './chunker';

const EPS = 1e-9;
const HOUR = 3600;

/** Small deterministic PRNG (xorshift32) so failures are reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/** Independent reference: clip, drop empty, sort, merge overlapping/touching. */
function normaliseRef(segments: SpeechSegment[], duration: number): SpeechSegment[] {
  const clipped = segments
    .map((s) => ({ start: Math.max(0, s.start), end: Math.min(duration, s.end) }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start);
  const out: SpeechSegment[] = [];
  for (const s of clipped) {
    const prev = out.at(-1);
    if (prev && s.start <= prev.end) prev.end = Math.max(prev.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** First chunk whose end is after t (binary search). */
function firstChunkEndingAfter(chunks: Chunk[], t: number): number {
  let lo = 0;
  let hi = chunks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (chunks[mid].end > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Throws with a descriptive message when a condition fails (plain checks keep big cases fast). */
function check(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(`invariant violated: ${message()}`);
}

/** Checks every guarantee of planChunks; throws on the first violation. */
function checkInvariants(
  segments: SpeechSegment[],
  duration: number,
  chunks: Chunk[],
  options: Partial<ChunkerOptions> = {},
): void {
  const maxSec = options.maxSec ?? CHUNKER_DEFAULTS.maxSec;
  chunks.forEach((c, k) => {
    const at = () => `chunk ${k} [${c.start}, ${c.end}]`;
    check(c.end > c.start, () => `${at()}: end > start`);
    check(c.start >= 0 && c.end <= duration, () => `${at()}: inside [0, ${duration}]`);
    check(c.end - c.start <= maxSec + EPS, () => `${at()}: length ${c.end - c.start} ≤ ${maxSec}`);
    check(k === 0 || c.start >= chunks[k - 1].end, () => `${at()}: starts after chunk ${k - 1} ends`);
    c.speech.forEach((s, n) => {
      check(s.end > s.start && s.start >= c.start && s.end <= c.end, () => `${at()}: speech ${n} inside`);
      check(n === 0 || s.start >= c.speech[n - 1].end, () => `${at()}: speech ${n} ordered`);
    });
  });

  // Every non-empty clipped input segment: inside one chunk, or split over chunks touching exactly.
  for (const seg of segments) {
    const a = Math.max(0, seg.start);
    const b = Math.min(duration, seg.end);
    if (!(b > a)) continue;
    const at = () => `segment [${a}, ${b}]`;
    let k = firstChunkEndingAfter(chunks, a);
    check(k < chunks.length && chunks[k].start <= a, () => `${at()}: start covered`);
    let pos = chunks[k].end;
    while (pos < b) {
      k++;
      check(k < chunks.length && chunks[k].start === pos, () => `${at()}: split at ${pos} continues in a touching chunk`);
      pos = chunks[k].end;
    }
  }

  // The speech lists together hold exactly the normalised speech.
  const total = (list: SpeechSegment[]) => list.reduce((sum, s) => sum + (s.end - s.start), 0);
  const expected = total(normaliseRef(segments, duration));
  const actual = chunks.reduce((sum, c) => sum + total(c.speech), 0);
  check(Math.abs(actual - expected) < 1e-6 * Math.max(1, expected), () => `speech total ${actual} ≠ ${expected}`);
}

/** Plans and checks invariants in one go. */
function plan(
  segments: SpeechSegment[],
  duration: number,
  options: Partial<ChunkerOptions> = {},
  probe?: QuietnessProbe,
): Chunk[] {
  const chunks = planChunks(segments, duration, options, probe);
  checkInvariants(segments, duration, chunks, options);
  return chunks;
}

/** Alternating speech/gap pattern starting at `t0`: returns the segments and the end time. */
function pattern(t0: number, parts: Array<[speech: number, gap: number]>): SpeechSegment[] {
  const out: SpeechSegment[] = [];
  let t = t0;
  for (const [speech, gap] of parts) {
    out.push({ start: t, end: t + speech });
    t += speech + gap;
  }
  return out;
}

/** Sorted dip times roughly every 27 s (±1.8 s), so each falls inside the next forced-cut window. */
function dipTimes(totalSec: number, seed: number): number[] {
  const random = rng(seed);
  const dips: number[] = [];
  for (let t = 27 + (random() - 0.5) * 3.6; t < totalSec - 5; t += 27 + (random() - 0.5) * 3.6) {
    dips.push(Math.round(t * 1000) / 1000);
  }
  return dips;
}

/** Probe that answers with a known dip inside the range, else the range's middle. */
function dipProbe(dips: number[], calls: Array<[number, number]>): QuietnessProbe {
  return (from, to) => {
    calls.push([from, to]);
    const k = dips.findIndex((d) => d >= from);
    return k >= 0 && dips[k] <= to ? dips[k] : (from + to) / 2;
  };
}

/** Noise with amplitude ~0.3 and near-silent 150 ms dips centred on `dips`. */
function noisyPcm(seconds: number, sampleRate: number, dips: number[], seed: number): Float32Array {
  const random = rng(seed);
  const pcm = new Float32Array(Math.round(seconds * sampleRate));
  for (let n = 0; n < pcm.length; n++) pcm[n] = (random() - 0.5) * 0.6;
  for (const d of dips) {
    const from = Math.round((d - 0.075) * sampleRate);
    const to = Math.round((d + 0.075) * sampleRate);
    for (let n = Math.max(0, from); n < Math.min(pcm.length, to); n++) pcm[n] *= 0.01;
  }
  return pcm;
}

describe('planChunks: trivial inputs', () => {
  it('returns [] when there is no speech', () => {
    expect(plan([], 100)).toEqual([]);
    expect(plan([{ start: 5, end: 5 }], 100)).toEqual([]); // zero-length
    expect(plan([{ start: -5, end: -1 }, { start: 120, end: 130 }], 100)).toEqual([]); // outside
  });

  it('returns [] for a zero (or invalid) duration', () => {
    expect(planChunks([{ start: 0, end: 1 }], 0)).toEqual([]);
    expect(planChunks([{ start: 0, end: 1 }], -3)).toEqual([]);
    expect(planChunks([{ start: 0, end: 1 }], Number.NaN)).toEqual([]);
  });

  it('keeps a single 0.3 s segment, padded', () => {
    const chunks = plan([{ start: 10, end: 10.3 }], 100);
    expect(chunks).toHaveLength(1);
    expect(chunks[0].start).toBeCloseTo(9.8, 12);
    expect(chunks[0].end).toBeCloseTo(10.5, 12);
    expect(chunks[0].speech).toEqual([{ start: 10, end: 10.3 }]);
  });

  it('clips padding at 0 and at the duration', () => {
    const chunks = plan([{ start: 0.05, end: 1 }], 1.1);
    expect(chunks).toEqual([{ start: 0, end: 1.1, speech: [{ start: 0.05, end: 1 }] }]);
  });

  it('keeps a single 25 s segment in one chunk', () => {
    const chunks = plan([{ start: 3, end: 28 }], 60);
    expect(chunks).toHaveLength(1);
    expect(chunks[0].start).toBeCloseTo(2.8, 12);
    expect(chunks[0].end).toBeCloseTo(28.2, 12);
  });

  it('limits padding so a chunk never exceeds maxSec', () => {
    const chunks = plan([{ start: 10, end: 39.9 }], 60); // 29.9 s of speech, 0.1 s of room
    expect(chunks).toHaveLength(1);
    expect(chunks[0].end - chunks[0].start).toBeCloseTo(30, 9);
    expect(chunks[0].start).toBeCloseTo(9.95, 9);
  });
});

describe('planChunks: continuous speech', () => {
  it('splits a 45 s segment into two touching chunks, cut in [25, 30] s without a probe', () => {
    const chunks = plan([{ start: 5, end: 50 }], 60);
    expect(chunks).toHaveLength(2);
    const cut = chunks[0].end;
    expect(chunks[1].start).toBe(cut);
    expect(cut - 5).toBeGreaterThanOrEqual(25);
    expect(cut - 5).toBeLessThanOrEqual(30);
    expect(cut).toBeCloseTo(5 + 27.5, 9); // middle of the forced-cut window
  });

  it('does not leave a tiny tail when continuous speech is just over maxSec', () => {
    const chunks = plan([{ start: 0, end: 30.5 }], 40);
    expect(chunks).toHaveLength(2);
    expect(chunks[1].speech[0].end - chunks[1].speech[0].start).toBeGreaterThanOrEqual(CHUNKER_DEFAULTS.minSec - EPS);
  });

  it('cuts a 3-hour unbroken segment into ≤ 30 s contiguous chunks (no probe)', () => {
    const duration = 3 * HOUR;
    const chunks = plan([{ start: 0, end: duration }], duration);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(duration / 30));
    expect(chunks.length).toBeLessThanOrEqual(Math.ceil(duration / 25));
    expect(chunks[0].start).toBe(0);
    expect(chunks.at(-1)!.end).toBe(duration);
    for (let k = 1; k < chunks.length; k++) expect(chunks[k].start).toBe(chunks[k - 1].end);
  });

  it('cuts a 3-hour unbroken segment at the quiet dips reported by the probe', () => {
    const duration = 3 * HOUR;
    const dips = dipTimes(duration, 7);
    const calls: Array<[number, number]> = [];
    const chunks = plan([{ start: 0, end: duration }], duration, {}, dipProbe(dips, calls));
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(duration / 30));
    expect(chunks.length).toBeLessThanOrEqual(Math.ceil(duration / 25));
    for (let k = 1; k < chunks.length; k++) expect(chunks[k].start).toBe(chunks[k - 1].end);
    // Every cut is a dip, and the probe was only asked about short windows.
    const cuts = chunks.slice(1).map((c) => c.start);
    expect(cuts).toEqual(dips.slice(0, cuts.length));
    expect(calls.length).toBe(cuts.length);
    for (const [from, to] of calls) expect(to - from).toBeLessThanOrEqual(CHUNKER_DEFAULTS.forcedCutWindowSec + EPS);
  });

  it('cuts continuous speech at silent dips found in synthetic PCM', () => {
    const sampleRate = 16000;
    const duration = 600;
    const dips = dipTimes(duration, 11);
    const pcm = noisyPcm(duration, sampleRate, dips, 3);
    const chunks = plan([{ start: 0, end: duration }], duration, {}, quietestPointFromPcm(pcm, sampleRate));
    const cuts = chunks.slice(1).map((c) => c.start);
    expect(cuts.length).toBeGreaterThan(15);
    cuts.forEach((cut, k) => expect(Math.abs(cut - dips[k])).toBeLessThan(0.05));
  });
});

describe('planChunks: grouping and gaps', () => {
  it('groups 20,000 short segments (200 ms speech, 300 ms gaps) into chunks near targetSec', () => {
    const segments = pattern(0, Array.from({ length: 20_000 }, () => [0.2, 0.3] as [number, number]));
    const duration = 10_000;
    const chunks = plan(segments, duration);
    expect(chunks.length).toBeGreaterThan(duration / 22);
    expect(chunks.length).toBeLessThan(duration / 18);
    for (const c of chunks.slice(0, -1)) {
      expect(c.end - c.start).toBeGreaterThan(CHUNKER_DEFAULTS.targetSec - 1);
      expect(c.end - c.start).toBeLessThan(CHUNKER_DEFAULTS.targetSec + 1);
    }
  });

  it.each([0, 0.001, 0.05, 0.5, 2])('keeps two 5 s segments separated by a %s s gap together', (gap) => {
    const segments = [
      { start: 10, end: 15 },
      { start: 15 + gap, end: 20 + gap },
    ];
    const chunks = plan(segments, 200);
    expect(chunks).toHaveLength(1);
    expect(chunks[0].speech).toHaveLength(gap === 0 ? 1 : 2); // touching segments merge
  });

  it.each([10, 60])('splits two 5 s segments separated by a %s s gap', (gap) => {
    const segments = [
      { start: 10, end: 15 },
      { start: 15 + gap, end: 20 + gap },
    ];
    const chunks = plan(segments, 200);
    expect(chunks).toHaveLength(2);
    expect(chunks[0].end).toBeCloseTo(15.2, 12);
    expect(chunks[1].start).toBeCloseTo(14.8 + gap, 12);
  });

  it('cuts at the longest gap in the window, not the first one', () => {
    // Gaps (offset → length): 5 s → 2.5 (before the window), 12 s → 0.8, 18 s → 1.2, 26 s → 0.6, others 0.2.
    const segments = pattern(0, [
      [5, 2.5],
      [4.5, 0.8],
      [5.2, 1.2],
      [3, 0.2],
      [3.1, 0.6],
      [3, 0.2],
      [3, 0.2],
      [3, 0],
    ]);
    const chunks = plan(segments, 100);
    // Chunk 1 ends after the segment that precedes the 1.2 s gap (speech end at 5 + 2.5 + 4.5 + 0.8 + 5.2 = 18).
    expect(chunks[0].speech.at(-1)!.end).toBeCloseTo(18, 9);
    expect(chunks[1].speech[0].start).toBeCloseTo(19.2, 9);
  });

  it('prefers the gap nearest targetSec among equally long gaps', () => {
    const segments = pattern(0, Array.from({ length: 30 }, () => [1.5, 0.5] as [number, number]));
    const chunks = plan(segments, 100);
    const firstCut = chunks[0].speech.at(-1)!.end; // speech ends at 1.5, 3.5, ..., 19.5, 21.5
    expect(firstCut).toBeCloseTo(19.5, 9);
  });

  it('uses an early gap when none is in the window, instead of cutting inside speech', () => {
    const segments = [
      { start: 0, end: 4 },
      { start: 4.5, end: 100 },
    ];
    const chunks = plan(segments, 100);
    expect(chunks[0].speech).toEqual([{ start: 0, end: 4 }]);
    expect(chunks[1].speech[0].start).toBe(4.5);
  });

  it('places the boundary inside a short gap at the probe point', () => {
    // Forced split: 25 s + 0.3 s gap + 25 s. The gap is shorter than 2·padSec.
    const segments = [
      { start: 0, end: 25 },
      { start: 25.3, end: 50.3 },
    ];
    const withMiddle = plan(segments, 60);
    expect(withMiddle[0].end).toBeCloseTo(25.15, 9);
    expect(withMiddle[1].start).toBeCloseTo(25.15, 9);
    const withProbe = plan(segments, 60, {}, () => 25.05);
    expect(withProbe[0].end).toBeCloseTo(25.05, 9);
    expect(withProbe[1].start).toBeCloseTo(25.3 - CHUNKER_DEFAULTS.padSec, 9); // full padding still fits
  });

  it('ignores a probe that answers outside the range or NaN', () => {
    plan([{ start: 0, end: 100 }], 100, {}, () => -50);
    plan([{ start: 0, end: 100 }], 100, {}, () => Number.NaN);
  });
});

describe('planChunks: tiny chunks', () => {
  it('merges a tiny trailing chunk into the previous one', () => {
    const chunks = plan([{ start: 0, end: 15 }, { start: 20, end: 20.5 }], 40);
    expect(chunks).toHaveLength(1);
    expect(chunks[0].speech).toHaveLength(2);
  });

  it('merges a tiny leading chunk into the next one', () => {
    const chunks = plan([{ start: 1, end: 1.4 }, { start: 6, end: 20 }], 40);
    expect(chunks).toHaveLength(1);
  });

  it('keeps a tiny chunk alone when merging would exceed maxSec', () => {
    const chunks = plan([{ start: 0, end: 28 }, { start: 40, end: 40.5 }], 60);
    expect(chunks).toHaveLength(2);
    expect(chunks[1].speech).toEqual([{ start: 40, end: 40.5 }]);
  });

  it('keeps hundreds of isolated tiny segments far apart', () => {
    const segments = pattern(5, Array.from({ length: 300 }, () => [0.05, 40] as [number, number]));
    const chunks = plan(segments, 300 * 40.05 + 10);
    expect(chunks).toHaveLength(300);
  });
});

describe('planChunks: messy input and options', () => {
  it('normalises unsorted, overlapping, duplicated, zero-length and out-of-range segments', () => {
    const segments: SpeechSegment[] = [
      { start: 50, end: 55 },
      { start: -3, end: 2 },
      { start: 10, end: 12 },
      { start: 11, end: 14 },
      { start: 12.5, end: 13 }, // inside the previous one
      { start: 10, end: 12 }, // duplicate
      { start: 30, end: 30 }, // zero-length
      { start: 58, end: 75 }, // beyond the duration
      { start: 80, end: 90 }, // entirely beyond
      { start: 14, end: 16 }, // touches [11, 14]
      { start: Number.NaN, end: 3 },
    ];
    const chunks = plan(segments, 60);
    const speech = chunks.flatMap((c) => c.speech);
    expect(speech).toEqual([
      { start: 0, end: 2 },
      { start: 10, end: 16 },
      { start: 50, end: 55 },
      { start: 58, end: 60 },
    ]);
    expect(chunks.at(-1)!.end).toBe(60);
  });

  it('honours overridden options', () => {
    const options = { targetSec: 8, maxSec: 10, minSec: 1, padSec: 0 };
    const segments = pattern(0, Array.from({ length: 200 }, () => [0.7, 0.3] as [number, number]));
    const chunks = plan(segments, 250, options);
    for (const c of chunks.slice(0, -1)) expect(c.end - c.start).toBeCloseTo(7.7, 6); // nearest 8 s
    const long = plan([{ start: 0, end: 100 }], 100, options);
    expect(long.every((c) => c.end - c.start <= 10 + EPS)).toBe(true);
  });

  it('rejects invalid options', () => {
    expect(() => planChunks([], 10, { maxSec: 0 })).toThrow(RangeError);
    expect(() => planChunks([], 10, { padSec: -1 })).toThrow(RangeError);
    expect(() => planChunks([], 10, { targetSec: Number.NaN })).toThrow(RangeError);
  });

  it('holds all invariants on random inputs and options (fuzz)', () => {
    const random = rng(12345);
    for (let round = 0; round < 300; round++) {
      const duration = 1 + random() * 2000;
      const segments: SpeechSegment[] = [];
      const count = Math.floor(random() * 200);
      for (let n = 0; n < count; n++) {
        const start = random() * duration * 1.1 - duration * 0.05;
        const length = random() < 0.1 ? random() * 120 : random() < 0.2 ? 0 : random() * 3;
        segments.push({ start, end: start + length });
      }
      const maxSec = 2 + random() * 40;
      const options: Partial<ChunkerOptions> = {
        maxSec,
        targetSec: random() * maxSec * 1.2,
        minSec: random() * maxSec * 0.3,
        padSec: random() * 0.5,
        splitGapSec: random() < 0.3 ? Infinity : random() * 5,
      };
      const probe: QuietnessProbe | undefined =
        random() < 0.5 ? undefined : (from, to) => from + (to - from) * random();
      plan(segments, duration, options, probe);
    }
  });
});

describe('quietestPointFromPcm', () => {
  const sampleRate = 16000;

  it('finds a silent dip within 50 ms', () => {
    const pcm = noisyPcm(10, sampleRate, [], 1);
    pcm.fill(0, Math.round(3.6 * sampleRate), Math.round(3.8 * sampleRate)); // digital silence around 3.7 s
    const probe = quietestPointFromPcm(pcm, sampleRate);
    expect(Math.abs(probe(1, 9) - 3.7)).toBeLessThan(0.05);
    expect(Math.abs(probe(3.65, 3.75) - 3.7)).toBeLessThan(0.05);
  });

  it('finds a quiet (not silent) dip within 50 ms', () => {
    const pcm = noisyPcm(10, sampleRate, [6.234], 2);
    const probe = quietestPointFromPcm(pcm, sampleRate);
    expect(Math.abs(probe(0, 10) - 6.234)).toBeLessThan(0.05);
    expect(Math.abs(probe(5, 7) - 6.234)).toBeLessThan(0.05);
  });

  it('only looks inside the requested range', () => {
    const pcm = noisyPcm(10, sampleRate, [2], 4);
    const probe = quietestPointFromPcm(pcm, sampleRate);
    const t = probe(4, 6);
    expect(t).toBeGreaterThanOrEqual(4);
    expect(t).toBeLessThanOrEqual(6);
  });

  it('stays in range for degenerate requests', () => {
    const pcm = noisyPcm(1, sampleRate, [], 5);
    const probe = quietestPointFromPcm(pcm, sampleRate);
    expect(probe(0.5, 0.5)).toBe(0.5);
    const beyond = probe(5, 6); // past the end of the audio
    expect(beyond).toBeGreaterThanOrEqual(5);
    expect(beyond).toBeLessThanOrEqual(6);
    expect(quietestPointFromPcm(new Float32Array(0), sampleRate)(1, 2)).toBe(1.5);
    expect(() => quietestPointFromPcm(pcm, 0)).toThrow(RangeError);
  });

  it('answers many short-range queries on long audio quickly', () => {
    const pcm = noisyPcm(1200, sampleRate, [], 6); // 20 min
    const probe = quietestPointFromPcm(pcm, sampleRate);
    const random = rng(9);
    const t0 = performance.now();
    for (let n = 0; n < 1000; n++) {
      const from = random() * 1190;
      probe(from, from + 5);
    }
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(3000); // ~80k samples per call; typically a few hundred ms in total
  });
});

describe('planChunks: performance', () => {
  it('plans 100,000 shuffled segments in well under a second', () => {
    const random = rng(42);
    const segments: SpeechSegment[] = [];
    let t = 0;
    for (let n = 0; n < 100_000; n++) {
      const length = 0.05 + random() * 3;
      segments.push({ start: t, end: t + length });
      t += length + random() * (random() < 0.05 ? 8 : 1);
    }
    for (let n = segments.length - 1; n > 0; n--) {
      const m = Math.floor(random() * (n + 1));
      [segments[n], segments[m]] = [segments[m], segments[n]];
    }
    const duration = t + 1;
    const t0 = performance.now();
    const chunks = planChunks(segments, duration);
    const ms = performance.now() - t0;
    console.info(`planChunks: 100,000 segments → ${chunks.length} chunks in ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(1000);
    checkInvariants(segments, duration, chunks);
  });
});
