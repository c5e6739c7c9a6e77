// Models the way users expect, end to end in Chromium: downloading from a model host (our fault-injecting
// server on localhost, serving the tiny generated models under the published file names), storing in
// IndexedDB, verifying, resuming after a dropped connection, a reload or a cancel, clear errors with Retry,
// a full disk, and transcribing offline from the stored copy.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { fixturePath, ROOT, TINY_ALIGNER, TINY_ASR } from './fixtures';
import { startModelServer } from './model-server.mjs';

interface LogEntry {
  method: string;
  path: string;
  range: string | null;
  ifRange: string | null;
  status: number;
  bytesSent: number;
  fault: string | null;
  dropped?: boolean;
}

interface ModelServer {
  url: string;
  log: LogEntry[];
  clearLog(): void;
  setFault(opts: Record<string, string | number> | null): void;
  close(): Promise<void>;
}

const ASR_ID = 'qwen3-asr-0.6b-q4_0';
const ALIGNER_ID = 'qwen3-forced-aligner-0.6b-q4_0';
const ASR_FILE = `${ASR_ID}.bin`;
const ALIGNER_FILE = `${ALIGNER_ID}.bin`;
const PART = 2 * 1024 * 1024;

const stamp = (file: string) => JSON.parse(readFileSync(`${file}.json`, 'utf8')) as { bytes: number; sha256: string };
const asrStamp = stamp(TINY_ASR);
const alignerStamp = stamp(TINY_ALIGNER);

let server: ModelServer;
let dir: string;


test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qasr-models-'));
  copyFileSync(TINY_ASR, join(dir, ASR_FILE));
  copyFileSync(TINY_ALIGNER, join(dir, ALIGNER_FILE));
  // The real manifest with the tiny recogniser's size and hash (verified), the aligner left approximate and
  // without a hash (its real size accepted and its hash recorded), and 2 MiB parts so a download has several.
  const real = JSON.parse(readFileSync(join(ROOT, 'models-manifest.json'), 'utf8'));
  const models = real.models.map((m: Record<string, unknown>) =>
    m.id === ASR_ID ? { ...m, bytes: asrStamp.bytes, sha256: asrStamp.sha256 } : m,
  );
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: 1, partBytes: PART, models }));
  server = (await startModelServer({ dir, port: 0 })) as unknown as ModelServer;
});

test.afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.beforeEach(async ({ page }) => {
  server.setFault(null);
  server.clearLog();
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
});

const appUrl = (withManifest = true) =>
  `/?${withManifest ? `manifest=${encodeURIComponent(`${server.url}manifest.json`)}&` : ''}models=${encodeURIComponent(server.url)}`;

async function open(page: Page, withManifest = true): Promise<void> {
  await page.goto(appUrl(withManifest));
  await expect(page.getByTestId('model-row').first()).toBeVisible();
}

const row = (page: Page, id: string): Locator => page.locator(`[data-testid="model-row"][data-model-id="${id}"]`);
const fileRequests = (file: string) => server.log.filter((e) => e.path === `/${file}` && e.method === 'GET');

/** Percentage shown by a row's download progress (NaN when not downloading). */
async function shownPercent(r: Locator): Promise<number> {
  const t = await r.getByTestId('download-progress').textContent({ timeout: 1000 }).catch(() => null);
  const m = t ? /(\d+)%/.exec(t) : null;
  return m ? Number(m[1]) : NaN;
}

async function waitForPercent(r: Locator, pct: number): Promise<void> {
  await expect.poll(() => shownPercent(r), { timeout: 60_000, intervals: [100] }).toBeGreaterThanOrEqual(pct);
}

/** The stored record of a model, read from IndexedDB in the page. */
function storedRecord(page: Page, id: string) {
  return page.evaluate(
    (id) =>
      new Promise<Record<string, unknown> | null>((resolve, reject) => {
        const req = indexedDB.open('qasr-models-meta');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('records')) {
            db.close();
            resolve(null);
            return;
          }
          const get = db.transaction('records').objectStore('records').get(id);
          get.onsuccess = () => {
            resolve((get.result as Record<string, unknown>) ?? null);
            db.close();
          };
          get.onerror = () => reject(get.error);
        };
      }),
    id,
  );
}

