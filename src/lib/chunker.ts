/**
 * VAD chunker: groups voice-activity segments into chunks for the speech
 * recogniser, which works best on ~20 s of audio and must never get more
 * than 30 s.
 *
 * Pipeline: normalise segments (clip, sort, merge) → plan unpadded chunk
 * "cores" → merge tiny cores into a neighbour → add context padding.
 * Every step is linear (after one sort): 100k segments plan in well under
 * 100 ms.
 */

/** A stretch of speech, in seconds. */
export interface SpeechSegment {
  start: number;
  end: number;
}

/** A unit of work for the recogniser, in seconds. */
export interface Chunk {
  start: number;
  end: number;
  /** The normalised (clipped, merged) speech segments inside this chunk, clipped to it. */
  speech: SpeechSegment[];
}

/**
 * Returns the time (s) of the quietest point in `[fromSec, toSec]`.
 * Results outside the range are clamped into it.
 */
export type QuietnessProbe = (fromSec: number, toSec: number) => number;

/** Tunable parameters of {@link planChunks}; see {@link CHUNKER_DEFAULTS}. */
export interface ChunkerOptions {
  /** Preferred chunk length. */
  targetSec: number;
  /** Hard upper bound on a chunk's length, padding included. */
  maxSec: number;
  /** A chunk shorter than this is merged with a neighbour if the result stays ≤ maxSec. */
  minSec: number;
  /** Context added on each side of speech; never crosses into another chunk or outside [0, duration]. */
  padSec: number;
  /** Candidate gaps for a cut start at `targetSec * gapWindowStartFraction` into the chunk (and end at maxSec). */
  gapWindowStartFraction: number;
  /** A silence at least this long always ends a chunk, so chunks do not carry long silences. */
  splitGapSec: number;
  /** Gaps within this of the longest candidate count as equally long; the one nearest targetSec wins. */
  gapTieSec: number;
  /** Continuous speech is cut inside the last this-many seconds before maxSec. */
  forcedCutWindowSec: number;
  /** Window length used by {@link quietestPointFromPcm}. */
  quietWindowSec: number;
}

/** Default chunker parameters. Override any of them through the `options` argument. */
export const CHUNKER_DEFAULTS: Readonly<ChunkerOptions> = Object.freeze({
  targetSec: 20,
  maxSec: 30,
  minSec: 2,
  padSec: 0.2,
  gapWindowStartFraction: 0.5,
  splitGapSec: 3,
  // VAD timestamps are frame-quantised, so "equal" gaps differ only by float noise.
  gapTieSec: 0.01,
  forcedCutWindowSec: 5,
  quietWindowSec: 0.1,
});

/** Unpadded chunk plus the range of normalised segments it touches. */
interface Core {
  start: number;
  end: number;
  first: number;
  last: number;
}

/**
 * Groups VAD speech segments into chunks of at most `maxSec` seconds.
 *
 * Guarantees: chunks are ordered, non-overlapping, inside `[0, durationSec]`,
 * have `end > start` and length ≤ `maxSec`. Every (clipped, non-empty) speech
 * segment is covered by exactly one chunk, or — if a cut had to fall inside
 * speech — by consecutive chunks that touch exactly at the cut.
 * Zero-length segments carry no audio and are ignored.
 *
 * Cuts: the chunk ends at the first gap ≥ `splitGapSec`; otherwise, when the
 * next speech would not fit in `maxSec`, at the longest gap starting within
 * `[targetSec·gapWindowStartFraction, maxSec]` of the chunk (ties: nearest
 * `targetSec`), else the longest gap starting after `minSec`. Continuous
 * speech is cut inside `[maxSec − forcedCutWindowSec, maxSec]`: at the
 * probe's quietest point, or without a probe at the window's middle.
 *
 * @param segments VAD output in seconds; may be unsorted, overlapping or out of range.
 * @param durationSec Length of the audio.
 * @param options Overrides for {@link CHUNKER_DEFAULTS}.
 * @param quietness Optional probe used to place cuts inside continuous speech
 *   and the boundary inside gaps too short for full padding on both sides.
 */
export function planChunks(
  segments: SpeechSegment[],
  durationSec: number,
  options: Partial<ChunkerOptions> = {},
  quietness?: QuietnessProbe,
): Chunk[] {
  const o = resolveOptions(options);
  if (!(durationSec > 0) || !Number.isFinite(durationSec)) return [];
  const segs = normalise(segments, durationSec);
  if (segs.length === 0) return [];
  const cores = mergeTinyCores(planCores(segs, o, quietness), o);
  return padCores(cores, segs, durationSec, o, quietness);
}

function resolveOptions(options: Partial<ChunkerOptions>): ChunkerOptions {
  const o: ChunkerOptions = { ...CHUNKER_DEFAULTS };
  for (const key of Object.keys(CHUNKER_DEFAULTS) as (keyof ChunkerOptions)[]) {
    const value = options[key];
    if (value !== undefined) o[key] = value;
    if (!(o[key] >= 0)) throw new RangeError(`${key} must be a number ≥ 0, got ${o[key]}`);
  }
  if (!(o.maxSec > 0) || !Number.isFinite(o.maxSec)) throw new RangeError(`maxSec must be positive and finite, got ${o.maxSec}`);
  o.targetSec = Math.min(o.targetSec, o.maxSec);
  return o;
}

