#!/usr/bin/env node
// A long recording for the long-file e2e (e2e/ship-long.spec.ts): `.cache/fixtures/long-3h.mp3`,
// 3 hours of espeak-ng speech and silences, 16 kHz mono MP3 at 24 kb/s (~32 MB), made with Debian's
// espeak-ng and ffmpeg.
//
//   node tools/make-long-fixture.mjs [--hours 3] [--dir <dir>] [--force]
//   import { makeLongFixture } from './tools/make-long-fixture.mjs'; const info = await makeLongFixture();
//
// How: a 6-minute block is built sample by sample at 16 kHz (utterances trimmed to their first/last
// non-silent sample, separated by pauses from 0.3 s to 45 s, one stretch of ~50 s of speech with only
// short pauses so the chunker must cut inside speech), written as a WAV, and ffmpeg loops it
// (`-stream_loop`) into one MP3 encode. The block's speech spans are known from construction and are
// written to `long-3h.json` (times within a block; block k starts at k × blockSec).
//
// Idempotent: nothing is done when `long-3h.json` has the current version and the MP3 has the size it
// records. Files are written to a temp folder and renamed into place (JSON last).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LONG_FIXTURE_VERSION = 2;
export const DEFAULT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../.cache/fixtures');

const SR = 16000;
const BLOCK_SEC = 360;
const TRIM_LEVEL = 1e-3;

const SENTENCES = [
  ['en', 'Long recordings are decoded one window at a time, so the memory they need stays small.'],
  ['en', 'Every window is searched for speech before it is cut into chunks.'],
  ['en', 'The transcript grows while the rest of the file is still being read.'],
  ['en', 'Nothing in this recording ever leaves the computer it is played on.'],
  ['cmn', '长录音按窗口逐段解码，内存保持很小。'],
  ['en', 'A pause of a few seconds ends a chunk; a short breath does not.'],
  ['en', 'Numbers like twenty three and four hundred are spoken as words here.'],
  ['cmn', '今天我们测试三个小时的录音。'],
];

/**
 * The block: `u<i>` is utterance i, a number is a silence in seconds. Between 0.3 s and 45 s; the
 * run from "r" to "/r" has only short pauses (continuous speech longer than a 30 s chunk).
 */
const LAYOUT = [
  1.0, 'u0', 0.6, 'u1', 4, 'u2', 0.3, 'u3', 12, 'u4', 2, 'u5', 1.2, 'u6', 45,
  'r', 'u0', 0.2, 'u1', 0.2, 'u2', 0.2, 'u3', 0.2, 'u5', 0.2, 'u6', 0.2, 'u7', 0.2, 'u1', '/r', 6,
  'u7', 3, 'u2', 0.5, 'u4', 20, 'u3', 0.8, 'u0', 8, 'u6', 2.5, 'u5', 30, 'u1', 0.4, 'u2', 0.4, 'u7', 5,
  'u2', 0.5, 'u3', 1, 'u4', 0.7, 'u5', 3.5, 'u6', 0.3, 'u7', 1, 'u0', 0.5, 'u1', 2, 'u2', 0.6,
  'u3', 0.9, 'u4', 4, 'u5', 0.4, 'u6', 0.6, 'u7', 1.5, 'u0', 0.3, 'u1', 0.8, 'u2', 0.5, 'u3', 2,
];

function run(cmd, args, { input } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message} (apt-get install espeak-ng ffmpeg)`)));
    child.on('close', (code) => {
      if (code === 0) resolvePromise(Buffer.concat(out));
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${Buffer.concat(err).toString().slice(-2000)}`));
    });
    child.stdin.end(input ?? undefined);
  });
}

/** espeak-ng → 16 kHz mono float32, trimmed to the first/last non-silent sample. */
async function speak(lang, text) {
  const wav = await run('espeak-ng', ['-v', lang, '-s', '165', '--stdout', text]);
  const raw = await run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', 'pipe:0', '-ac', '1', '-ar', String(SR), '-f', 'f32le', 'pipe:1'], { input: wav });
  const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let a = 0;
  while (a < x.length && Math.abs(x[a]) <= TRIM_LEVEL) a++;
  let b = x.length;
  while (b > a && Math.abs(x[b - 1]) <= TRIM_LEVEL) b--;
  return x.slice(a, b);
}

