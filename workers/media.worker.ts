/**
 * Media worker: any audio/video file → 16 kHz mono Float32 PCM, with ffmpeg.wasm 0.12.
 *
 * comlink API (`MediaWorkerApi`, src/lib/media-protocol.ts); use it through `MediaDecoder`
 * (src/lib/media.ts) rather than directly:
 *   decode(file: Blob, name: string, onProgress?: (p: {ratio, timeSec?}) => void, range?: DecodeRange)
 *     → Promise<{ pcm: Float32Array, sampleRate: 16000, durationSec, info, decodeMs, decodeErrors,
 *                 startSec?, endOfInput? }>
 *     The PCM's buffer is transferred. With `range = { startSec, durationSec?, preRollSec? }` only
 *     that window is decoded: `-ss (start - preRoll) -t (preRoll + duration)` before `-i` (a fast
 *     input seek), the pre-roll dropped, the output cut to the range; a window past the end of the
 *     input is an empty result with `endOfInput`, not an error. This is how long recordings are
 *     decoded piece by piece (src/lib/pipeline.ts). Rejects with a plain `MediaErrorPayload`
 *     `{ name: 'MediaDecodeError', code: 'empty-file' | 'not-media' | 'no-audio' | 'decode-failed', message, detail? }`
 *     (plain objects survive comlink; Error subclasses lose their `code`), or with
 *     `{ name: 'AbortError', message }` if `cancel()` interrupted it.
 *   cancel() → ffmpeg.terminate(): kills ffmpeg's nested worker; the running decode rejects with
 *     AbortError, the next decode reloads the core (~0.3 s).
 *   warmup() → loads the ffmpeg core now.
 *   leftovers() → names of per-call files/folders still in ffmpeg's FS root (diagnostic for tests:
 *     always [] between calls, since output, mount and folder are removed after every call).
 *
 * How: single-thread @ffmpeg/core (no SharedArrayBuffer needed), loaded once from same-origin URLs
 * (`?url` imports: hashed assets in a build, node_modules paths in dev). The file is mounted
 * read-only with WORKERFS in a per-call folder (never copied into MEMFS), decoded with
 * `-vn -sn -dn -ac 1 -ar 16000 -c:a pcm_f32le -f f32le`, and the output file, the mount and the
 * folder are removed after each call, also on failure. Calls run one at a time.
 */
import * as Comlink from 'comlink';
import { FFmpeg, FFFSType } from '@ffmpeg/ffmpeg';
import type { LogEvent, ProgressEvent } from '@ffmpeg/ffmpeg';
import coreURL from '@ffmpeg/core?url';
import wasmURL from '@ffmpeg/core/wasm?url';
import { classifyFfmpegFailure, isDecodeErrorLine, parseFfmpegLog, parseProgressTime } from '../src/lib/media-errors';
import {
  MEDIA_SAMPLE_RATE,
  isMediaErrorPayload,
  mediaErrorPayload,
  type DecodeProgress,
  type DecodeRange,
  type DecodeResult,
  type MediaWorkerApi,
} from '../src/lib/media-protocol';

/** ffmpeg's own worker fails silently if its script/wasm can't load: don't wait forever. */
const LOAD_TIMEOUT_MS = 120_000;
/** Keep at most this many log lines (head + tail): corrupt files can print one line per packet. */
const MAX_LOG_LINES = 4000;
/** Default audio decoded before a ranged decode's start and dropped (decoder and resampler settle). */
const DEFAULT_PRE_ROLL_SEC = 1;

/** Seconds as ffmpeg reads them (no exponent, microsecond precision). */
function secArg(sec: number): string {
  return (Math.round(sec * 1e6) / 1e6).toFixed(6);
}

let ffmpeg: FFmpeg | null = null;
let loading: Promise<FFmpeg> | null = null;
let queue: Promise<unknown> = Promise.resolve();
let jobCounter = 0;
let cancelRequested = false;

const ABORT = { name: 'AbortError', message: 'Decoding was cancelled' } as const;

