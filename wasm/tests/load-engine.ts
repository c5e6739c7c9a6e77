// Loads the engine's WASM builds in Node for tests (research/toolchain-notes.md §3): the browser
// single-thread build with the bytes passed in (its loader would try fetch), and the Node pthreads
// build (CommonJS, next to a {"type":"commonjs"} package.json).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EngineBinding, type EngineModule } from '../../src/lib/engine-binding';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export type Variant = 'st' | 'mt-node';

export function variantAvailable(v: Variant): boolean {
  return existsSync(v === 'st' ? join(ROOT, 'public/wasm/engine-st.wasm') : join(ROOT, 'build/wasm-node/engine-mt-node.wasm'));
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
  const create = require(join(ROOT, 'build/wasm-node/engine-mt-node.cjs'));
  const M: EngineModule = await create({ ...quiet, wasmBinary: readFileSync(join(ROOT, 'build/wasm-node/engine-mt-node.wasm')) });
  return new EngineBinding(M);
}

/** Lets the Node process exit: pthread workers keep it alive otherwise. */
export function shutdownEngine(b: EngineBinding): void {
  b.M.PThread?.terminateAllThreads?.();
}
