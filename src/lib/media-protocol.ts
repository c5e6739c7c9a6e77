/**
 * Types shared by the page (src/lib/media.ts, `MediaDecoder`) and the media worker
 * (workers/media.worker.ts). No runtime dependencies besides the small error class.
 *
 * Errors across comlink: comlink re-creates a thrown `Error` on the other side with only
 * `message`, `name` and `stack` (a `code` property is lost), while a thrown *plain object* is
 * structured-cloned intact. So the worker throws `MediaErrorPayload` objects and the page wrapper
 * turns them into `MediaDecodeError` instances (`toMediaDecodeError`).
 */

/** Fixed output format of the decoder. */
export const MEDIA_SAMPLE_RATE = 16000;

export type MediaErrorCode =
  /** 0-byte input. */
  | 'empty-file'
  /** Not a recognised audio/video format (text, image, random bytes, badly damaged file). */
  | 'not-media'
  /** A media file without any audio stream (e.g. a silent screen recording), or with an empty one. */
  | 'no-audio'
  /** Anything else: unsupported codec, decoder crash, decoder failed to load, out of memory. */
  | 'decode-failed';

export const MEDIA_ERROR_CODES: readonly MediaErrorCode[] = ['empty-file', 'not-media', 'no-audio', 'decode-failed'];

/** What the worker throws (a plain, structured-clonable object). */
export interface MediaErrorPayload {
  name: 'MediaDecodeError';
  code: MediaErrorCode;
  /** One user-readable sentence, e.g. `"notes.txt" isn't an audio or video file.` */
  message: string;
  /** Technical detail for logs (the decisive ffmpeg log line), not for end users. */
  detail?: string;
}

/** What the page-side wrapper rejects with (besides `AbortError` DOMExceptions on cancel). */
export class MediaDecodeError extends Error {
  override readonly name = 'MediaDecodeError';
  readonly code: MediaErrorCode;
  readonly detail?: string;
  constructor(code: MediaErrorCode, message: string, detail?: string) {
    super(message);
    this.code = code;
    this.detail = detail;
  }
  toJSON(): MediaErrorPayload {
    return { name: 'MediaDecodeError', code: this.code, message: this.message, detail: this.detail };
  }
}

export function mediaErrorPayload(code: MediaErrorCode, message: string, detail?: string): MediaErrorPayload {
  return detail === undefined ? { name: 'MediaDecodeError', code, message } : { name: 'MediaDecodeError', code, message, detail };
}

export function isMediaErrorPayload(x: unknown): x is MediaErrorPayload {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return o.name === 'MediaDecodeError' && typeof o.message === 'string' && MEDIA_ERROR_CODES.includes(o.code as MediaErrorCode);
}

/** Page side: payload → `MediaDecodeError`; anything else → `decode-failed` (AbortErrors pass through). */
export function toMediaDecodeError(x: unknown): Error {
  if (x instanceof MediaDecodeError) return x;
  if (isMediaErrorPayload(x)) return new MediaDecodeError(x.code, x.message, x.detail);
  if (x instanceof Error && x.name === 'AbortError') return x;
  const msg = x instanceof Error ? x.message : String(x);
  return new MediaDecodeError('decode-failed', `Couldn't decode the audio: ${msg}`, msg);
}

export interface DecodeProgress {
  /** 0..1 (approximate; based on the decoded timestamp over the container's duration). */
  ratio: number;
  /** Seconds of input decoded so far, when known. */
  timeSec?: number;
}

export interface MediaStreamSummary {
  /** ffmpeg's stream index in the input (`Stream #0:<index>`). */
  index: number;
  kind: 'audio' | 'video' | 'subtitle' | 'data' | 'attachment';
  /** ffmpeg codec name, e.g. `aac`, `mp3`, `opus`, `pcm_s16le`, `h264`. */
  codec: string;
  /** Language tag if the container has one (`eng`, `und`). */
  language?: string;
  /** The rest of ffmpeg's description, e.g. `aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s`. */
  description: string;
  sampleRate?: number;
  channels?: number;
  /** ffmpeg layout name (`mono`, `stereo`, `5.1`, `7.1`, `8 channels`). */
  channelLayout?: string;
  sampleFormat?: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Cover art in an audio file (mp3/m4a/flac), not real video. */
  attachedPicture?: boolean;
}