async function downloadAndUse(page: Page, id: string): Promise<void> {
  await row(page, id).getByTestId('download').click();
  await expect(row(page, id)).toHaveAttribute('data-state', 'in-use', { timeout: 90_000 });
}

test('first run explains the size; a complete download is verified, stored and used', async ({ page }) => {
  await open(page);
  await expect(page.getByTestId('first-run')).toContainText('Qwen3-ASR 0.6B (q4_0): 26.6 MB, downloaded once and kept in this browser');
  await expect(row(page, ASR_ID)).toHaveAttribute('data-state', 'not-stored');
  await expect(row(page, ASR_ID).getByTestId('download')).toContainText('26.6 MB');

  await downloadAndUse(page, ASR_ID);
  await expect(row(page, ASR_ID).getByTestId('verified')).toBeVisible();
  await expect(page.getByTestId('model-info')).toContainText('q4_0');
  await expect(page.getByTestId('first-run')).toHaveCount(0);
  const rec = await storedRecord(page, ASR_ID);
  expect(rec).toMatchObject({ complete: true, verified: true, sha256: asrStamp.sha256, bytes: asrStamp.bytes, parts: Math.ceil(asrStamp.bytes / PART), source: 'download' });
  expect(fileRequests(ASR_FILE)).toHaveLength(1);
  await expect(page.getByTestId('storage')).toContainText('Models stored here: 26.6 MB');

  // The aligner: no hash in the manifest and an estimated size → the real size accepted, the hash recorded.
  await downloadAndUse(page, ALIGNER_ID);
  await expect(row(page, ALIGNER_ID).getByTestId('verified')).toHaveCount(0);
  await expect(row(page, ALIGNER_ID)).toContainText('checksum recorded');
  expect(await storedRecord(page, ALIGNER_ID)).toMatchObject({ complete: true, verified: false, sha256: alignerStamp.sha256, bytes: alignerStamp.bytes });
  await expect(page.getByTestId('model-info')).toContainText('Forced aligner');

  // Delete asks first, then frees the storage (the loaded copy stays in the engine).
  await row(page, ALIGNER_ID).getByTestId('delete-model').click();
  await row(page, ALIGNER_ID).getByTestId('confirm-delete').click();
  await expect.poll(() => storedRecord(page, ALIGNER_ID)).toBeNull();
  await expect(page.getByTestId('storage')).toContainText('Models stored here: 26.6 MB');
});

test('with the real manifest, an estimated size is accepted and an exact size that differs is refused up front', async ({ page }) => {
  await open(page, false);
  await expect(page.getByTestId('first-run')).toContainText('Qwen3-ASR 0.6B (q4_0): 539 MB, downloaded once and kept in this browser');
  await expect(page.getByTestId('model-source')).toContainText('127.0.0.1');
  await row(page, ASR_ID).getByTestId('download').click();
  await expect(row(page, ASR_ID).getByTestId('model-error')).toContainText('is 26,572,048 bytes, but Qwen3-ASR 0.6B (q4_0) should be 538,868,432');
  expect(fileRequests(ASR_FILE)[0].bytesSent).toBeLessThan(asrStamp.bytes);
  await expect(row(page, ALIGNER_ID).getByTestId('download')).toContainText('about 528 MB');
  await downloadAndUse(page, ALIGNER_ID);
  expect(await storedRecord(page, ALIGNER_ID)).toMatchObject({ complete: true, bytes: alignerStamp.bytes, sha256: alignerStamp.sha256 });
});

