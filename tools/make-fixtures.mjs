#!/usr/bin/env node
// Test fixtures for the media decoder and the VAD, generated with Debian's espeak-ng and ffmpeg.
//
//   node tools/make-fixtures.mjs [dir]        (default dir: <repo>/.cache/fixtures, git-ignored)
//   import { makeFixtures } from './tools/make-fixtures.mjs'; const manifest = await makeFixtures();
//
// Idempotent: if `manifest.json` in `dir` has the current FIXTURES_VERSION and every file it lists
// exists, nothing is done. Otherwise the whole set is rebuilt in a private temp folder and renamed
// into place file by file (manifest last), so concurrent runs (e.g. two vitest forks) are harmless.
//
// The canonical clip (16 kHz mono s16): 1 s silence + English speech + 2 s silence + Mandarin speech
// + 1 s silence. Each utterance is the espeak-ng output trimmed to its first/last non-silent sample,
// so the speech boundaries are known from construction (manifest.canonical.utterances, seconds).
// Every container variant comes with `<file>.ref.f32`: Debian ffmpeg's
// `-vn -ac 1 -ar 16000 -f f32le` decode of it (ffmpeg.wasm 0.12 = FFmpeg 5.1, same as Debian's).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile, rename, rm, mkdtemp, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bump when the generated set changes; a different version in manifest.json forces a rebuild. */
export const FIXTURES_VERSION = 1;

export const DEFAULT_FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../.cache/fixtures');

const SR = 16000;
const EN_TEXT = 'The quick brown fox jumps over the lazy dog. Speech recognition in the browser.';
const ZH_TEXT = '今天天气很好，我们去公园散步。';
const LEAD_SILENCE = 1;
const MID_SILENCE = 2;
const TAIL_SILENCE = 1;
/** |sample| above this (on the 16 kHz float signal) counts as "not silence" when trimming espeak output. */
const TRIM_LEVEL = 1e-3;

