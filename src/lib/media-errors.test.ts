import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as Comlink from 'comlink';
import { classifyFfmpegFailure, parseFfmpegLog, parseProgressTime } from './media-errors';
import { MediaDecodeError, isMediaErrorPayload, mediaErrorPayload, toMediaDecodeError } from './media-protocol';
import { makeFixtures, DEFAULT_FIXTURES_DIR } from '../../tools/make-fixtures.mjs';

// Real logs of FFmpeg 5.1 (Debian's; ffmpeg.wasm 0.12 prints the same text, plus a final `Aborted()`).
const BANNER = `ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers
  built with gcc 12 (Debian 12.2.0-14+deb12u1)
  configuration: --prefix=/usr --extra-version=0+deb12u1 --toolchain=hardened --enable-gpl --disable-stripping
  libavutil      57. 28.100 / 57. 28.100
  libavformat    59. 27.100 / 59. 27.100`;

const MP4_OK = `${BANNER}
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '/in/job1/input.mp4':
  Metadata:
    major_brand     : isom
    encoder         : Lavf59.27.100
  Duration: 00:00:13.90, start: 0.000000, bitrate: 138 kb/s
  Stream #0:0[0x1](und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p(progressive), 64x64 [SAR 1:1 DAR 1:1], 45 kb/s, 10 fps, 10 tbr, 10240 tbn (default)
    Metadata:
      handler_name    : VideoHandler
  Stream #0:1[0x2](eng): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 91 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
Stream mapping:
  Stream #0:1 -> #0:0 (aac (native) -> pcm_f32le (native))
Output #0, f32le, to '/out1.f32':
  Stream #0:0(und): Audio: pcm_f32le, 16000 Hz, mono, flt, 512 kb/s (default)
size=     845kB time=00:00:13.51 bitrate= 512.0kbits/s speed=1.3e+03x
video:0kB audio:845kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: 0.000000%
Aborted()`;

const WEBM_OK = `Input #0, matroska,webm, from 'canonical.webm':
  Duration: 00:00:13.61, start: -0.007000, bitrate: 105 kb/s
  Stream #0:0: Video: vp8, yuv420p(tv, progressive), 64x64, SAR 1:1 DAR 1:1, 10 fps, 10 tbr, 1k tbn
  Stream #0:1: Audio: opus, 48000 Hz, stereo, fltp
Stream mapping:
  Stream #0:1 -> #0:0 (opus (native) -> pcm_f32le (native))`;

const WAV_8CH = `Input #0, wav, from 'multichannel-8ch-96k.wav':
  Duration: 00:00:13.51, bitrate: 18432 kb/s
  Stream #0:0: Audio: pcm_s24le ([1][0][0][0] / 0x0001), 96000 Hz, 7.1, s32 (24 bit), 18432 kb/s
Stream mapping:
  Stream #0:0 -> #0:0 (pcm_s24le (native) -> pcm_f32le (native))`;

const MP3_COVER = `Input #0, mp3, from 'cover.mp3':
  Duration: 00:00:01.07, start: 0.000000, bitrate: 28 kb/s
  Stream #0:0: Audio: mp3, 16000 Hz, mono, fltp, 24 kb/s
  Stream #0:1: Video: png, rgb24(pc), 64x64 [SAR 1:1 DAR 1:1], 90k tbr, 90k tbn (attached pic)
Stream mapping:
  Stream #0:0 -> #0:0 (mp3 (mp3float) -> pcm_f32le (native))`;

const TEXT_FILE = `${BANNER}
/in/job3/input.txt: Invalid data found when processing input
Aborted()`;

const TRUNCATED_MP4 = `[mov,mp4,m4a,3gp,3g2,mj2 @ 0x563e044db940] moov atom not found
/in/job4/input.mp4: Invalid data found when processing input`;

const PNG = `Input #0, png_pipe, from '/in/job5/input.png':
  Duration: N/A, bitrate: N/A
  Stream #0:0: Video: png, rgb24(pc), 64x64 [SAR 1:1 DAR 1:1], 25 fps, 25 tbr, 25 tbn
Output #0, f32le, to '/out5.f32':
Output file #0 does not contain any stream`;

