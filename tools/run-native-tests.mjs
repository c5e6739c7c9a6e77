#!/usr/bin/env node
// Runs the native engine test binary built by `node tools/build-wasm.mjs --with-native`,
// pointing it at the generated test data (.cache/).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'build/native/engine-tests');
if (!existsSync(bin)) {
  console.error('build/native/engine-tests is missing: run `node tools/build-wasm.mjs --with-native` first');
  process.exit(1);
}
const r = spawnSync(bin, ['--data', join(root, '.cache'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
