// Deterministic test audio for the engine tests: speech from the espeak-ng fixtures
// (tools/make-fixtures.mjs) and seeded noise.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './load-engine';

export const FIXTURES = join(ROOT, '.cache/fixtures');

/** The canonical fixture (EN speech, silence, ZH speech) as 16 kHz f32, decoded by Debian ffmpeg. */
export function canonicalSpeech(): Float32Array {
  const path = join(FIXTURES, 'canonical.wav.ref.f32');
  if (!existsSync(path)) throw new Error(`${path} is missing: run node tools/make-fixtures.mjs`);
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** `seconds` of speech, looping the canonical clip, starting `offsetSec` in. */
export function speech(seconds: number, offsetSec = 1): Float32Array {
  const src = canonicalSpeech();
  const n = Math.round(seconds * 16000);
  const out = new Float32Array(n);
  const start = Math.round(offsetSec * 16000);
  for (let i = 0; i < n; i++) out[i] = src[(start + i) % src.length];
  return out;
}

/** Seeded uniform noise in [-amp, amp]. */
export function noise(seconds: number, seed = 1, amp = 0.3): Float32Array {
  const n = Math.round(seconds * 16000);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * amp;
  }
  return out;
}
