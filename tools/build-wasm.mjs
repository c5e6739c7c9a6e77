#!/usr/bin/env node
// Builds the C++ engine (wasm/src) from one source tree into:
//   public/wasm/engine-mt.{mjs,wasm,worker.js}  browser, SIMD128 + pthreads (needs cross-origin isolation)
//   public/wasm/engine-mt-relaxed.{mjs,wasm,worker.js}  the same with relaxed SIMD's i8 dot product
//                                               for q4_0 (kernels_simd128.cpp; picked when the browser has it)
//   public/wasm/engine-st.{mjs,wasm}            browser, SIMD128 single thread (also loads in Node)
//   build/wasm-node/engine-mt-node.cjs          Node, SIMD128 + pthreads (tests)       [--with-node]
//   build/wasm-node/engine-mt-relaxed-node.cjs  Node, the relaxed build (tests; needs
//                                               node --experimental-wasm-relaxed-simd)  [--with-node]
//   build/native/engine-tests, libqasr.a        native g++ (AVX2) tests and benchmarks  [--with-native]
//   build/native/engine-tests-asan              the native tests under ASan + UBSan     [--with-asan]
// Flags follow research/toolchain-notes.md §1. Objects are cached per variant by content hash.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const SRC = join(root, 'wasm/src');
const INCLUDE = join(root, 'wasm/include');
const TESTS = join(root, 'wasm/tests/native');
const OBJ = join(root, 'build/obj');
const JOBS = Math.max(1, cpus().length);

// emcc needs acorn from Debian's node-acorn for -O1+; set only for emcc (toolchain-notes §1).
// PATH without node_modules/.bin: under `npm run`, npm puts it first, and the binaryen package there
// (a devDependency, for tools/patch-relaxed-simd.mjs) has its own wasm-opt, which emcc then runs
// instead of Debian's: the glue and the module came out with different import names.
const PATH_WITHOUT_NPM_BIN = (process.env.PATH ?? '').split(':').filter((d) => !/node_modules[\\/]\.bin$/.test(d)).join(':');
const emccEnv = { ...process.env, PATH: PATH_WITHOUT_NPM_BIN, NODE_PATH: '/usr/share/nodejs' };