function wavS16(samples) {
  const b = Buffer.alloc(44 + samples.length * 2);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + samples.length * 2, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(SR, 24);
  b.writeUInt32LE(SR * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), 44 + i * 2);
  return b;
}

async function buildBlock() {
  const utterances = [];
  for (const [lang, text] of SENTENCES) utterances.push(await speak(lang, text));
  const block = new Float32Array(BLOCK_SEC * SR);
  const speech = [];
  let pos = 0;
  for (const item of LAYOUT) {
    if (typeof item === 'number') {
      pos += Math.round(item * SR);
    } else if (item.startsWith('u')) {
      const u = utterances[Number(item.slice(1))];
      if (pos + u.length > block.length) throw new Error('the block layout does not fit in the block');
      block.set(u, pos);
      speech.push({ start: pos / SR, end: (pos + u.length) / SR });
      pos += u.length;
    }
  }
  if (pos > block.length) throw new Error(`the block layout is ${pos / SR} s, more than ${BLOCK_SEC} s`);
  return { block, speech };
}

async function current(dir, name) {
  const json = join(dir, `${name}.json`);
  if (!existsSync(json)) return null;
  try {
    const info = JSON.parse(await readFile(json, 'utf8'));
    if (info.version !== LONG_FIXTURE_VERSION) return null;
    const s = await stat(join(dir, info.file));
    return s.size === info.bytes ? info : null;
  } catch {
    return null;
  }
}

/**
 * Makes (if needed) the long fixture and returns its description:
 * `{ version, file, path, bytes, durationSec, blockSec, blocks, speech: [{start, end}] (per block), speechSecPerBlock }`.
 * @param {{ hours?: number, dir?: string, force?: boolean, log?: (m: string) => void }} [options]
 */
export async function makeLongFixture(options = {}) {
  const hours = options.hours ?? 3;
  const dir = options.dir ?? DEFAULT_DIR;
  const log = options.log ?? (() => {});
  const blocks = Math.round((hours * 3600) / BLOCK_SEC);
  if (blocks < 1) throw new Error('at least one 6-minute block');
  const name = hours === 3 ? 'long-3h' : `long-${blocks * BLOCK_SEC}s`;
  if (!options.force) {
    const have = await current(dir, name);
    if (have) return { ...have, path: join(dir, have.file) };
  }
  await mkdir(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, '.long-'));
  try {
    const t0 = Date.now();
    const { block, speech } = await buildBlock();
    await writeFile(join(tmp, 'block.wav'), wavS16(block));
    const file = `${name}.mp3`;
    log(`[long-fixture] encoding ${blocks} × ${BLOCK_SEC} s into ${file} …`);
    await run('ffmpeg', [
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
      '-stream_loop', String(blocks - 1), '-i', join(tmp, 'block.wav'),
      '-ac', '1', '-ar', String(SR), '-c:a', 'libmp3lame', '-b:a', '24k', '-compression_level', '9',
      join(tmp, file),
    ]);
    const bytes = (await stat(join(tmp, file))).size;
    const info = {
      version: LONG_FIXTURE_VERSION,
      generator: 'tools/make-long-fixture.mjs',
      file,
      bytes,
      durationSec: blocks * BLOCK_SEC,
      blockSec: BLOCK_SEC,
      blocks,
      speech,
      speechSecPerBlock: speech.reduce((s, x) => s + x.end - x.start, 0),
    };
    await rename(join(tmp, file), join(dir, file));
    await writeFile(join(tmp, `${name}.json`), JSON.stringify(info, null, 1));
    await rename(join(tmp, `${name}.json`), join(dir, `${name}.json`));
    log(`[long-fixture] ${file}: ${(bytes / 1e6).toFixed(1)} MB, ${info.durationSec} s, made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { ...info, path: join(dir, file) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (k) => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1] : undefined;
  };
  // No top-level await: the module is also require()d (Playwright loads CommonJS specs that import it).
  makeLongFixture({
    hours: opt('--hours') ? Number(opt('--hours')) : undefined,
    dir: opt('--dir'),
    force: args.includes('--force'),
    log: (m) => console.log(m),
  }).then(
    (info) => console.log(JSON.stringify({ file: info.path, bytes: info.bytes, durationSec: info.durationSec, speechSecPerBlock: info.speechSecPerBlock.toFixed(1) })),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    },
  );
}