const VIDEO_NO_AUDIO = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'noaud.mp4':
  Duration: 00:00:02.00, start: 0.000000, bitrate: 14 kb/s
  Stream #0:0[0x1](und): Video: h264 (High 4:4:4 Predictive) (avc1 / 0x31637661), yuv444p(progressive), 64x64 [SAR 1:1 DAR 1:1], 10 kb/s, 10 fps, 10 tbr, 10240 tbn (default)
Output #0, f32le, to 'out.f32':
Output file #0 does not contain any stream`;

const RANDOM_MP3 = `[mp3 @ 0x55d9c5237980] Format mp3 detected only with low score of 1, misdetection possible!
[mp3 @ 0x55d9c5237980] Could not find codec parameters for stream 0 (Audio: mp3 (mp3float), 0 channels, fltp): unspecified frame size
Consider increasing the value for the 'analyzeduration' (0) and 'probesize' (5000000) options
Input #0, mp3, from 'rnd.mp3':
  Duration: N/A, start: 0.000000, bitrate: N/A
  Stream #0:0: Audio: mp3, 0 channels, fltp
Stream mapping:
  Stream #0:0 -> #0:0 (mp3 (mp3float) -> pcm_f32le (native))
[mp3float @ 0x55d9c5322c40] Header missing
Error while decoding stream #0:0: Invalid data found when processing input
[abuffer @ 0x55d9c523c480] Error setting option time_base to value 1/0.
Error reinitializing filters!
Conversion failed!`;

const NO_DECODER = `Input #0, caf, from 'x.caf':
  Duration: 00:00:01.00, bitrate: 64 kb/s
  Stream #0:0: Audio: exotic (xyz1 / 0x31797A78), 8000 Hz, mono, s16
Stream mapping:
  Stream #0:0 -> #0:0 (exotic -> pcm_f32le (native))
Decoder (codec exotic) not found for input stream #0:0
Aborted()`;

describe('parseFfmpegLog', () => {
  it('reads container, duration, streams and the mapped audio stream (mp4, banner and output section ignored)', () => {
    const info = parseFfmpegLog(MP4_OK);
    expect(info.container).toBe('mov,mp4,m4a,3gp,3g2,mj2');
    expect(info.containerDurationSec).toBeCloseTo(13.9, 6);
    expect(info.bitrateKbps).toBe(138);
    expect(info.streams).toHaveLength(2);
    expect(info.audioStreamCount).toBe(1);
    expect(info.hasVideo).toBe(true);
    expect(info.video).toMatchObject({ index: 0, codec: 'h264', width: 64, height: 64, fps: 10 });
    expect(info.audio).toMatchObject({ index: 1, kind: 'audio', codec: 'aac', language: 'eng', sampleRate: 44100, channels: 2, channelLayout: 'stereo', sampleFormat: 'fltp' });
  });

  it('handles commas inside parentheses, 7.1 layouts and cover art', () => {
    const webm = parseFfmpegLog(WEBM_OK);
    expect(webm.container).toBe('matroska,webm');
    expect(webm.video).toMatchObject({ codec: 'vp8', width: 64, height: 64, fps: 10 });
    expect(webm.audio).toMatchObject({ codec: 'opus', sampleRate: 48000, channels: 2 });

    const wav = parseFfmpegLog(WAV_8CH);
    expect(wav.audio).toMatchObject({ codec: 'pcm_s24le', sampleRate: 96000, channels: 8, channelLayout: '7.1', sampleFormat: 's32' });
    expect(wav.hasVideo).toBe(false);

    const mp3 = parseFfmpegLog(MP3_COVER);
    expect(mp3.hasVideo).toBe(false);
    expect(mp3.streams[1]).toMatchObject({ kind: 'video', codec: 'png', attachedPicture: true });
    expect(mp3.audio).toMatchObject({ codec: 'mp3', sampleRate: 16000, channels: 1 });
  });

  it('copes with logs that have no input section', () => {
    expect(parseFfmpegLog(TEXT_FILE)).toEqual({ audioStreamCount: 0, hasVideo: false, streams: [] });
    expect(parseFfmpegLog([])).toEqual({ audioStreamCount: 0, hasVideo: false, streams: [] });
  });
});

