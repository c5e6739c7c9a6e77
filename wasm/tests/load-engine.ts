// Loads the engine's WASM builds in Node for tests (research/toolchain-notes.md §3): the browser
// single-thread build with the bytes passed in (its loader would try fetch), and the Node pthreads
// build (CommonJS, next to a {"type":"commonjs"} package.json), and its relaxed-SIMD twin (runs only
// where V8 has relaxed SIMD: vitest.config.ts passes --experimental-wasm-relaxed-simd to Node 20).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EngineBinding, type EngineModule } from '../../src/lib/engine-binding';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export type Variant = 'st' | 'mt-node' | 'mt-relaxed-node';

const NODE_BUILDS = { 'mt-node': 'engine-mt-node', 'mt-relaxed-node': 'engine-mt-relaxed-node' } as const;

/** Whether this Node runs relaxed SIMD: a module with one i16x8.relaxed_dot_i8x16_i7x16_s validates. */
export function relaxedSimdSupported(): boolean {
  const probe = [0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 123, 123, 1, 123, 3, 2, 1, 0, 10, 11, 1, 9, 0, 32, 0, 32, 1, 253, 146, 2, 11];
  return WebAssembly.validate(new Uint8Array(probe));
}

export function variantAvailable(v: Variant): boolean {
  if (v === 'st') return existsSync(join(ROOT, 'public/wasm/engine-st.wasm'));
  return existsSync(join(ROOT, `build/wasm-node/${NODE_BUILDS[v]}.wasm`)) && (v !== 'mt-relaxed-node' || relaxedSimdSupported());
}

export async function loadEngine(v: Variant): Promise<EngineBinding> {
  const quiet = { print: () => undefined, printErr: () => undefined };
  if (v === 'st') {
    const glue = pathToFileURL(join(ROOT, 'public/wasm/engine-st.mjs')).href;
    const { default: create } = await import(glue);
    const M: EngineModule = await create({ ...quiet, wasmBinary: readFileSync(join(ROOT, 'public/wasm/engine-st.wasm')) });
    return new EngineBinding(M);
  }
  const require = createRequire(import.meta.url);
  const base = join(ROOT, 'build/wasm-node', NODE_BUILDS[v]);
  const create = require(base + '.cjs');
  const M: EngineModule = await create({ ...quiet, wasmBinary: readFileSync(base + '.wasm') });
  return new EngineBinding(M);
}

/** Lets the Node process exit: pthread workers keep it alive otherwise. */
export function shutdownEngine(b: EngineBinding): void {
  b.M.PThread?.terminateAllThreads?.();
}