/** Clip to [0, duration], drop empty segments, sort, merge overlapping or touching ones. */
function normalise(segments: SpeechSegment[], durationSec: number): SpeechSegment[] {
  const clipped: SpeechSegment[] = [];
  for (const seg of segments) {
    const start = Math.max(0, seg.start);
    const end = Math.min(durationSec, seg.end);
    if (end > start) clipped.push({ start, end }); // also rejects NaN
  }
  clipped.sort((a, b) => a.start - b.start);
  const merged: SpeechSegment[] = [];
  for (const seg of clipped) {
    const prev = merged[merged.length - 1];
    if (prev && seg.start <= prev.end) prev.end = Math.max(prev.end, seg.end);
    else merged.push(seg);
  }
  return merged;
}

/**
 * Greedy planning of unpadded chunks. Each chunk scans forward only as far
 * as `maxSec` and the next chunk starts at or after the chosen cut, so every
 * segment is scanned a small constant number of times.
 */
function planCores(segs: SpeechSegment[], o: ChunkerOptions, probe?: QuietnessProbe): Core[] {
  const cores: Core[] = [];
  const windowStart = o.targetSec * o.gapWindowStartFraction;
  const inWindow: number[] = []; // gap indices: gap k lies between segs[k] and segs[k + 1]
  const early: number[] = [];
  const last = segs.length - 1;
  let i = 0;
  let s = segs[0].start;

  while (i <= last) {
    inWindow.length = 0;
    early.length = 0;
    let j = i;
    let cutGap = -1;
    let restFits = false;
    for (; segs[j].end - s <= o.maxSec; j++) {
      if (j === last) {
        restFits = true;
        break;
      }
      const gapLen = segs[j + 1].start - segs[j].end;
      if (gapLen >= o.splitGapSec) {
        cutGap = j;
        break;
      }
      const offset = segs[j].end - s;
      if (offset >= windowStart) inWindow.push(j);
      else if (offset >= o.minSec) early.push(j);
    }

    if (restFits) {
      cores.push({ start: s, end: segs[j].end, first: i, last: j }); // the rest of the speech fits
      break;
    }
    if (cutGap < 0) cutGap = pickGap(inWindow, segs, s, o);
    if (cutGap < 0) cutGap = pickGap(early, segs, s, o);
    if (cutGap >= 0) {
      cores.push({ start: s, end: segs[cutGap].end, first: i, last: cutGap });
      i = cutGap + 1;
      s = segs[i].start;
      continue;
    }

    // No usable gap: segs[j] is speech running past the limit, cut inside it.
    const cut = forcedCut(s, segs[j].end, o, probe);
    let lastSeg = j;
    while (lastSeg > i && segs[lastSeg].start >= cut) lastSeg--;
    cores.push({ start: s, end: cut, first: i, last: lastSeg });
    while (segs[i].end <= cut) i++;
    s = cut;
  }
  return cores;
}

/** Longest gap among the candidates; near-ties go to the cut nearest targetSec. */
function pickGap(candidates: number[], segs: SpeechSegment[], s: number, o: ChunkerOptions): number {
  let longest = -1;
  for (const k of candidates) longest = Math.max(longest, segs[k + 1].start - segs[k].end);
  let best = -1;
  let bestDistance = Infinity;
  for (const k of candidates) {
    if (segs[k + 1].start - segs[k].end < longest - o.gapTieSec) continue;
    const distance = Math.abs(segs[k].end - s - o.targetSec);
    if (distance < bestDistance) {
      best = k;
      bestDistance = distance;
    }
  }
  return best;
}

/** Cut point inside continuous speech that starts (for this chunk) at `s` and runs to `speechEnd`. */
function forcedCut(s: number, speechEnd: number, o: ChunkerOptions, probe?: QuietnessProbe): number {
  // The window never starts before half of maxSec, so every forced cut makes real progress.
  const lo = s + Math.max(o.maxSec - o.forcedCutWindowSec, o.maxSec / 2);
  let hi = s + o.maxSec;
  // Keep the remainder of this speech run at least minSec long when the window allows it.
  if (speechEnd - o.minSec >= lo) hi = Math.min(hi, speechEnd - o.minSec);
  return probe ? probeWithin(probe, lo, hi) : (lo + hi) / 2;
}

/** The probe's answer clamped into [from, to]; the middle if the probe misbehaves. */
function probeWithin(probe: QuietnessProbe, from: number, to: number): number {
  const t = probe(from, to);
  return Number.isFinite(t) ? clamp(t, from, to) : (from + to) / 2;
}