/** What ffmpeg's log says about the input (all optional: logs vary by format). */
export interface MediaInfo {
  /** ffmpeg demuxer name(s), e.g. `mp3`, `wav`, `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `ogg`. */
  container?: string;
  /** Duration from the container header, seconds (may differ slightly from the decoded length). */
  containerDurationSec?: number;
  /**
   * True when ffmpeg says the duration is only estimated from the bitrate ("Estimating duration from
   * bitrate, this may be inaccurate"): then a shorter decode is no sign of damage.
   */
  durationEstimated?: boolean;
  bitrateKbps?: number;
  /** The audio stream that was decoded (ffmpeg picks the "best" one: most channels). */
  audio?: MediaStreamSummary;
  audioStreamCount: number;
  /** True if there is a real video stream (cover art does not count). */
  hasVideo: boolean;
  video?: MediaStreamSummary;
  streams: MediaStreamSummary[];
}

/**
 * A time range of the input to decode (long recordings are decoded window by window, so their PCM
 * never exists in one piece). The input is seeked (`-ss` before `-i`: fast, and sample-exact for
 * wav, flac, CBR mp3 with an Info header, mp4/m4a, ogg), `preRollSec` of audio before `startSec`
 * is decoded too and dropped (the decoder and the resampler settle there), and the output is cut
 * to exactly `durationSec`.
 */
export interface DecodeRange {
  /** Seconds from the start of the input (0 = the beginning). */
  startSec: number;
  /** Seconds wanted; omitted = to the end of the input. */
  durationSec?: number;
  /** Audio decoded before `startSec` and dropped (default 1 s; none when startSec is 0). */
  preRollSec?: number;
}

export interface DecodeResult {
  /** Mono, 16 kHz, float32 in [-1, 1] (may slightly exceed 1 on loud multichannel downmixes). */
  pcm: Float32Array;
  sampleRate: typeof MEDIA_SAMPLE_RATE;
  /** pcm.length / 16000. */
  durationSec: number;
  info: MediaInfo;
  /** Wall time of the ffmpeg run inside the worker (ms), excluding the one-time core load. */
  decodeMs: number;
  /** For a ranged decode: the range's start (seconds); `pcm[0]` is the sample at that time. */
  startSec?: number;
  /**
   * For a ranged decode: true when the input ended before the end of the range (fewer samples than
   * asked for). A range starting at or after the end gives an empty `pcm` with `endOfInput` (no error).
   */
  endOfInput?: boolean;
  /** Decoder errors ffmpeg reported and skipped (damaged data); 0 for a clean decode. */
  decodeErrors?: number;
}

/**
 * The comlink-exposed API of workers/media.worker.ts.
 *
 * - `decode` runs ffmpeg.wasm (single-thread core, loaded once per worker) on the file, mounted
 *   read-only with WORKERFS (never copied into MEMFS), with `-vn -ac 1 -ar 16000 -f f32le`.
 *   The PCM buffer is transferred (zero-copy). Calls are serialised. Rejects with a
 *   `MediaErrorPayload` object (see `toMediaDecodeError`). With `range`, only that window of the
 *   input is decoded (seek + pre-roll, see `DecodeRange`); a range past the end gives empty PCM.
 * - `cancel` terminates ffmpeg's own worker (ffmpeg.terminate()): the running decode rejects with
 *   `{ name: 'AbortError', ... }`, queued ones run after a fresh core load. The page wrapper uses the
 *   blunter `worker.terminate()` instead, which also kills the nested ffmpeg worker.
 * - `warmup` loads the ffmpeg core ahead of the first decode (~0.3 s, 32 MB wasm).
 * - `leftovers` lists per-call paths still in ffmpeg's FS (for tests of the cleanup).
 */
export interface MediaWorkerApi {
  /** The whole input, or only `range` of it. */
  decode(
    file: Blob,
    name: string,
    onProgress?: (p: DecodeProgress) => void,
    range?: DecodeRange,
  ): Promise<DecodeResult>;
  cancel(): Promise<void>;
  warmup(): Promise<void>;
  /** Diagnostic: per-call files/folders left in ffmpeg's FS root (expected: none between calls). */
  leftovers(): Promise<string[]>;
}