describe('parseProgressTime', () => {
  it('reads the last time= of a stats line', () => {
    expect(parseProgressTime('size=       1kB time=00:00:00.02 bitrate= 512.0kbits/s    size=     845kB time=00:01:13.51 bitrate=')).toBeCloseTo(73.51, 6);
    expect(parseProgressTime('size=N/A time=-577014:32:22.77 bitrate=N/A')).toBeUndefined();
    expect(parseProgressTime('Stream mapping:')).toBeUndefined();
  });
});

describe('classifyFfmpegFailure', () => {
  const base = { exitCode: 1, inputBytes: 1000, outputBytes: 0 };
  it('returns null for a successful decode', () => {
    expect(classifyFfmpegFailure({ ...base, log: MP4_OK, exitCode: 0, outputBytes: 864896 })).toBeNull();
  });
  it('empty-file for 0 bytes, whatever the log says', () => {
    const e = classifyFfmpegFailure({ ...base, log: '', inputBytes: 0, name: 'empty.mp3' });
    expect(e).toMatchObject({ name: 'MediaDecodeError', code: 'empty-file', message: '"empty.mp3" is empty (0 bytes).' });
  });
  it('not-media for text, truncated mp4, images and random bytes', () => {
    expect(classifyFfmpegFailure({ ...base, log: TEXT_FILE, name: 'notes.txt' })).toMatchObject({
      code: 'not-media',
      message: `"notes.txt" isn't an audio or video file that can be read.`,
      detail: '/in/job3/input.txt: Invalid data found when processing input',
    });
    expect(classifyFfmpegFailure({ ...base, log: TRUNCATED_MP4, name: 'a.mp4' })?.message).toMatch(/damaged or incomplete/);
    expect(classifyFfmpegFailure({ ...base, log: PNG, name: 'image.png' })).toMatchObject({ code: 'not-media', message: '"image.png" is an image, not an audio or video file.' });
    expect(classifyFfmpegFailure({ ...base, log: RANDOM_MP3, name: 'random.mp3' })?.code).toBe('not-media');
  });
  it('no-audio for a video without sound, and for audio that decodes to nothing', () => {
    expect(classifyFfmpegFailure({ ...base, log: VIDEO_NO_AUDIO, name: 'screen.mp4' })).toMatchObject({
      code: 'no-audio',
      message: '"screen.mp4" is a video without any sound track.',
      detail: 'Output file #0 does not contain any stream',
    });
    expect(classifyFfmpegFailure({ ...base, log: WAV_8CH, exitCode: 0, outputBytes: 0 })?.code).toBe('no-audio');
  });
  it('decode-failed for a missing decoder and unknown failures', () => {
    expect(classifyFfmpegFailure({ ...base, log: NO_DECODER, name: 'x.caf' })).toMatchObject({
      code: 'decode-failed',
      message: `The audio format of "x.caf" (exotic) isn't supported.`,
    });
    expect(classifyFfmpegFailure({ ...base, log: 'Cannot allocate memory' })?.code).toBe('decode-failed');
  });
});