test('a connection dropped half-way is resumed with Range to completion', async ({ page }) => {
  await open(page);
  const half = Math.floor(asrStamp.bytes / 2) + 12345;
  server.setFault({ mode: 'drop', after: half });
  await downloadAndUse(page, ASR_ID);
  await expect(row(page, ASR_ID).getByTestId('verified')).toBeVisible();
  const reqs = fileRequests(ASR_FILE);
  expect(reqs[0]).toMatchObject({ range: null, status: 200, dropped: true, bytesSent: half });
  // Resumed from the last byte that reached the page (bytes still in flight when the connection broke are
  // lost with it), not from zero: the part being filled stays in memory.
  const from = Number(/^bytes=(\d+)-$/.exec(reqs[1].range ?? '')?.[1]);
  expect(from).toBeGreaterThan(0);
  expect(from).toBeLessThanOrEqual(half);
  expect(reqs[1]).toMatchObject({ status: 206, bytesSent: asrStamp.bytes - from });
  expect(reqs).toHaveLength(2);
});

test('a reload in the middle of a download resumes from the stored parts', async ({ page }) => {
  await open(page);
  server.setFault({ mode: 'slow', rate: 4_000_000 });
  await row(page, ASR_ID).getByTestId('download').click();
  await waitForPercent(row(page, ASR_ID), 35);
  server.setFault(null);
  await page.reload();
  await expect(row(page, ASR_ID)).toHaveAttribute('data-state', 'partial');
  await expect(row(page, ASR_ID).getByTestId('download')).toContainText(/Resume \(\d+%\)/);
  const rec = await storedRecord(page, ASR_ID);
  const parts = Number(rec?.parts);
  expect(parts).toBeGreaterThanOrEqual(3);
  expect(rec?.complete).toBe(false);

  server.clearLog();
  await downloadAndUse(page, ASR_ID);
  await expect(row(page, ASR_ID).getByTestId('verified')).toBeVisible();
  const reqs = fileRequests(ASR_FILE);
  expect(reqs).toHaveLength(1);
  expect(reqs[0]).toMatchObject({ range: `bytes=${parts * PART}-`, status: 206, bytesSent: asrStamp.bytes - parts * PART });
  expect(reqs[0].ifRange).toBeTruthy();
});

test('wrong bytes fail the SHA-256 check: the entry is removed and Retry works', async ({ page }) => {
  await open(page);
  server.setFault({ mode: 'wrong' });
  await row(page, ASR_ID).getByTestId('download').click();
  const err = row(page, ASR_ID).getByTestId('model-error');
  await expect(err).toContainText('does not match its published SHA-256 checksum', { timeout: 60_000 });
  await expect(row(page, ASR_ID)).toHaveAttribute('data-state', 'not-stored');
  expect(await storedRecord(page, ASR_ID)).toBeNull();
  await err.getByTestId('retry').click();
  await expect(row(page, ASR_ID)).toHaveAttribute('data-state', 'in-use', { timeout: 90_000 });
  await expect(row(page, ASR_ID).getByTestId('verified')).toBeVisible();
  await expect(row(page, ASR_ID).getByTestId('model-error')).toHaveCount(0);
});

test('404 gives a clear error at once', async ({ page }) => {
  await open(page);
  server.setFault({ mode: '404' });
  await row(page, ASR_ID).getByTestId('download').click();
  await expect(row(page, ASR_ID).getByTestId('model-error')).toContainText(
    `Qwen3-ASR 0.6B (q4_0) was not found on the server (HTTP 404): ${server.url}${ASR_FILE}`,
  );
  expect(fileRequests(ASR_FILE)).toHaveLength(1);
  await expect(row(page, ASR_ID)).toHaveAttribute('data-state', 'not-stored');
});

test('500 is retried with backoff, then shown with a Retry button that works', async ({ page }) => {
  await open(page);
  server.setFault({ mode: '500' });
  await row(page, ASR_ID).getByTestId('download').click();
  await expect(row(page, ASR_ID).getByTestId('download-status')).toContainText(/HTTP 500 — trying again in \d+ s \(try 2 of 3\)/);
  const err = row(page, ASR_ID).getByTestId('model-error');
  await expect(err).toContainText('The model server failed 3 times in a row (HTTP 500)', { timeout: 30_000 });
  expect(fileRequests(ASR_FILE).map((r) => r.status)).toEqual([500, 500, 500]);
  server.setFault(null);
  await err.getByTestId('retry').click();
  await expect(row(page, ASR_ID)).toHaveAttribute('data-state', 'in-use', { timeout: 90_000 });
});