function loadCore(): Promise<FFmpeg> {
  if (ffmpeg?.loaded) return Promise.resolve(ffmpeg);
  if (loading) return loading;
  const ff = new FFmpeg();
  const abs = (u: string) => new URL(u, self.location.href).href;
  loading = new Promise<FFmpeg>((resolve, reject) => {
    const timer = setTimeout(() => {
      ff.terminate();
      reject(new Error(`the decoder did not load within ${LOAD_TIMEOUT_MS / 1000} s`));
    }, LOAD_TIMEOUT_MS);
    ff.load({ coreURL: abs(coreURL), wasmURL: abs(wasmURL) }).then(
      () => {
        clearTimeout(timer);
        ffmpeg = ff;
        resolve(ff);
      },
      (e: unknown) => {
        clearTimeout(timer);
        ff.terminate();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }).finally(() => {
    loading = null;
  });
  return loading;
}

/** Terminate ffmpeg's worker (used by cancel and after a crash); the next call reloads it. */
function dropCore(): void {
  const ff = ffmpeg;
  ffmpeg = null;
  ff?.terminate();
}

/** Name inside the WORKERFS mount: fixed stem, original extension (helps ffmpeg probe raw formats). */
function mountName(name: string): string {
  const ext = /\.([A-Za-z0-9]{1,10})$/.exec(name)?.[1];
  return ext ? `input.${ext.toLowerCase()}` : 'input';
}

async function decodeOne(file: Blob, name: string, onProgress?: (p: DecodeProgress) => void, range?: DecodeRange): Promise<DecodeResult> {
  if (!(file instanceof Blob)) throw mediaErrorPayload('decode-failed', 'Expected a File or Blob to decode.');
  if (file.size === 0) {
    const verdict = classifyFfmpegFailure({ log: '', exitCode: 1, inputBytes: 0, outputBytes: 0, name });
    throw verdict;
  }
  cancelRequested = false;
  let ff: FFmpeg;
  try {
    ff = await loadCore();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw mediaErrorPayload('decode-failed', `Couldn't load the audio decoder: ${msg}`, msg);
  }
  if (cancelRequested) throw ABORT;

  const id = ++jobCounter;
  const dir = `/job${id}`;
  const input = `${dir}/${mountName(name)}`;
  const output = `/out${id}.f32`;
  // A ranged decode seeks to `start - pre`, decodes `pre + duration` and drops the first `pre`.
  const startSec = range ? Math.max(0, range.startSec) : 0;
  const preSec = range && startSec > 0 ? Math.min(startSec, Math.max(0, range.preRollSec ?? DEFAULT_PRE_ROLL_SEC)) : 0;
  const wantSec = range?.durationSec !== undefined ? Math.max(0, range.durationSec) : undefined;
  const ranged = range !== undefined && (startSec > 0 || wantSec !== undefined);
  let decodeErrors = 0;
  // Log kept as head + a ring buffer for the tail.
  const half = MAX_LOG_LINES / 2;
  const head: string[] = [];
  const ring: string[] = [];
  let ringNext = 0;
  let seen = 0;
  let durationSec: number | undefined;
  let lastRatio = -1;
  const report = (timeSec: number | undefined, ratio?: number) => {
    if (!onProgress) return;
    if (ratio === undefined) {
      if (timeSec === undefined) return;
      // Output timestamps start at 0 in a ranged decode: measure against the range's length.
      const total = wantSec !== undefined ? preSec + wantSec : durationSec !== undefined ? durationSec - (startSec - preSec) : undefined;
      if (!total || total <= 0) return;
      ratio = timeSec / total;
    }
    ratio = Math.min(1, Math.max(0, ratio));
    if (ratio <= lastRatio || (ratio - lastRatio < 0.01 && ratio < 1)) return;
    lastRatio = ratio;
    onProgress(timeSec === undefined ? { ratio } : { ratio, timeSec });
  };
  const onLog = ({ message }: LogEvent) => {
    for (const line of message.split(/\r\n|\r|\n/)) {
      if (head.length < half) head.push(line);
      else {
        ring[ringNext] = line;
        ringNext = (ringNext + 1) % half;
        seen++;
      }
      if (isDecodeErrorLine(line)) decodeErrors++;
      const dur = /^\s+Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(line);
      if (dur && durationSec === undefined) durationSec = Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3]);
      if (line.includes('time=')) report(parseProgressTime(line));
    }
  };
  // ffmpeg.wasm's progress event: `time` is the output timestamp in microseconds, `progress` its
  // own ratio (garbage when the container has no duration, so only used as a fallback).
  const onFfProgress = ({ time, progress }: ProgressEvent) => {
    if (time > 0 && durationSec) report(time / 1e6);
    else if (progress > 0 && progress <= 1) report(time > 0 ? time / 1e6 : undefined, progress);
  };
  ff.on('log', onLog);
  ff.on('progress', onFfProgress);
  const t0 = performance.now();
  let mounted = false;
  let exitCode = -1;
  let dirMade = false;
  try {
    await ff.createDir(dir);
    dirMade = true;
    await ff.mount(FFFSType.WORKERFS, { blobs: [{ name: mountName(name), data: file }] }, dir);
    mounted = true;
    const inputArgs: string[] = [];
    if (startSec - preSec > 0) inputArgs.push('-ss', secArg(startSec - preSec));
    if (wantSec !== undefined) inputArgs.push('-t', secArg(preSec + wantSec));
    exitCode = await ff.exec([...inputArgs, '-i', input, '-vn', '-sn', '-dn', '-ac', '1', '-ar', String(MEDIA_SAMPLE_RATE), '-c:a', 'pcm_f32le', '-f', 'f32le', output]);
    let bytes: Uint8Array | null = null;
    if (exitCode === 0) {
      try {
        const data = await ff.readFile(output);
        bytes = typeof data === 'string' ? null : data;
      } catch {
        bytes = null; // no output file: classified below
      }
    }
    const tail = seen > half ? [...ring.slice(ringNext), ...ring.slice(0, ringNext)] : ring.slice(0, seen);
    const log = seen > half ? [...head, `[... ${seen - half} log lines dropped ...]`, ...tail] : [...head, ...tail];
    const info = parseFfmpegLog(log);
    // A window that starts at or after the end of the input is no error: it is simply empty.
    const pastEnd = ranged && startSec > 0 && exitCode === 0 && (bytes?.byteLength ?? 0) < 4 && info.audio !== undefined;
    const failure = pastEnd ? null : classifyFfmpegFailure({ log, exitCode, inputBytes: file.size, outputBytes: bytes?.byteLength ?? 0, name });
    if (failure || (!bytes && !pastEnd)) throw failure ?? mediaErrorPayload('decode-failed', `Couldn't decode the audio in "${name}".`);
    let pcm = pcmFromBytes(bytes);
    let endOfInput: boolean | undefined;
    if (ranged) {
      const skip = Math.round(preSec * MEDIA_SAMPLE_RATE);
      const want = wantSec !== undefined ? Math.round(wantSec * MEDIA_SAMPLE_RATE) : Infinity;
      const from = Math.min(skip, pcm.length);
      const to = Math.min(pcm.length, from + want);
      endOfInput = to - from < want;
      // A copy of exactly the range: the pre-roll's memory is released with ffmpeg's buffer.
      if (from !== 0 || to !== pcm.length) pcm = pcm.slice(from, to);
    }
    const decodeMs = performance.now() - t0;
    report(durationSec, 1);
    const result: DecodeResult = {
      pcm,
      sampleRate: MEDIA_SAMPLE_RATE,
      durationSec: pcm.length / MEDIA_SAMPLE_RATE,
      info,
      decodeMs,
      decodeErrors,
    };
    if (ranged) {
      result.startSec = startSec;
      result.endOfInput = endOfInput;
    }
    return Comlink.transfer(result, [pcm.buffer as ArrayBuffer]);
  } catch (e) {
    if (isMediaErrorPayload(e)) throw e;
    if (cancelRequested) throw ABORT;
    // exec/readFile rejected: ffmpeg's worker reported an exception (out of memory, wasm trap) or
    // died. Its state is unknown: drop it so the next call starts from a fresh core.
    const msg = e instanceof Error ? e.message : String(e);
    dropCore();
    throw mediaErrorPayload('decode-failed', `Couldn't decode the audio in "${name}": ${msg}`, msg);
  } finally {
    ff.off('log', onLog);
    ff.off('progress', onFfProgress);
    if (ffmpeg === ff) {
      await ff.deleteFile(output).catch(() => {});
      if (mounted) await ff.unmount(dir).catch(() => {});
      if (dirMade) await ff.deleteDir(dir).catch(() => {});
      // ffmpeg keeps some state between runs in the same instance: its decode error counters are
      // globals, so after a run full of errors (random bytes, a damaged file) the next, healthy file
      // fails the error-rate check ("Conversion failed!", exit 69). Start the next run from a fresh
      // core instead (~0.3 s).
      if (exitCode !== 0 || decodeErrors > 0) dropCore();
    }
  }
}

