/*
 * The app's own service worker (plain JS, no Workbox). Registered by src/lib/sw-register.ts in builds.
 *
 * 1. Offline: every file of the build (app shell, engine, ffmpeg, onnxruntime, VAD model, jieba) is kept
 *    in one Cache Storage cache named after the build's version, filled after the first visit. Files are
 *    served cache-first (hashed names never change; the unhashed engine files belong to the version
 *    they were cached with); the page itself is network-first (a fresh deploy shows at once) with the
 *    cached copy when the network fails or stalls. A new build is a new sw.js (the version is written
 *    into it): it installs, takes over, and deletes the caches of older versions when it activates.
 * 2. Threads on hosts that cannot send headers: same-origin responses get
 *    `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` (when
 *    the server did not send its own), so the page and its workers are cross-origin isolated once this
 *    worker controls the page (src/lib/sw-register.ts reloads once after the first install). They also
 *    get the app's Content-Security-Policy, which thereby covers the workers' own requests too.
 * 3. Cross-origin requests (model downloads with Range from the model host) are never touched: no
 *    respondWith, so the browser handles them exactly as without a service worker, and nothing from
 *    another origin is ever put in Cache Storage (models live in IndexedDB).
 *
 * Messages from the page: {type: 'precache'} fills the cache (answered with {type: 'precache-done',
 * version, total, cached, failed}); {type: 'status'} answers {type: 'status', version, total, cached}.
 */

// Filled in at build time by vite.config.ts (plugin "qasr-ship"): version, files to precache, CSP.
const BUILD = /*__QASR_BUILD__*/ { version: 'dev', files: [], bytes: 0, csp: '' } /*__QASR_BUILD_END__*/;

const PREFIX = 'qasr-app-';
const CACHE = PREFIX + BUILD.version;
const SCOPE = new URL(self.registration.scope);
const ISOLATION = [
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Embedder-Policy', 'require-corp'],
];
/** A navigation waits this long for the network before the cached page is used. */
const NAVIGATION_TIMEOUT_MS = 4000;
const PRECACHE_PARALLEL = 4;

const fileUrls = new Set(BUILD.files.map((f) => new URL(f, SCOPE).href));
const INDEX_URL = new URL('index.html', SCOPE).href;

/** Same response with the isolation headers (and the CSP) added; opaque/redirect responses pass as they are. */
function withHeaders(res) {
  if (!res || res.status === 0 || res.type === 'opaque' || res.type === 'opaqueredirect') return res;
  const headers = new Headers(res.headers);
  for (const [k, v] of ISOLATION) if (!headers.has(k)) headers.set(k, v);
  if (BUILD.csp && !headers.has('Content-Security-Policy')) headers.set('Content-Security-Policy', BUILD.csp);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/** A copy fit for Cache Storage (drops the `redirected` flag, which a navigation may not be served with). */
function storable(res) {
  return res.redirected ? new Response(res.body, { status: res.status, statusText: res.statusText, headers: res.headers }) : res;
}

let precaching = null;

/** Fetches every build file that is not cached yet (idempotent, resumable, a few at a time). */
function precache() {
  if (precaching) return precaching;
  precaching = (async () => {
    const cache = await caches.open(CACHE);
    const todo = [];
    for (const url of fileUrls) if (!(await cache.match(url))) todo.push(url);
    let failed = 0;
    const next = async () => {
      for (let url = todo.shift(); url; url = todo.shift()) {
        try {
          // Hashed assets may come from the HTTP cache; unhashed files are revalidated.
          const hashed = url.startsWith(new URL('assets/', SCOPE).href);
          const res = await fetch(url, { cache: hashed ? 'default' : 'no-cache', credentials: 'same-origin' });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          await cache.put(url, storable(res));
        } catch (e) {
          failed++;
          console.warn(`[sw] could not cache ${url}: ${e && e.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: PRECACHE_PARALLEL }, next));
    return { version: BUILD.version, total: fileUrls.size, cached: fileUrls.size - failed, failed };
  })().finally(() => {
    precaching = null;
  });
  return precaching;
}

async function status() {
  const cache = await caches.open(CACHE);
  let cached = 0;
  for (const url of fileUrls) if (await cache.match(url)) cached++;
  return { version: BUILD.version, total: fileUrls.size, cached };
}

self.addEventListener('install', (event) => {
  // Requests to other origins (model downloads) bypass this worker entirely where the browser supports
  // static routes (Chromium): not even a fetch event is dispatched for them. Elsewhere the fetch handler
  // below leaves them alone, which comes to the same.
  try {
    if (event.addRoutes && typeof URLPattern === 'function') {
      event.waitUntil(
        Promise.resolve(
          event.addRoutes({ condition: { not: { urlPattern: new URLPattern({ protocol: SCOPE.protocol.slice(0, -1), hostname: SCOPE.hostname, port: SCOPE.port }) } }, source: 'network' }),
        ).catch(() => {}),
      );
    }
  } catch {
    // static routing not supported in this form: the fetch handler covers it
  }
  // Installing is instant (no download): the page must be controlled quickly so that, on hosts without
  // isolation headers, its one reload happens before the person starts working. The cache is filled
  // afterwards, when the page asks (message 'precache').
  event.waitUntil(self.skipWaiting());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const keys = await caches.keys();
      await Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  const type = event.data && event.data.type;
  const reply = (msg) => event.source && event.source.postMessage(msg);
  if (type === 'precache') event.waitUntil(precache().then((r) => reply({ type: 'precache-done', ...r })));
  else if (type === 'status') event.waitUntil(status().then((r) => reply({ type: 'status', ...r })));
});

async function navigate(request, url) {
  const cache = await caches.open(CACHE);
  const isIndex = url.pathname === SCOPE.pathname || url.origin + url.pathname === INDEX_URL;
  const network = fetch(request).then(async (res) => {
    if (isIndex && res.ok && res.type === 'basic') await cache.put(INDEX_URL, storable(res.clone())).catch(() => {});
    return res;
  });
  network.catch(() => {}); // handled below; don't report a rejection nobody awaits
  const timeout = new Promise((resolve) => setTimeout(resolve, NAVIGATION_TIMEOUT_MS, null));
  try {
    const res = await Promise.race([network, timeout]);
    if (res) return withHeaders(res);
  } catch {
    // offline or the host is down: fall back to the cached page
  }
  const cached = (await cache.match(INDEX_URL)) || (await cache.match(SCOPE.href));
  if (cached) return withHeaders(cached);
  return withHeaders(await network); // nothing cached: wait for the network after all
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request.url);
  if (hit) return withHeaders(hit);
  const res = await fetch(request);
  if (res.ok && res.type === 'basic' && request.method === 'GET') {
    await cache.put(request.url, storable(res.clone())).catch(() => {});
  }
  return withHeaders(res);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // Other origins (the model host): not ours to touch.
  if (url.origin !== self.location.origin) return;
  // A DevTools quirk: only-if-cached outside same-origin mode throws in fetch().
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  if (request.mode === 'navigate' && url.href.startsWith(SCOPE.href)) {
    event.respondWith(navigate(request, url));
    return;
  }
  if (request.method === 'GET' && !request.headers.has('range') && fileUrls.has(url.origin + url.pathname)) {
    event.respondWith(cacheFirst(request));
    return;
  }
  // Anything else of ours (Range requests, files outside the build): straight to the network, with headers.
  event.respondWith(fetch(request).then(withHeaders));
});