test('a slow download shows speed and time left; Cancel keeps the parts, and resuming continues', async ({ page }) => {
  await open(page);
  server.setFault({ mode: 'slow', rate: 3_000_000 });
  await row(page, ASR_ID).getByTestId('download').click();
  const progress = row(page, ASR_ID).getByTestId('download-progress');
  await expect(progress).toContainText(/\d(\.\d)? MB\/s/);
  await expect(progress).toContainText(/about \d+ s left/);
  await waitForPercent(row(page, ASR_ID), 30);
  await row(page, ASR_ID).getByTestId('cancel-download').click();
  await expect(row(page, ASR_ID)).toHaveAttribute('data-state', 'partial');
  const rec = await storedRecord(page, ASR_ID);
  expect(rec).toMatchObject({ complete: false });
  const parts = Number(rec?.parts);
  expect(parts).toBeGreaterThanOrEqual(3);
  await expect(row(page, ASR_ID)).toContainText(`${Math.floor(((parts * PART) / asrStamp.bytes) * 100)}% of 26.6 MB downloaded`);

  server.setFault(null);
  server.clearLog();
  await downloadAndUse(page, ASR_ID);
  expect(fileRequests(ASR_FILE)[0]).toMatchObject({ range: `bytes=${parts * PART}-`, status: 206 });
});

for (const sloppy of [false, true]) {
  test(`a file changed on the server is fetched again from scratch (${sloppy ? 'server ignores If-Range: size mismatch' : 'If-Range'})`, async ({ page }) => {
    await open(page);
    // The old version: another size and ETag.
    server.setFault({ mode: 'changed,slow', rate: 3_000_000 });
    await row(page, ALIGNER_ID).getByTestId('download').click();
    await waitForPercent(row(page, ALIGNER_ID), 30);
    await row(page, ALIGNER_ID).getByTestId('cancel-download').click();
    await expect(row(page, ALIGNER_ID)).toHaveAttribute('data-state', 'partial');
    const old = await storedRecord(page, ALIGNER_ID);
    expect(Number(old?.bytes)).toBe(alignerStamp.bytes + 64 * 1024);
    const parts = Number(old?.parts);

    // Now the server has the new version.
    server.setFault(sloppy ? { mode: 'ignore-if-range', times: 1 } : null);
    server.clearLog();
    await row(page, ALIGNER_ID).getByTestId('download').click();
    await expect(row(page, ALIGNER_ID)).toHaveAttribute('data-state', /in-use|stored/, { timeout: 90_000 });
    const reqs = fileRequests(ALIGNER_FILE);
    if (sloppy) {
      expect(reqs[0]).toMatchObject({ range: `bytes=${parts * PART}-`, status: 206 });
      expect(reqs[1]).toMatchObject({ range: null, status: 200 });
    } else {
      expect(reqs[0]).toMatchObject({ range: `bytes=${parts * PART}-`, status: 200 });
      expect(reqs[0].ifRange).toBe(String(old?.etag));
    }
    expect(await storedRecord(page, ALIGNER_ID)).toMatchObject({ complete: true, bytes: alignerStamp.bytes, sha256: alignerStamp.sha256 });
  });
}

test('a full disk gives a clear message with the sizes, and the model stored before stays usable', async ({ page }) => {
  // IndexedDB refuses new parts once the page sets this flag (as a full disk would).
  await page.addInitScript(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if ((globalThis as { __diskFull?: boolean }).__diskFull && value instanceof Blob) {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
      return put.call(this, value, key);
    } as typeof put;
  });
  await open(page);
  await downloadAndUse(page, ALIGNER_ID);
  await page.evaluate(() => ((globalThis as { __diskFull?: boolean }).__diskFull = true));
  await row(page, ASR_ID).getByTestId('download').click();
  const err = row(page, ASR_ID).getByTestId('model-error');
  await expect(err).toContainText('Not enough storage space for the 26.6 MB of Qwen3-ASR 0.6B (q4_0)');
  await expect(err).toContainText(/This site may use .+ of storage; .+ is in use, .+ free/);
  await expect(err.getByTestId('retry')).toBeVisible();
  await expect(row(page, ALIGNER_ID)).toHaveAttribute('data-state', 'in-use');
  expect(await storedRecord(page, ALIGNER_ID)).toMatchObject({ complete: true, sha256: alignerStamp.sha256 });

  // After a reload (disk "free" again) the aligner is still stored and loads.
  await page.reload();
  await expect(row(page, ALIGNER_ID)).toHaveAttribute('data-state', /stored|in-use/);
  if ((await row(page, ALIGNER_ID).getAttribute('data-state')) === 'stored') await row(page, ALIGNER_ID).getByTestId('use-model').click();
  await expect(row(page, ALIGNER_ID)).toHaveAttribute('data-state', 'in-use', { timeout: 60_000 });
});

