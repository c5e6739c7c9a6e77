#!/usr/bin/env node
// Runs the native engine test binary built by `node tools/build-wasm.mjs --with-native`,
// pointing it at the generated test data (.cache/). With --asan: the ASan/UBSan build of
// `node tools/build-wasm.mjs --with-asan` (build/native/engine-tests-asan). Other arguments are
// passed on (a test-name filter).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asan = process.argv.includes('--asan');
const rest = process.argv.slice(2).filter((a) => a !== '--asan');
const name = asan ? 'engine-tests-asan' : 'engine-tests';
const bin = join(root, 'build/native', name);
if (!existsSync(bin)) {
  console.error(`build/native/${name} is missing: run \`node tools/build-wasm.mjs ${asan ? '--with-asan' : '--with-native'}\` first`);
  process.exit(1);
}
const env = { ...process.env };
if (asan) {
  // Stop at the first report; leaks are errors too.
  env.ASAN_OPTIONS ??= 'halt_on_error=1:detect_leaks=1';
  env.UBSAN_OPTIONS ??= 'print_stacktrace=1:halt_on_error=1';
}
const t0 = Date.now();
const r = spawnSync(bin, ['--data', join(root, '.cache'), ...rest], { stdio: 'inherit', env });
if (asan) console.log(`[run-native-tests] ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (r.signal) console.error(`${name} was killed by ${r.signal}`);
process.exit(r.status ?? 1);
