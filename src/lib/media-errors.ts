/**
 * Pure helpers that read ffmpeg's log (ffmpeg.wasm 0.12 = FFmpeg 5.1, same text as Debian's 5.1):
 *
 *   parseFfmpegLog(lines)            → MediaInfo (input container, duration, streams, chosen audio)
 *   classifyFfmpegFailure({...})     → MediaErrorPayload | null (null = the decode succeeded)
 *   parseProgressTime(line)          → seconds from a `time=HH:MM:SS.xx` stats line, or undefined
 *
 * No DOM or worker APIs: unit-tested in Node (media-errors.test.ts).
 */
import { mediaErrorPayload, type MediaErrorPayload, type MediaInfo, type MediaStreamSummary } from './media-protocol';

const LAYOUT_CHANNELS: Record<string, number> = {
  mono: 1,
  stereo: 2,
  downmix: 2,
  '2.1': 3,
  '3.0': 3,
  '3.0(back)': 3,
  '4.0': 4,
  quad: 4,
  'quad(side)': 4,
  '3.1': 4,
  '5.0': 5,
  '5.0(side)': 5,
  '4.1': 5,
  '5.1': 6,
  '5.1(side)': 6,
  '6.0': 6,
  '6.0(front)': 6,
  hexagonal: 6,
  '6.1': 7,
  '6.1(back)': 7,
  '6.1(front)': 7,
  '7.0': 7,
  '7.0(front)': 7,
  '7.1': 8,
  '7.1(wide)': 8,
  '7.1(wide-side)': 8,
  '7.1(top)': 8,
  octagonal: 8,
  hexadecagonal: 16,
  '22.2': 24,
};

/** Image demuxers (png_pipe, jpeg_pipe, image2, gif, ...): a one-frame "video" to ffmpeg, an image to a user. */
const IMAGE_CONTAINER = /(^|,)(image2|image2pipe|[a-z0-9]+_pipe|apng|gif|webp|ico|tiff)(,|$)/;
/** ffmpeg reads .txt/.nfo/.diz/.ans as ANSI art ("tty" demuxer, "ansi" codec). */
const TEXT_CONTAINER = /(^|,)(tty|bin|xbin|adf|idf)(,|$)/;
const TEXT_CODEC = /^(ansi|bintext|xbin|idf)$/;

function toLines(log: string | readonly string[]): string[] {
  const text = typeof log === 'string' ? log : log.join('\n');
  return text.split(/\r\n|\r|\n/);
}

/** Split on commas that are not inside (), [] (ffmpeg puts commas inside `yuv420p(tv, bt709)`). */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

