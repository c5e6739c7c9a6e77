// Paths of the generated test data (tools/prepare-test-data.ts): speech fixtures and tiny models.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, '.cache/fixtures');
export const MODELS = join(ROOT, '.cache/models');
export const TINY_ASR = join(MODELS, 'tiny-q4_0-s1.bin');
export const TINY_ALIGNER = join(MODELS, 'aligner-tiny-q4_0-s1.bin');

export interface FixtureInfo {
  name: string;
  file: string;
  container: string;
  hasVideo: boolean;
  expectError: string | null;
  durationSec: number;
  speech?: { start: number; end: number }[];
  ref?: string;
}

export function fixtures(): FixtureInfo[] {
  return JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')).fixtures;
}

export const fixturePath = (file: string) => join(FIXTURES, file);

export function readF32(file: string): Float32Array {
  const b = readFileSync(fixturePath(file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
