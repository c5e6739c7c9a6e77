import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { defineConfig, type Plugin, type ResolvedConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Threads (SharedArrayBuffer) need a cross-origin isolated page: both servers send these headers on every
// response, worker scripts included (research/toolchain-notes.md §2, §6). Static hosts set them themselves,
// or public/sw.js adds them (hosts that cannot send headers).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const ROOT = import.meta.dirname;

/**
 * Where the page may connect to: our own origin, the hosts of the models in models-manifest.json (for
 * huggingface.co also its download CDNs, which `/resolve/` redirects to), and loopback (a model mirror
 * or test host on the user's own machine: `?models=http://127.0.0.1:8000/`). `QASR_CONNECT_SRC` (space
 * separated origins) adds more at build time, e.g. a company mirror.
 */
function modelHosts(): string[] {
  const hosts = new Set<string>();
  try {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'models-manifest.json'), 'utf8')) as { models?: { url?: string }[] };
    for (const m of manifest.models ?? []) {
      if (!m.url) continue;
      const u = new URL(m.url);
      hosts.add(u.origin);
      if (u.hostname === 'huggingface.co' || u.hostname.endsWith('.huggingface.co') || u.hostname.endsWith('.hf.co')) {
        // /resolve/ answers with a redirect to the LFS / Xet CDNs; CSP checks every hop.
        hosts.add('https://*.huggingface.co');
        hosts.add('https://*.hf.co');
      }
    }
  } catch {
    // No manifest yet: the published host.
    hosts.add('https://huggingface.co');
    hosts.add('https://*.huggingface.co');
    hosts.add('https://*.hf.co');
  }
  for (const extra of (process.env.QASR_CONNECT_SRC ?? '').split(/\s+/).filter(Boolean)) hosts.add(extra);
  return [...hosts];
}

/** sha256 sources of the inline <script>s of index.html (the theme script), for script-src. */
function inlineScriptHashes(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
    out.push(`'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
  }
  return out;
}

/**
 * The Content-Security-Policy of the built app. Network access (connect-src) only to our origin, the
 * model hosts and loopback; scripts only from our origin (+ the hashed inline theme script) and
 * WebAssembly compilation ('wasm-unsafe-eval'); workers from our origin or blob:; no plugins, no
 * form posts, no <base> tricks. Styles allow 'unsafe-inline' (Svelte sets inline style attributes).
 */
export function contentSecurityPolicy(html = readFileSync(join(ROOT, 'index.html'), 'utf8')): string {
  return [
    `default-src 'self'`,
    `script-src 'self' 'wasm-unsafe-eval' ${inlineScriptHashes(html).join(' ')}`.trim(),
    `worker-src 'self' blob:`,
    `connect-src 'self' blob: data: ${modelHosts().join(' ')} http://127.0.0.1:* http://localhost:*`,
    `img-src 'self' data: blob:`,
    `media-src 'self' blob:`,
    `style-src 'self' 'unsafe-inline'`,
    `font-src 'self' data:`,
    `manifest-src 'self'`,
    `object-src 'none'`,
    `base-uri 'self'`,
    `form-action 'none'`,
  ].join('; ');
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/**
 * Build-time glue for shipping (issue "Ship it"):
 * - index.html gets the CSP as a <meta http-equiv> (static hosts that can't send headers), and
 *   modulepreload links for the worker entry chunks so they load in the first round of requests;
 * - dist/sw.js gets the build's version (a hash of every file), the list of files to precache and
 *   the CSP to add to same-origin responses (so worker scripts are covered too).
 */
function ship(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'qasr-ship',
    apply: 'build',
    configResolved(c) {
      config = c;
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const tags: { tag: string; attrs: Record<string, string>; injectTo: 'head' }[] = [];
        // Worker entry chunks (engine first: it starts with the page) are fetched alongside the app.
        const workers = Object.keys(ctx.bundle ?? {})
          .filter((f) => /(^|\/)(engine|media|vad)\.worker-[\w-]+\.js$/.test(f))
          .sort((a, b) => Number(b.includes('engine')) - Number(a.includes('engine')));
        for (const f of workers) tags.push({ tag: 'link', attrs: { rel: 'modulepreload', href: `${config.base}${f}` }, injectTo: 'head' });
        // The CSP right after <meta charset> (before every script it governs).
        const meta = `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(html).replace(/"/g, '&quot;')}" />`;
        const withCsp = html.replace(/(<meta charset="[^"]*"\s*\/?>)/i, `$1\n    ${meta}`);
        if (withCsp === html) throw new Error('index.html has no <meta charset>: the CSP meta goes right after it');
        return { html: withCsp, tags };
      },
    },
    closeBundle: {
      order: 'post',
      handler() {
        const out = resolve(config.root, config.build.outDir);
        const swPath = join(out, 'sw.js');
        let sw: string;
        try {
          sw = readFileSync(swPath, 'utf8');
        } catch {
          return; // no service worker in this build
        }
        const files: { path: string; hash: string; bytes: number }[] = [];
        for (const p of walk(out)) {
          const rel = relative(out, p).split(sep).join('/');
          if (rel === 'sw.js' || rel.endsWith('.map') || rel.endsWith('.LICENSE.txt')) continue;
          const data = readFileSync(p);
          files.push({ path: rel, hash: createHash('sha256').update(data).digest('hex').slice(0, 16), bytes: data.length });
        }
        files.sort((a, b) => (a.path < b.path ? -1 : 1));
        const version = createHash('sha256').update(files.map((f) => `${f.path}:${f.hash}`).join('\n')).digest('hex').slice(0, 12);
        const html = readFileSync(join(out, 'index.html'), 'utf8');
        const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1].replace(/&#39;/g, "'").replace(/&quot;/g, '"') ?? '';
        const build = {
          version,
          // Hashed names (assets/) never change content; the others are revalidated when precached.
          files: files.map((f) => f.path),
          bytes: files.reduce((s, f) => s + f.bytes, 0),
          csp,
        };
        const marked = /\/\*__QASR_BUILD__\*\/[\s\S]*?\/\*__QASR_BUILD_END__\*\//;
        if (!marked.test(sw)) throw new Error('public/sw.js lacks the /*__QASR_BUILD__*/ … /*__QASR_BUILD_END__*/ marker');
        writeFileSync(swPath, sw.replace(marked, `/*__QASR_BUILD__*/ ${JSON.stringify(build)} /*__QASR_BUILD_END__*/`));
        config.logger.info(`[qasr-ship] sw.js: version ${version}, ${files.length} files, ${(build.bytes / 1e6).toFixed(1)} MB to precache`);
      },
    },
  };
}

export default defineConfig({
  // Relative asset URLs: the built site works from any sub-path (e.g. a Hugging Face static Space).
  base: './',
  plugins: [svelte(), ship()],
  server: { headers: isolation },
  // The preview server (e2e) sends the CSP as a header too: it then also covers the workers' own fetches.
  preview: { headers: { ...isolation, 'Content-Security-Policy': contentSecurityPolicy() } },
  worker: { format: 'es' },
  // Keep these out of the dependency pre-bundler: their own workers/wasm are located relative to the module,
  // and excluding them avoids a "new dependency optimized, reloading" page reload mid-session.
  optimizeDeps: { exclude: ['@ffmpeg/ffmpeg', '@ffmpeg/util', 'onnxruntime-web'] },
  build: { target: 'es2022' },
});