function parseClock(h: string, m: string, s: string): number {
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

function parseStream(index: number, kindWord: string, language: string | undefined, desc: string): MediaStreamSummary {
  const kind = kindWord.toLowerCase() as MediaStreamSummary['kind'];
  const parts = splitTopLevel(desc);
  const codec = (parts[0] ?? '').split(/\s+/)[0] || 'unknown';
  const s: MediaStreamSummary = { index, kind, codec, description: desc.trim() };
  if (language) s.language = language;
  if (kind === 'audio') {
    const hz = parts.findIndex((p) => /^\d+ Hz$/.test(p));
    if (hz >= 0) {
      s.sampleRate = Number(parts[hz].split(' ')[0]);
      const layout = parts[hz + 1];
      if (layout !== undefined) {
        const n = /^(\d+) channels/.exec(layout);
        if (n) {
          s.channels = Number(n[1]);
          s.channelLayout = layout.replace(/\s*\(.*\)$/, '');
        } else if (layout in LAYOUT_CHANNELS) {
          s.channels = LAYOUT_CHANNELS[layout];
          s.channelLayout = layout;
        } else {
          s.channelLayout = layout;
        }
        const fmt = parts[hz + 2];
        if (fmt && !/kb\/s|\(default\)/.test(fmt)) s.sampleFormat = fmt.split(' ')[0];
      }
    } else {
      const n = parts.map((p) => /^(\d+) channels/.exec(p)).find(Boolean);
      if (n) s.channels = Number(n[1]);
    }
  } else if (kind === 'video') {
    const size = /(?:^|[\s,])(\d{1,5})x(\d{1,5})(?:[\s,]|$)/.exec(desc);
    if (size) {
      s.width = Number(size[1]);
      s.height = Number(size[2]);
    }
    const fps = /([\d.]+) fps/.exec(desc);
    if (fps) s.fps = Number(fps[1]);
    if (/\(attached pic\)/.test(desc)) s.attachedPicture = true;
  }
  return s;
}

/**
 * Read the `Input #0` section of an ffmpeg log (and `Stream mapping`, to know which audio stream
 * was decoded). Banner, metadata, output section and stats lines are ignored.
 */
export function parseFfmpegLog(log: string | readonly string[]): MediaInfo {
  const info: MediaInfo = { audioStreamCount: 0, hasVideo: false, streams: [] };
  let section: 'none' | 'input' | 'mapping' | 'done' = 'none';
  let mappedAudio: number | undefined;
  for (const line of toLines(log)) {
    if (section === 'done') break;
    // Printed by the demuxer while probing, before or inside the `Input #0` section.
    if (section !== 'mapping' && /Estimating duration from bitrate/i.test(line)) info.durationEstimated = true;
    const input = /^Input #0, (.+), from '.*':\s*$/.exec(line);
    if (input) {
      info.container = input[1];
      section = 'input';
      continue;
    }
    if (/^Input #[1-9]/.test(line) || /^Output #\d/.test(line)) {
      if (section !== 'none') section = 'done';
      continue;
    }
    if (/^Stream mapping:/.test(line)) {
      section = 'mapping';
      continue;
    }
    if (section === 'input') {
      const dur = /^\s+Duration: (?:N\/A|(\d+):(\d+):(\d+(?:\.\d+)?))(?:, start: [-\d.]+)?, bitrate: (?:N\/A|(\d+) kb\/s)/.exec(line);
      if (dur) {
        if (dur[1] !== undefined) info.containerDurationSec = parseClock(dur[1], dur[2], dur[3]);
        if (dur[4] !== undefined) info.bitrateKbps = Number(dur[4]);
        continue;
      }
      const st = /^\s+Stream #0:(\d+)(?:\[0x[0-9a-fA-F]+\])?(?:\(([^)]*)\))?: (Audio|Video|Subtitle|Data|Attachment): (.*)$/.exec(line);
      if (st) info.streams.push(parseStream(Number(st[1]), st[3], st[2], st[4]));
    } else if (section === 'mapping') {
      const m = /^\s+Stream #0:(\d+) -> #0:\d+/.exec(line);
      if (m) {
        const idx = Number(m[1]);
        if (info.streams.find((s) => s.index === idx)?.kind === 'audio' && mappedAudio === undefined) mappedAudio = idx;
      } else if (!/^\s/.test(line)) section = 'done';
    }
  }
  const audios = info.streams.filter((s) => s.kind === 'audio');
  info.audioStreamCount = audios.length;
  info.audio = audios.find((s) => s.index === mappedAudio) ?? audios[0];
  info.video = info.streams.find((s) => s.kind === 'video' && !s.attachedPicture);
  info.hasVideo = info.video !== undefined;
  return info;
}

/**
 * How many decoding errors ffmpeg reported and skipped over (damaged frames in the middle of a
 * file, a truncated last frame): `Error while decoding stream` lines, one per failed packet.
 */
export function countDecodeErrors(log: string | readonly string[]): number {
  let n = 0;
  for (const line of toLines(log)) if (isDecodeErrorLine(line)) n++;
  return n;
}

/** One line of `countDecodeErrors` (for counting while the log streams in). */
export function isDecodeErrorLine(line: string): boolean {
  return /Error while decoding stream #/.test(line);
}

/** Seconds from an ffmpeg stats line (`size= 845kB time=00:00:13.51 bitrate=...`). */
export function parseProgressTime(line: string): number | undefined {
  const all = [...line.matchAll(/time=\s*(-?)(\d+):(\d+):(\d+(?:\.\d+)?)/g)];
  const m = all[all.length - 1];
  if (!m || m[1] === '-') return undefined;
  return parseClock(m[2], m[3], m[4]);
}

export interface FfmpegOutcome {
  /** Every log line ffmpeg printed (or the joined text). */
  log: string | readonly string[];
  /** ffmpeg's exit code (ffmpeg.wasm `exec` return value). */
  exitCode: number;
  /** Size of the input in bytes. */
  inputBytes: number;
  /** Bytes of f32le output (0 if none was produced). */
  outputBytes: number;
  /** File name for the message (defaults to "The file"). */
  name?: string;
}

function quoted(name?: string): string {
  return name ? `"${name}"` : 'The file';
}

/** The most informative error line of a failed run, for `detail`. */
function decisiveLine(lines: string[]): string | undefined {
  const interesting = lines.filter(
    (l) =>
      /error|invalid|not found|unsupported|failed|does not contain|matches no streams|could not|cannot|moov atom/i.test(l) &&
      !/^\s*(Conversion failed!|Aborted\(\))\s*$/.test(l) &&
      !/^\s*(configuration|lib\w+\s+\d)/.test(l),
  );
  return (interesting[0] ?? lines.filter((l) => l.trim() && !/^\s*Aborted\(\)\s*$/.test(l)).pop())?.trim();
}

/**
 * Turn a finished ffmpeg run into a user-facing error, or `null` if it produced audio.
 *
 * - 0-byte input                                       → empty-file
 * - no `Input #0` section (ffmpeg could not open/probe it: "Invalid data found when processing
 *   input", "moov atom not found", ...); an "audio" stream ffmpeg could not even size
 *   (`0 channels`, "Could not find codec parameters" after a low-score probe, as with random bytes
 *   named .mp3); or no audio and only an image, text (ffmpeg opens .txt as ANSI art) or
 *   subtitles                                          → not-media
 * - a real video without an audio stream ("Output file #0 does not contain any stream"), or an
 *   audio stream that decodes to 0 samples           → no-audio
 * - anything else that failed (unsupported codec, decoder errors) → decode-failed
 */
export function classifyFfmpegFailure(o: FfmpegOutcome): MediaErrorPayload | null {
  const who = quoted(o.name);
  if (o.inputBytes === 0) return mediaErrorPayload('empty-file', `${who} is empty (0 bytes).`);
  const lines = toLines(o.log);
  const text = lines.join('\n');
  const info = parseFfmpegLog(lines);
  const detail = decisiveLine(lines);
  const opened = info.container !== undefined;
  const audios = info.streams.filter((s) => s.kind === 'audio');
  const ok = o.exitCode === 0 && o.outputBytes > 0;
  if (ok) return null;

  if (!opened) {
    if (/moov atom not found/i.test(text)) {
      return mediaErrorPayload('not-media', `${who} is damaged or incomplete (an MP4/MOV file whose index is missing).`, detail);
    }
    if (/Invalid data found when processing input|Invalid argument|misdetection possible|Unknown input format|could not find codec parameters/i.test(text)) {
      return mediaErrorPayload('not-media', `${who} isn't an audio or video file that can be read.`, detail);
    }
    // Opening failed for another reason (I/O, out of memory, ...): not the user's file's fault.
    return mediaErrorPayload('decode-failed', `Couldn't read ${who}${detail ? `: ${detail}` : '.'}`, detail);
  }
  const unsized = audios.length > 0 && audios.every((s) => s.channels === 0 || s.sampleRate === undefined);
  if (unsized && /Could not find codec parameters|misdetection possible|Header missing|Invalid data found/i.test(text)) {
    return mediaErrorPayload('not-media', `${who} isn't an audio or video file that can be read (the data isn't valid ${info.container ?? 'media'}).`, detail);
  }
  // The demuxer only guessed the format ("detected only with low score of 1, misdetection possible!", as
  // with random bytes named .mp3, where a stray frame header may even give the "stream" a sample rate),
  // and decoding then failed: it is not a media file, not a damaged one.
  if (audios.length > 0 && /misdetection possible/i.test(text)) {
    return mediaErrorPayload('not-media', `${who} isn't an audio or video file that can be read (the data isn't valid ${info.container ?? 'media'}).`, detail);
  }
  if (audios.length === 0) {
    // ffmpeg opens a few non-media things as "video" or subtitles: images, text (as ANSI art).
    const videos = info.streams.filter((s) => s.kind === 'video');
    if (TEXT_CONTAINER.test(info.container ?? '') || videos.some((s) => TEXT_CODEC.test(s.codec))) {
      return mediaErrorPayload('not-media', `${who} is a text file, not an audio or video file.`, detail);
    }
    if (IMAGE_CONTAINER.test(info.container ?? '')) return mediaErrorPayload('not-media', `${who} is an image, not an audio or video file.`, detail);
    if (info.hasVideo) return mediaErrorPayload('no-audio', `${who} is a video without any sound track.`, detail);
    if (info.streams.some((s) => s.kind === 'subtitle')) {
      return mediaErrorPayload('not-media', `${who} is a subtitle file, not an audio or video file.`, detail);
    }
    return mediaErrorPayload('no-audio', `${who} has no audio track.`, detail);
  }
  const missingDecoder = /Decoder \(codec ([^)]+)\) not found|Unsupported codec with id \d+|decoder '?([\w-]+)'? not found/i.exec(text);
  if (missingDecoder) {
    const codec = missingDecoder[1] ?? missingDecoder[2] ?? info.audio?.codec ?? 'used';
    return mediaErrorPayload('decode-failed', `The audio format of ${who} (${codec}) isn't supported.`, detail);
  }
  if (o.exitCode === 0 && o.outputBytes === 0) {
    return mediaErrorPayload('no-audio', `${who} has an audio track, but it contains no sound samples.`, detail);
  }
  return mediaErrorPayload('decode-failed', `Couldn't decode the audio in ${who}${detail ? `: ${detail}` : '.'}`, detail);
}
