// Writes log-mel test cases computed by the float64 TypeScript reference (tools/reference/mel.ts)
// for the native engine test (wasm/tests/native/test_mel.cpp): .cache/mel-cases/<name>.pcm.f32
// (16 kHz input) and <name>.mel.f32 ([128][T] reference) plus index.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logMel } from './reference/mel';

export function makeMelCases(root: string): void {
  const dir = join(root, '.cache/mel-cases');
  mkdirSync(dir, { recursive: true });
  const b = readFileSync(join(root, '.cache/fixtures/canonical.wav.ref.f32'));
  const speechSrc = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const speech = (sec: number, off: number) => Float32Array.from({ length: Math.round(sec * 16000) }, (_, i) => speechSrc[(Math.round(off * 16000) + i) % speechSrc.length]);
  let s = 99;
  const noise = (sec: number) => Float32Array.from({ length: Math.round(sec * 16000) }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.5;
  });
  const cases: Record<string, Float32Array> = {
    'speech-0.3s': speech(0.3, 1.2), 'speech-1s': speech(1, 1.5), 'speech-17.3s': speech(17.3, 0.5),
    'noise-0.3s': noise(0.3), 'noise-1s': noise(1), 'noise-17.3s': noise(17.3),
  };
  const index: { name: string; samples: number; frames: number }[] = [];
  for (const [name, pcm] of Object.entries(cases)) {
    const ref = logMel(pcm);
    writeFileSync(join(dir, `${name}.pcm.f32`), Buffer.from(pcm.buffer));
    writeFileSync(join(dir, `${name}.mel.f32`), Buffer.from(Float32Array.from(ref.data).buffer));
    index.push({ name, samples: pcm.length, frames: ref.T });
  }
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index, null, 1));
}