/** Merge each core shorter than minSec into its nearer neighbour, if the result fits in maxSec. */
function mergeTinyCores(cores: Core[], o: ChunkerOptions): Core[] {
  const out: Core[] = [];
  for (let k = 0; k < cores.length; k++) {
    let cur = cores[k];
    while (cur.end - cur.start < o.minSec) {
      const prev = out[out.length - 1];
      const next = cores[k + 1];
      const fitsPrev = prev !== undefined && cur.end - prev.start <= o.maxSec;
      const fitsNext = next !== undefined && next.end - cur.start <= o.maxSec;
      if (fitsPrev && (!fitsNext || cur.start - prev.end <= next.start - cur.end)) {
        out.pop();
        cur = joinCores(prev, cur);
      } else if (fitsNext) {
        cur = joinCores(cur, next);
        k++;
      } else {
        break;
      }
    }
    out.push(cur);
  }
  return out;
}

function joinCores(a: Core, b: Core): Core {
  return { start: a.start, end: b.end, first: a.first, last: b.last };
}

/** Add padding (clipped at the boundary between neighbours and at maxSec) and attach the speech. */
function padCores(
  cores: Core[],
  segs: SpeechSegment[],
  durationSec: number,
  o: ChunkerOptions,
  probe?: QuietnessProbe,
): Chunk[] {
  // boundaries[k] separates cores[k] and cores[k + 1]; padding never crosses it.
  const boundaries: number[] = [];
  for (let k = 0; k + 1 < cores.length; k++) {
    const from = cores[k].end;
    const to = cores[k + 1].start;
    // Only a gap too short for both paddings needs a carefully placed boundary.
    const useProbe = probe !== undefined && to > from && to - from < 2 * o.padSec;
    boundaries.push(useProbe ? probeWithin(probe, from, to) : (from + to) / 2);
  }

  return cores.map((core, k): Chunk => {
    const leftLimit = k === 0 ? 0 : boundaries[k - 1];
    const rightLimit = k === cores.length - 1 ? durationSec : boundaries[k];
    const padLeft = clamp(core.start - leftLimit, 0, o.padSec);
    const padRight = clamp(rightLimit - core.end, 0, o.padSec);
    // Share the room left under maxSec; a side that needs less gives the rest to the other.
    const room = Math.max(0, o.maxSec - (core.end - core.start));
    const left = Math.min(padLeft, Math.max(room / 2, room - padRight));
    const right = Math.min(padRight, room - left);

    const speech: SpeechSegment[] = [];
    for (let n = core.first; n <= core.last; n++) {
      const start = Math.max(segs[n].start, core.start);
      const end = Math.min(segs[n].end, core.end);
      if (end > start) speech.push({ start, end });
    }
    return { start: core.start - left, end: core.end + right, speech };
  });
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/**
 * Builds a {@link QuietnessProbe} over 16 kHz (or any rate) mono PCM.
 *
 * The probe slides a `windowSec` window of mean |x| over every sample
 * position whose window centre lies in the requested range and returns the
 * centre time of the quietest window (the middle of a run of equally quiet
 * windows, e.g. digital silence). Only the requested range (plus half a
 * window either side) is read, so each call costs O(range), independent of
 * the total length of the audio.
 */
export function quietestPointFromPcm(
  pcm: Float32Array,
  sampleRate: number,
  windowSec: number = CHUNKER_DEFAULTS.quietWindowSec,
): QuietnessProbe {
  if (!(sampleRate > 0)) throw new RangeError(`sampleRate must be positive, got ${sampleRate}`);
  const half = Math.max(1, Math.round((windowSec * sampleRate) / 2));
  let prefix = new Float64Array(0); // reused between calls

  return (fromSec, toSec) => {
    const fallback = clamp((fromSec + toSec) / 2, Math.min(fromSec, toSec), Math.max(fromSec, toSec));
    const first = Math.max(0, Math.ceil(fromSec * sampleRate));
    const lastCentre = Math.min(pcm.length - 1, Math.floor(toSec * sampleRate));
    if (!(lastCentre >= first)) return fallback;

    // prefix[m] = sum of |x| over samples [base, base + m).
    const base = Math.max(0, first - half);
    const stop = Math.min(pcm.length, lastCentre + half);
    if (prefix.length < stop - base + 1) prefix = new Float64Array(stop - base + 1);
    prefix[0] = 0;
    for (let n = base; n < stop; n++) prefix[n - base + 1] = prefix[n - base] + Math.abs(pcm[n]);

    let best = Infinity;
    let runStart = first;
    let runEnd = first;
    for (let c = first; c <= lastCentre; c++) {
      const lo = Math.max(base, c - half);
      const hi = Math.min(stop, c + half);
      const mean = (prefix[hi - base] - prefix[lo - base]) / (hi - lo);
      if (mean < best) {
        best = mean;
        runStart = runEnd = c;
      } else if (mean === best && runEnd === c - 1) {
        runEnd = c;
      }
    }
    return clamp((runStart + runEnd) / 2 / sampleRate, fromSec, toSec);
  };
}
