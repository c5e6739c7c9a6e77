import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Threads (SharedArrayBuffer) need a cross-origin isolated page: both servers send these headers on every
// response, worker scripts included (research/toolchain-notes.md §2, §6). Static hosts set them themselves.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative asset URLs: the built site works from any sub-path (e.g. a Hugging Face static Space).
  base: './',
  plugins: [svelte()],
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  // Keep these out of the dependency pre-bundler: their own workers/wasm are located relative to the module,
  // and excluding them avoids a "new dependency optimized, reloading" page reload mid-session.
  optimizeDeps: { exclude: ['@ffmpeg/ffmpeg', '@ffmpeg/util', 'onnxruntime-web'] },
  build: { target: 'es2022' },
});