function run(cmd, args, { input } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => {
      reject(new Error(`cannot run ${cmd}: ${e.message} (is it installed? apt-get install espeak-ng ffmpeg)`));
    });
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolvePromise({ stdout: Buffer.concat(out), stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${stderr.slice(-2000)}`));
    });
    if (input) child.stdin.end(input);
    else child.stdin.end();
  });
}

const ffmpeg = (args) => run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args]);

/** Decode any file to 16 kHz mono float32 (the exact command the app's worker mirrors). */
async function decodeToF32(inputPath, outPath) {
  await ffmpeg(['-i', inputPath, '-vn', '-ac', '1', '-ar', String(SR), '-f', 'f32le', '-c:a', 'pcm_f32le', outPath]);
}

async function readF32(path) {
  const buf = await readFile(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function wavS16Mono(samples, sampleRate) {
  const dataBytes = samples.length * 2;
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]));
    b.writeInt16LE(Math.round(v * 32767), 44 + i * 2);
  }
  return b;
}

function trimSilence(x) {
  let a = 0;
  while (a < x.length && Math.abs(x[a]) <= TRIM_LEVEL) a++;
  let b = x.length;
  while (b > a && Math.abs(x[b - 1]) <= TRIM_LEVEL) b--;
  return x.subarray(a, b);
}

/** Deterministic bytes (xorshift32), so `random.mp3` is the same on every machine. */
function pseudoRandomBytes(n, seed = 0x9e3779b9) {
  const out = Buffer.alloc(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

async function hasEncoder(name) {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-encoders']);
  return new RegExp(`^\\s*\\S+\\s+${name}\\s`, 'm').test(stdout.toString());
}

async function pool(tasks, limit) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) {
      const t = tasks[next++];
      await t();
    }
  });
  await Promise.all(workers);
}

async function manifestIsComplete(dir) {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return null;
  try {
    const m = JSON.parse(await readFile(path, 'utf8'));
    // A different version, or a manifest written for another folder layout, means rebuild.
    if (m.version !== FIXTURES_VERSION) return null;
    for (const f of m.fixtures) {
      if (!existsSync(join(dir, f.file))) return null;
      if (f.ref && !existsSync(join(dir, f.ref))) return null;
    }
    for (const extra of Object.values(m.files ?? {})) if (!existsSync(join(dir, extra))) return null;
    return m;
  } catch {
    return null;
  }
}

/**
 * Build (if needed) the fixture set in `dir` and return the manifest object.
 * @param {string} [dir]
 * @param {{ force?: boolean, log?: (msg: string) => void }} [options]
 */
export async function makeFixtures(dir = DEFAULT_FIXTURES_DIR, { force = false, log = () => {} } = {}) {
  dir = resolve(dir);
  if (!force) {
    const existing = await manifestIsComplete(dir);
    if (existing) {
      log(`fixtures up to date in ${dir}`);
      return existing;
    }
  }
  const t0 = Date.now();
  await mkdir(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, '.tmp-'));
  try {
    const manifest = await generate(tmp, log);
    // Move everything into place; manifest last so a reader never sees a manifest without its files.
    const names = [...Object.values(manifest.files), ...manifest.fixtures.flatMap((f) => (f.ref ? [f.file, f.ref] : [f.file]))];
    for (const name of new Set(names)) await rename(join(tmp, name), join(dir, name));
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    await rename(join(tmp, 'manifest.json'), join(dir, 'manifest.json'));
    log(`fixtures written to ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return manifest;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function generate(tmp, log) {
  // 1. Speech from espeak-ng, resampled to 16 kHz mono float by ffmpeg, trimmed.
  await Promise.all([
    run('espeak-ng', ['-v', 'en', '-w', join(tmp, 'en-raw.wav'), EN_TEXT]),
    run('espeak-ng', ['-v', 'cmn', '-w', join(tmp, 'zh-raw.wav'), ZH_TEXT]),
  ]);
  await Promise.all([
    decodeToF32(join(tmp, 'en-raw.wav'), join(tmp, 'en-raw.f32')),
    decodeToF32(join(tmp, 'zh-raw.wav'), join(tmp, 'zh-raw.f32')),
  ]);
  const en = trimSilence(await readF32(join(tmp, 'en-raw.f32')));
  const zh = trimSilence(await readF32(join(tmp, 'zh-raw.f32')));
  for (const f of ['en-raw.wav', 'zh-raw.wav', 'en-raw.f32', 'zh-raw.f32']) await rm(join(tmp, f));

  // 2. The canonical clip.
  const lead = LEAD_SILENCE * SR;
  const mid = MID_SILENCE * SR;
  const tail = TAIL_SILENCE * SR;
  const total = lead + en.length + mid + zh.length + tail;
  const canon = new Float32Array(total);
  canon.set(en, lead);
  canon.set(zh, lead + en.length + mid);
  await writeFile(join(tmp, 'canonical.wav'), wavS16Mono(canon, SR));
  await writeFile(join(tmp, 'en-speech.wav'), wavS16Mono(en, SR));
  await writeFile(join(tmp, 'zh-speech.wav'), wavS16Mono(zh, SR));
  const durationSec = total / SR;
  const utterances = [
    { lang: 'en', text: EN_TEXT, start: lead / SR, end: (lead + en.length) / SR },
    { lang: 'zh', text: ZH_TEXT, start: (lead + en.length + mid) / SR, end: (lead + en.length + mid + zh.length) / SR },
  ];
  const silences = [
    { start: 0, end: utterances[0].start },
    { start: utterances[0].end, end: utterances[1].start },
    { start: utterances[1].end, end: durationSec },
  ];

  // 3. Container variants of the canonical clip, and the edge cases.
  const x264 = await hasEncoder('libx264');
  const h264Args = x264 ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'] : ['-c:v', 'mpeg4', '-q:v', '10'];
  const h264Name = x264 ? 'h264' : 'mpeg4';
  const canonIn = ['-i', join(tmp, 'canonical.wav')];
  const testVideo = (extra = '') => ['-f', 'lavfi', '-i', `testsrc=size=64x64:rate=10${extra}`];
  const shortest = ['-shortest'];

  /** @type {Array<{file: string, args: string[] | null, write?: () => Promise<void>, meta: object}>} */
  const specs = [
    { file: 'canonical.wav', args: null, meta: { container: 'wav', audioCodec: 'pcm_s16le', sampleRate: 16000, channels: 1, hasVideo: false } },
    { file: 'canonical-44k-stereo.wav', args: [...canonIn, '-ar', '44100', '-ac', '2', '-c:a', 'pcm_s16le'], meta: { container: 'wav', audioCodec: 'pcm_s16le', sampleRate: 44100, channels: 2, hasVideo: false } },
    { file: 'canonical.mp3', args: [...canonIn, '-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k'], meta: { container: 'mp3', audioCodec: 'mp3', sampleRate: 44100, channels: 2, hasVideo: false } },
    { file: 'canonical.m4a', args: [...canonIn, '-ar', '44100', '-ac', '2', '-c:a', 'aac', '-b:a', '128k'], meta: { container: 'mov,mp4,m4a,3gp,3g2,mj2', audioCodec: 'aac', sampleRate: 44100, channels: 2, hasVideo: false } },
    { file: 'canonical.opus.ogg', args: [...canonIn, '-ar', '48000', '-ac', '2', '-c:a', 'libopus', '-b:a', '64k'], meta: { container: 'ogg', audioCodec: 'opus', sampleRate: 48000, channels: 2, hasVideo: false } },
    { file: 'canonical.vorbis.ogg', args: [...canonIn, '-ar', '44100', '-ac', '2', '-c:a', 'libvorbis', '-q:a', '4'], meta: { container: 'ogg', audioCodec: 'vorbis', sampleRate: 44100, channels: 2, hasVideo: false } },
    { file: 'canonical.flac', args: [...canonIn, '-ar', '48000', '-ac', '2', '-c:a', 'flac', '-sample_fmt', 's32'], meta: { container: 'flac', audioCodec: 'flac', sampleRate: 48000, channels: 2, hasVideo: false } },
    { file: 'canonical.webm', args: [...testVideo(), ...canonIn, '-map', '0:v', '-map', '1:a', '-c:v', 'libvpx', '-b:v', '50k', '-deadline', 'realtime', '-cpu-used', '8', '-ar', '48000', '-ac', '2', '-c:a', 'libopus', '-b:a', '64k', ...shortest], meta: { container: 'matroska,webm', audioCodec: 'opus', videoCodec: 'vp8', sampleRate: 48000, channels: 2, hasVideo: true } },
    { file: 'canonical.mp4', args: [...testVideo(), ...canonIn, '-map', '0:v', '-map', '1:a', ...h264Args, '-ar', '44100', '-ac', '2', '-c:a', 'aac', '-b:a', '128k', ...shortest], meta: { container: 'mov,mp4,m4a,3gp,3g2,mj2', audioCodec: 'aac', videoCodec: h264Name, sampleRate: 44100, channels: 2, hasVideo: true } },
    { file: 'canonical.mkv', args: [...testVideo(), ...canonIn, '-map', '0:v', '-map', '1:a', ...h264Args, '-ar', '48000', '-ac', '2', '-c:a', 'ac3', '-b:a', '192k', ...shortest], meta: { container: 'matroska,webm', audioCodec: 'ac3', videoCodec: h264Name, sampleRate: 48000, channels: 2, hasVideo: true } },
    { file: 'multichannel-8ch-96k.wav', args: [...canonIn, '-af', 'pan=7.1|FL=0.15*c0|FR=0.15*c0|FC=0.5*c0|LFE=0*c0|BL=0.05*c0|BR=0.05*c0|SL=0.05*c0|SR=0.05*c0', '-ar', '96000', '-c:a', 'pcm_s24le'], meta: { container: 'wav', audioCodec: 'pcm_s24le', sampleRate: 96000, channels: 8, hasVideo: false } },
  ];
  const canonicalSpecs = specs.map((s) => s.file);
  specs.push(
    { file: 'short-0.2s.wav', args: ['-i', join(tmp, 'en-speech.wav'), '-ss', '0.5', '-t', '0.2', '-c:a', 'pcm_s16le'], meta: { container: 'wav', audioCodec: 'pcm_s16le', sampleRate: 16000, channels: 1, hasVideo: false, durationSec: 0.2 } },
    { file: 'silence-10s.wav', args: ['-f', 'lavfi', '-i', `anullsrc=r=${SR}:cl=mono`, '-t', '10', '-c:a', 'pcm_s16le'], meta: { container: 'wav', audioCodec: 'pcm_s16le', sampleRate: 16000, channels: 1, hasVideo: false, durationSec: 10, speech: [] } },
    { file: 'video-no-audio.mp4', args: [...testVideo(), '-t', '2', ...h264Args], meta: { container: 'mov,mp4,m4a,3gp,3g2,mj2', videoCodec: h264Name, hasVideo: true, expectError: 'no-audio' } },
    { file: 'image.png', args: [...testVideo(), '-frames:v', '1'], meta: { container: 'png_pipe', videoCodec: 'png', hasVideo: false, expectError: 'not-media' } },
    { file: 'empty.mp3', write: () => writeFile(join(tmp, 'empty.mp3'), Buffer.alloc(0)), meta: { expectError: 'empty-file' } },
    { file: 'random.mp3', write: () => writeFile(join(tmp, 'random.mp3'), pseudoRandomBytes(1 << 20)), meta: { expectError: 'not-media' } },
    { file: 'notes.txt', write: () => writeFile(join(tmp, 'notes.txt'), 'This is a plain text file, not audio.\n'.repeat(20)), meta: { expectError: 'not-media' } },
  );

  await pool(
    specs.map((s) => async () => {
      if (s.write) await s.write();
      else if (s.args) await ffmpeg([...s.args, join(tmp, s.file)]);
      if (!s.meta.expectError) await decodeToF32(join(tmp, s.file), join(tmp, `${s.file}.ref.f32`));
    }),
    4,
  );

  const fixtures = [];
  for (const s of specs) {
    const size = (await stat(join(tmp, s.file))).size;
    const entry = {
      name: s.file,
      file: s.file,
      bytes: size,
      kind: s.meta.expectError ? 'error' : canonicalSpecs.includes(s.file) ? 'canonical' : 'edge',
      container: null,
      audioCodec: null,
      videoCodec: null,
      sampleRate: null,
      channels: null,
      hasVideo: false,
      expectError: null,
      ref: null,
      refSamples: null,
      refPeak: null,
      durationSec: null,
      speech: null,
      ...s.meta,
    };
    if (!s.meta.expectError) {
      const refBytes = (await stat(join(tmp, `${s.file}.ref.f32`))).size;
      entry.ref = `${s.file}.ref.f32`;
      entry.refSamples = refBytes / 4;
      const ref = await readF32(join(tmp, entry.ref));
      let peak = 0;
      for (let i = 0; i < ref.length; i++) peak = Math.max(peak, Math.abs(ref[i]));
      entry.refPeak = Math.round(peak * 1e4) / 1e4;
      entry.durationSec = entry.durationSec ?? entry.refSamples / SR;
      if (entry.kind === 'canonical') entry.speech = utterances.map(({ start, end }) => ({ start, end }));
      else if (s.file === 'short-0.2s.wav') entry.speech = null; // 0.2 s cut from mid-speech: too short to assert on
    }
    fixtures.push(entry);
  }
  log(`generated ${fixtures.length} fixtures`);
  return {
    version: FIXTURES_VERSION,
    generator: 'tools/make-fixtures.mjs',
    sampleRate: SR,
    canonical: {
      file: 'canonical.wav',
      ref: 'canonical.wav.ref.f32',
      durationSec,
      samples: total,
      utterances,
      silences,
      note: 'AAC (m4a, mp4) and AC-3 (mkv) refs are up to ~0.03 s longer than the wav (codec frame padding); mkv starts 85 samples (5 ms) late; speech boundaries hold within 0.01 s for every variant.',
    },
    files: { enSpeech: 'en-speech.wav', zhSpeech: 'zh-speech.wav' },
    fixtures,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const positional = args.filter((a) => !a.startsWith('--'));
  const dir = positional[0] ? resolve(positional[0]) : DEFAULT_FIXTURES_DIR;
  const force = args.includes('--force');
  makeFixtures(dir, { force, log: (m) => console.log(`[fixtures] ${m}`) }).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