describe('errors across comlink', () => {
  it('a thrown Error loses `code`; a thrown payload object survives and rehydrates', async () => {
    const { port1, port2 } = new MessageChannel();
    const api: { throwError(): void; throwPayload(): void } = {
      throwError() {
        throw Object.assign(new Error('boom'), { code: 'not-media' });
      },
      throwPayload() {
        throw mediaErrorPayload('no-audio', '"a.mp4" has no audio track.', 'Output file #0 does not contain any stream');
      },
    };
    Comlink.expose(api, port1 as unknown as Comlink.Endpoint);
    const remote = Comlink.wrap<typeof api>(port2 as unknown as Comlink.Endpoint);
    try {
      const e1 = await remote.throwError().then(() => null, (e: unknown) => e);
      expect(e1).toBeInstanceOf(Error);
      expect((e1 as Error).message).toBe('boom');
      expect((e1 as { code?: string }).code).toBeUndefined();

      const e2 = await remote.throwPayload().then(() => null, (e: unknown) => e);
      expect(isMediaErrorPayload(e2)).toBe(true);
      const err = toMediaDecodeError(e2);
      expect(err).toBeInstanceOf(MediaDecodeError);
      expect(err).toMatchObject({ name: 'MediaDecodeError', code: 'no-audio', message: '"a.mp4" has no audio track.' });
    } finally {
      remote[Comlink.releaseProxy]();
      port1.close();
      port2.close();
    }
  });
});

// The same classifier on live logs of Debian's ffmpeg 5.1 over the generated fixtures.
const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0 && spawnSync('espeak-ng', ['--version']).status === 0;
describe.runIf(hasFfmpeg)('classifier on real ffmpeg logs of the fixtures', () => {
  type Fixture = { file: string; expectError: string | null; container: string | null; audioCodec: string | null; videoCodec: string | null; sampleRate: number | null; channels: number | null; hasVideo: boolean };
  let manifest: { fixtures: Fixture[] };
  beforeAll(async () => {
    manifest = await makeFixtures(DEFAULT_FIXTURES_DIR);
  });
  it('expected error codes and stream info', () => {
    for (const f of manifest.fixtures) {
      const path = join(DEFAULT_FIXTURES_DIR, f.file);
      const r = spawnSync('ffmpeg', ['-nostdin', '-i', path, '-vn', '-ac', '1', '-ar', '16000', '-c:a', 'pcm_f32le', '-f', 'f32le', '-y', '/dev/null'], { encoding: 'utf8' });
      const outputBytes = r.status === 0 ? 4 : 0; // /dev/null: success means samples were written
      const verdict = classifyFfmpegFailure({ log: r.stderr, exitCode: r.status ?? 1, inputBytes: statSync(path).size, outputBytes, name: f.file });
      expect(verdict?.code ?? null, f.file).toBe(f.expectError);
      if (!f.expectError) {
        const info = parseFfmpegLog(r.stderr);
        expect(info.container, f.file).toBe(f.container);
        expect(info.audio?.codec, f.file).toBe(f.audioCodec);
        expect(info.audio?.sampleRate, f.file).toBe(f.sampleRate);
        expect(info.audio?.channels, f.file).toBe(f.channels);
        expect(info.hasVideo, f.file).toBe(f.hasVideo);
        if (f.videoCodec) expect(info.video?.codec, f.file).toBe(f.videoCodec);
      }
    }
    expect(readFileSync(join(DEFAULT_FIXTURES_DIR, 'manifest.json'), 'utf8')).toContain('"canonical"');
  });
});

describe('classifyFfmpegFailure: text read as ANSI art, subtitles', () => {
  it('not-media for .txt opened by the tty demuxer and for subtitle-only files', () => {
    const tty = `Input #0, tty, from 'notes.txt':
  Duration: 00:00:00.16, start: 0.000000, bitrate: 38 kb/s
  Stream #0:0: Video: ansi, pal8, 640x400, 25 fps, 25 tbr, 25 tbn
Output #0, f32le, to '/dev/null':
Output file #0 does not contain any stream`;
    expect(classifyFfmpegFailure({ log: tty, exitCode: 1, inputBytes: 760, outputBytes: 0, name: 'notes.txt' })).toMatchObject({
      code: 'not-media',
      message: '"notes.txt" is a text file, not an audio or video file.',
    });
    const srt = `Input #0, srt, from 'a.srt':
  Duration: N/A, bitrate: N/A
  Stream #0:0: Subtitle: subrip
Output #0, f32le, to '/dev/null':
Output file #0 does not contain any stream`;
    expect(classifyFfmpegFailure({ log: srt, exitCode: 1, inputBytes: 100, outputBytes: 0 })?.code).toBe('not-media');
  });
});