// -ffp-contract=off: no fused multiply-add behind our back (g++ contracts by default for C++), so
// the native and WASM builds round every product alike (kernels_avx2.cpp).
const CXX_COMMON = ['-std=c++17', '-O3', '-ffp-contract=off', '-Wall', '-Wextra', '-Wno-unused-parameter', `-I${SRC}`, `-I${INCLUDE}`];
const EM_LINK_COMMON = [
  '-O3', '-sMODULARIZE=1', '-sEXPORT_NAME=createEngine', '-sALLOW_MEMORY_GROWTH=1', '-sINITIAL_MEMORY=64MB',
  '-sMAXIMUM_MEMORY=4GB', '-sALLOW_TABLE_GROWTH=1', '-sTOTAL_STACK=8MB',
  '-sEXPORTED_FUNCTIONS=_malloc,_free',
  '-sEXPORTED_RUNTIME_METHODS=UTF8ToString,stringToUTF8,lengthBytesUTF8,addFunction,removeFunction,ccall,cwrap',
];
const MT = ['-pthread', '-Wno-pthreads-mem-growth'];
const RELAXED = ['-DQASR_RELAXED_SIMD'];
// Relaxed builds link with a stand-in instruction that this rewrites (the plain twin must not use it).
const patchRelaxed = (wasm, plainTwin) => run('node', [join(root, 'tools/patch-relaxed-simd.mjs'), join(root, wasm), join(root, plainTwin)], process.env);
// Native builds use AVX2 when this CPU has it (the comparison build of the benchmark); the scalar
// family otherwise, so the tests still run on any x86-64.
const hasAvx2 = (() => { try { return /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8')); } catch { return false; } })();
const NATIVE_CFLAGS = [hasAvx2 ? '-march=x86-64-v3' : '-march=x86-64-v2', '-pthread', '-g'];
const ASAN = ['-O1', '-g', '-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-fno-sanitize-recover=undefined'];

const VARIANTS = {
  'wasm-mt': {
    cc: 'em++', cflags: ['-msimd128', ...MT], env: emccEnv,
    link: (objs) => ['em++', [...objs, ...EM_LINK_COMMON, ...MT, '-msimd128', '-sEXPORT_ES6=1', '-sENVIRONMENT=web,worker',
      '-sPTHREAD_POOL_SIZE=Math.min(navigator.hardwareConcurrency||4,8)', '-sPTHREAD_POOL_SIZE_STRICT=2',
      '-o', join(root, 'public/wasm/engine-mt.mjs')]],
    outputs: ['public/wasm/engine-mt.mjs', 'public/wasm/engine-mt.wasm', 'public/wasm/engine-mt.worker.js'],
  },
  'wasm-mt-relaxed': {
    cc: 'em++', cflags: ['-msimd128', ...RELAXED, ...MT], env: emccEnv,
    link: (objs) => ['em++', [...objs, ...EM_LINK_COMMON, ...MT, '-msimd128', '-sEXPORT_ES6=1', '-sENVIRONMENT=web,worker',
      '-sPTHREAD_POOL_SIZE=Math.min(navigator.hardwareConcurrency||4,8)', '-sPTHREAD_POOL_SIZE_STRICT=2',
      '-o', join(root, 'public/wasm/engine-mt-relaxed.mjs')]],
    postLink: () => patchRelaxed('public/wasm/engine-mt-relaxed.wasm', 'public/wasm/engine-mt.wasm'),
    outputs: ['public/wasm/engine-mt-relaxed.mjs', 'public/wasm/engine-mt-relaxed.wasm', 'public/wasm/engine-mt-relaxed.worker.js'],
  },
  'wasm-st': {
    cc: 'em++', cflags: ['-msimd128'], env: emccEnv,
    link: (objs) => ['em++', [...objs, ...EM_LINK_COMMON, '-msimd128', '-sEXPORT_ES6=1', '-sENVIRONMENT=web,worker',
      '-o', join(root, 'public/wasm/engine-st.mjs')]],
    outputs: ['public/wasm/engine-st.mjs', 'public/wasm/engine-st.wasm'],
  },
  'wasm-node-mt': {
    cc: 'em++', cflags: ['-msimd128', ...MT], env: emccEnv, optional: '--with-node',
    link: (objs) => ['em++', [...objs, ...EM_LINK_COMMON, ...MT, '-msimd128', '-sENVIRONMENT=node',
      '-sPTHREAD_POOL_SIZE=4', '-sPTHREAD_POOL_SIZE_STRICT=2', '-o', join(root, 'build/wasm-node/engine-mt-node.cjs')]],
    outputs: ['build/wasm-node/engine-mt-node.cjs', 'build/wasm-node/engine-mt-node.wasm'],
    after: () => writeFileSync(join(root, 'build/wasm-node/package.json'), '{"type":"commonjs"}\n'),
  },
  'wasm-node-mt-relaxed': {
    cc: 'em++', cflags: ['-msimd128', ...RELAXED, ...MT], env: emccEnv, optional: '--with-node',
    link: (objs) => ['em++', [...objs, ...EM_LINK_COMMON, ...MT, '-msimd128', '-sENVIRONMENT=node',
      '-sPTHREAD_POOL_SIZE=4', '-sPTHREAD_POOL_SIZE_STRICT=2', '-o', join(root, 'build/wasm-node/engine-mt-relaxed-node.cjs')]],
    postLink: () => patchRelaxed('build/wasm-node/engine-mt-relaxed-node.wasm', 'build/wasm-node/engine-mt-node.wasm'),
    outputs: ['build/wasm-node/engine-mt-relaxed-node.cjs', 'build/wasm-node/engine-mt-relaxed-node.wasm'],
    after: () => writeFileSync(join(root, 'build/wasm-node/package.json'), '{"type":"commonjs"}\n'),
  },
  native: {
    cc: 'g++', cflags: NATIVE_CFLAGS, env: process.env, optional: '--with-native', withTests: true,
    link: (objs, testObjs) => ['g++', [...objs, ...testObjs, '-pthread', '-o', join(root, 'build/native/engine-tests')]],
    outputs: ['build/native/engine-tests'],
  },
  // The same sources and tests under AddressSanitizer + UndefinedBehaviorSanitizer (-O1 after the
  // common -O3 wins). Its flags differ, so its objects live in their own cache directory.
  'native-asan': {
    cc: 'g++', cflags: [...NATIVE_CFLAGS, ...ASAN], env: process.env, optional: '--with-asan', withTests: true,
    link: (objs, testObjs) => ['g++', [...objs, ...testObjs, '-pthread', ...ASAN, '-o', join(root, 'build/native/engine-tests-asan')]],
    outputs: ['build/native/engine-tests-asan'],
  },
  'native-bench': {
    cc: 'g++', cflags: NATIVE_CFLAGS, env: process.env, optional: '--with-bench', extra: [join(root, 'bench/engine_bench.cpp')],
    link: (objs, testObjs) => ['g++', [...objs, ...testObjs, '-pthread', '-o', join(root, 'build/native/engine-bench')]],
    outputs: ['build/native/engine-bench'],
  },
};

function run(cmd, argv, env) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

async function pool(tasks, n) {
  const queue = [...tasks];
  await Promise.all(Array.from({ length: Math.min(n, queue.length) }, async () => {
    while (queue.length) await queue.shift()();
  }));
}

const listCpp = (dir, filter = () => true) =>
  existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpp') && filter(f)).sort().map((f) => join(dir, f)) : [];
const headersHash = (() => {
  const h = createHash('sha256');
  for (const dir of [SRC, INCLUDE, TESTS]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (/\.(h|inc)$/.test(f)) h.update(f).update(readFileSync(join(dir, f)));
    }
  }
  return h.digest('hex');
})();

async function compile(variant, name, file) {
  const v = VARIANTS[variant];
  const flags = [...CXX_COMMON, ...v.cflags];
  const key = createHash('sha256').update(readFileSync(file)).update(headersHash).update(flags.join(' ')).digest('hex').slice(0, 16);
  const dir = join(OBJ, variant);
  mkdirSync(dir, { recursive: true });
  // Objects are shared by variants with the same compiler and flags (native and native-bench).
  const objDir = join(OBJ, `${v.cc}-${createHash('sha256').update(flags.join(' ')).digest('hex').slice(0, 8)}`);
  mkdirSync(objDir, { recursive: true });
  const obj = join(objDir, `${basename(file, '.cpp')}.${key}.o`);
  if (!existsSync(obj)) await run(v.cc, [...flags, '-c', file, '-o', obj], v.env);
  return obj;
}

async function buildVariant(variant) {
  const v = VARIANTS[variant];
  const t0 = Date.now();
  const srcs = listCpp(SRC);
  const tests = v.withTests ? listCpp(TESTS, (f) => !f.startsWith('bench_')) : (v.extra ?? []);
  const objs = new Array(srcs.length);
  const testObjs = new Array(tests.length);
  await pool([
    ...srcs.map((f, i) => async () => { objs[i] = await compile(variant, variant, f); }),
    ...tests.map((f, i) => async () => { testObjs[i] = await compile(variant, variant, f); }),
  ], JOBS);
  const linkKey = createHash('sha256').update([...objs, ...testObjs].join('|')).digest('hex');
  const stamp = join(OBJ, variant, 'link.stamp');
  const upToDate = existsSync(stamp) && readFileSync(stamp, 'utf8') === linkKey && v.outputs.every((o) => existsSync(join(root, o)));
  if (!upToDate) {
    for (const o of v.outputs) mkdirSync(dirname(join(root, o)), { recursive: true });
    const [cmd, argv] = v.link(objs, testObjs);
    await run(cmd, argv, v.env);
    await v.postLink?.();
    writeFileSync(stamp, linkKey);
  }
  v.after?.();
  console.log(`[build-wasm] ${variant}: ${upToDate ? 'up to date' : 'built'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const selected = Object.keys(VARIANTS).filter((k) => !VARIANTS[k].optional || args.has(VARIANTS[k].optional) || args.has(`--only=${k}`));
const only = [...args].find((a) => a.startsWith('--only='));
const list = only ? [only.slice(7)] : selected;
for (const variant of list) await buildVariant(variant);
// A build id lets the page detect a stale cached engine next to a fresh glue file.
const id = createHash('sha256');
for (const f of ['engine-mt.wasm', 'engine-mt-relaxed.wasm', 'engine-st.wasm']) {
  const p = join(root, 'public/wasm', f);
  if (existsSync(p)) id.update(readFileSync(p));
}
mkdirSync(join(root, 'public/wasm'), { recursive: true });
writeFileSync(join(root, 'public/wasm/build.json'), JSON.stringify({ id: id.digest('hex').slice(0, 12) }) + '\n');