/** ffmpeg's output bytes as float32 samples (a view when aligned, else a copy without the odd tail). */
function pcmFromBytes(bytes: Uint8Array | null): Float32Array {
  if (!bytes || bytes.byteLength < 4) return new Float32Array(0);
  return bytes.byteOffset % 4 === 0 && bytes.byteLength % 4 === 0
    ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
    : new Float32Array(bytes.slice(0, bytes.byteLength - (bytes.byteLength % 4)).buffer);
}

/** A progress callback arrives as a comlink proxy: close its port once the call is over. */
function releaseCallback(cb: unknown): void {
  const release = (cb as { [Comlink.releaseProxy]?: () => void } | undefined)?.[Comlink.releaseProxy];
  if (typeof release === 'function') {
    try {
      release();
    } catch {
      // already released
    }
  }
}

const api: MediaWorkerApi = {
  decode(file, name, onProgress, range) {
    const run = queue.then(() => decodeOne(file, name, onProgress, range)).finally(() => releaseCallback(onProgress));
    queue = run.catch(() => {});
    return run;
  },
  async cancel() {
    cancelRequested = true;
    dropCore();
  },
  async warmup() {
    await loadCore();
  },
  leftovers() {
    // Queued like decode, so it never sees a running call's files.
    const run = queue.then(async () => {
      if (!ffmpeg) return [];
      const nodes = await ffmpeg.listDir('/').catch(() => []);
      return nodes.map((n) => n.name).filter((n) => /^(job|out)\d+/.test(n));
    });
    queue = run.catch(() => {});
    return run;
  },
};

Comlink.expose(api);