test('a stored model with a missing part is never loaded: the good parts are kept and the rest fetched again', async ({ page }) => {
  await open(page);
  await downloadAndUse(page, ASR_ID);
  // As if the browser lost one part (a crash, a cleanup): part 4 of 13 disappears.
  await page.evaluate(
    (key) =>
      new Promise<void>((resolve, reject) => {
        const req = indexedDB.open('qasr-models');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction('parts', 'readwrite');
          tx.objectStore('parts').delete(key);
          tx.oncomplete = () => {
            req.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    `parts/${ASR_ID}/3`,
  );
  // Found at the next start, in the chosen language (the manager's messages go through t(); the
  // detail comes from the store), once: the record is then a partial download.
  await page.evaluate(() => localStorage.setItem('locale', 'zh-CN'));
  await page.reload();
  await expect(page.getByTestId('model-notice')).toContainText('一个已存储的模型已损坏，无法使用');
  await expect(page.getByTestId('model-notice')).toContainText('part 4 of 13 is missing');
  await page.evaluate(() => localStorage.setItem('locale', 'en'));
  await page.reload();
  await expect(row(page, ASR_ID)).toHaveAttribute('data-state', 'partial');
  await expect(page.getByText('No speech model loaded')).toBeVisible();
  expect(await storedRecord(page, ASR_ID)).toMatchObject({ complete: false, parts: 3 });
  server.clearLog();
  await downloadAndUse(page, ASR_ID);
  await expect(row(page, ASR_ID).getByTestId('verified')).toBeVisible();
  expect(fileRequests(ASR_FILE)[0]).toMatchObject({ range: `bytes=${3 * PART}-`, status: 206 });
});

test('a model file from this computer is loaded, kept, and back after a reload', async ({ page }) => {
  await open(page);
  await page.getByTestId('model-input').setInputFiles(TINY_ASR);
  await expect(page.getByTestId('model-info')).toContainText('q4_0', { timeout: 60_000 });
  const local = row(page, 'local:tiny-q4_0-s1.bin');
  await expect(local).toHaveAttribute('data-state', 'in-use', { timeout: 60_000 });
  await expect(local).toContainText('From this computer');
  await page.reload();
  await expect(local).toHaveAttribute('data-state', 'in-use', { timeout: 60_000 });
  expect(fileRequests(ASR_FILE)).toHaveLength(0);
});

test('offline after the download: the model loads from IndexedDB and transcribes', async ({ page }) => {
  await open(page);
  await downloadAndUse(page, ASR_ID);
  const seen = server.log.length;
  await page.route(`${server.url}**`, (route) => route.abort('internetdisconnected'));
  await page.reload();
  // The stored recogniser is loaded again by itself, without the host.
  await expect(row(page, ASR_ID)).toHaveAttribute('data-state', 'in-use', { timeout: 60_000 });
  await expect(page.getByText('Ready to transcribe')).toBeVisible();
  await page.getByTestId('file-input').setInputFiles(fixturePath('canonical.wav'));
  await page.getByTestId('transcribe').click();
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });
  const statuses = await page.getByTestId('chunk').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  expect(statuses.length).toBeGreaterThan(0);
  for (const s of statuses) expect(['done', 'no-speech']).toContain(s);
  expect(server.log.length).toBe(seen);
});
