import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'workers/**/*.test.ts', 'tools/**/*.test.ts', 'wasm/tests/**/*.test.ts'],
    pool: 'forks',
    // Node 20's V8 has relaxed SIMD behind a flag (the relaxed engine build's tests need it).
    execArgv: ['--experimental-wasm-relaxed-simd'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
