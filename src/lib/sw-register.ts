/**
 * Registers the app's service worker (public/sw.js) in built sites:
 *
 * - Offline use: once the worker controls the page it is asked to cache every file of the build; when
 *   that is done `<html data-offline="ready">` is set (`"partial"` if some file could not be fetched,
 *   `"caching"` meanwhile). After that the app opens and transcribes without a network.
 * - Threads on hosts that cannot send COOP/COEP headers: the worker adds them to our own responses, but
 *   only to pages it controls, and it does not control the page that registered it the first time. So a
 *   page that is not cross-origin isolated reloads itself once the worker has taken over. A flag in
 *   sessionStorage allows one such reload per tab session: if the page is still not isolated after it
 *   (a browser without service workers in this mode, a hard reload, ...) it stays as it is and the
 *   engine runs single-threaded (the engine badge says so). The flag is cleared once isolation works.
 *   No reload happens while the app is busy (`canReload`), so no work is ever lost to it.
 *
 * Nothing happens in the dev server (it sends the headers itself, and caching would fight hot reload).
 */

const RELOAD_KEY = 'qasr.sw-isolation-reload';

export interface ServiceWorkerOptions {
  /** URL of the worker script (default: `sw.js` next to the page). */
  url?: string;
  /** Whether reloading now would lose nothing (no run, no model load in progress). */
  canReload?: () => boolean;
}

function setOfflineState(state: 'caching' | 'ready' | 'partial' | 'unavailable'): void {
  document.documentElement.dataset.offline = state;
}

function readFlag(): string | null {
  try {
    return sessionStorage.getItem(RELOAD_KEY);
  } catch {
    return 'storage-blocked'; // no way to guard against a loop: never reload
  }
}

/** Reloads once per tab session to come back isolated; true if it did. */
function reloadForIsolation(canReload: () => boolean): boolean {
  if (readFlag() !== null) {
    console.warn('[sw] still not cross-origin isolated after the service worker reload: running single-threaded.');
    return false;
  }
  if (!canReload()) return false;
  try {
    sessionStorage.setItem(RELOAD_KEY, String(Date.now()));
  } catch {
    return false;
  }
  location.reload();
  return true;
}

function controlled(): Promise<void> {
  if (navigator.serviceWorker.controller) return Promise.resolve();
  return new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }));
}

/** Asks the active worker to fill its cache and reflects the outcome in `<html data-offline>`. */
async function precache(): Promise<void> {
  const reg = await navigator.serviceWorker.ready;
  const worker = reg.active;
  if (!worker) return;
  setOfflineState('caching');
  const done = new Promise<{ failed: number }>((resolve) => {
    const onMessage = (ev: MessageEvent) => {
      if (ev.data?.type !== 'precache-done') return;
      navigator.serviceWorker.removeEventListener('message', onMessage);
      resolve(ev.data as { failed: number });
    };
    navigator.serviceWorker.addEventListener('message', onMessage);
  });
  worker.postMessage({ type: 'precache' });
  const r = await done;
  setOfflineState(r.failed > 0 ? 'partial' : 'ready');
}

async function start(options: ServiceWorkerOptions): Promise<void> {
  const isolated = self.crossOriginIsolated === true;
  if (isolated) {
    try {
      sessionStorage.removeItem(RELOAD_KEY);
    } catch {
      // storage blocked: nothing to clear
    }
  }
  const url = options.url ?? new URL('sw.js', document.baseURI).href;
  await navigator.serviceWorker.register(url, { scope: './', updateViaCache: 'none' });
  await controlled();
  if (!isolated && reloadForIsolation(options.canReload ?? (() => true))) return;
  await precache();
}

/** Registers the service worker after the page has loaded (no-op in dev or without service workers). */
export function registerServiceWorker(options: ServiceWorkerOptions = {}): void {
  if (import.meta.env.DEV) return;
  if (!('serviceWorker' in navigator) || !window.isSecureContext) {
    setOfflineState('unavailable');
    return;
  }
  const go = () => {
    start(options).catch((e: unknown) => {
      setOfflineState('unavailable');
      console.warn(`[sw] service worker unavailable: ${e instanceof Error ? e.message : String(e)}`);
    });
  };
  if (document.readyState === 'complete') go();
  else window.addEventListener('load', go, { once: true });
}
