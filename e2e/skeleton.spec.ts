// Walking skeleton, end to end in Debian's Chromium against the built site: cross-origin
// isolation and the engine variant, decoding every container to speech chunks, and clear errors
// for bad input that leave the app usable.
import { expect, test, type Page } from '@playwright/test';
import { fixturePath, fixtures, TINY_ASR } from './fixtures';

async function analyse(page: Page, file: string): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(fixturePath(file));
  await page.getByTestId('transcribe').click();
}

test.beforeEach(async ({ page }) => {
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto('/');
});

test('the page is cross-origin isolated and runs the threaded engine (its relaxed-SIMD build in Chromium)', async ({ page }) => {
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const threads = Math.min(cores, 8);
  await expect(page.getByTestId('engine-badge')).toContainText(`multi-threaded, ${threads} thread`);
  await expect(page.getByTestId('engine-badge')).toContainText('wasm-simd128-relaxed');
});

for (const f of fixtures().filter((x) => x.expectError === null && x.speech && x.speech.length > 0)) {
  test(`decodes ${f.name} (${f.container}) and finds its speech`, async ({ page }) => {
    await analyse(page, f.file);
    await expect(page.getByTestId('stage')).toHaveText(/Done — speech found/, { timeout: 90_000 });
    const chunks = page.getByTestId('chunk');
    expect(await chunks.count()).toBeGreaterThanOrEqual(1);
    await expect(page.getByTestId('timeline')).toBeVisible();
    // The detected speech covers each known utterance, with its edges within 0.3 s of the known
    // spans (a sentence pause may split an utterance into several segments), and nothing lies in
    // the known silences.
    const segs = await page.getByTestId('speech-segment').evaluateAll((els) =>
      els.map((e) => ({ start: Number(e.getAttribute('data-start')), end: Number(e.getAttribute('data-end')) })));
    expect(segs.length).toBeGreaterThanOrEqual(f.speech!.length);
    for (const u of f.speech!) {
      const inside = segs.filter((s) => s.end > u.start - 0.3 && s.start < u.end + 0.3);
      expect(inside.length, `segments of the utterance ${u.start}–${u.end}`).toBeGreaterThan(0);
      expect(Math.abs(inside[0].start - u.start)).toBeLessThanOrEqual(0.3);
      expect(Math.abs(inside[inside.length - 1].end - u.end)).toBeLessThanOrEqual(0.3);
    }
    for (const s of segs) expect(f.speech!.some((u) => s.end > u.start - 0.3 && s.start < u.end + 0.3)).toBe(true);
  });
}

test('pure silence ends in "no speech found", not an error', async ({ page }) => {
  await analyse(page, 'silence-10s.wav');
  await expect(page.getByTestId('stage')).toHaveText(/no speech found/i, { timeout: 60_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
});

for (const [file, message] of [
  ['empty.mp3', /empty/i],
  ['random.mp3', /isn't an audio or video file/i],
  ['notes.txt', /is a text file, not an audio or video file/i],
  ['image.png', /is an image, not an audio or video file/i],
  ['video-no-audio.mp4', /video without any sound track/i],
] as [string, RegExp][]) {
  test(`${file} gives a clear error and the next file still works`, async ({ page }) => {
    await analyse(page, file);
    await expect(page.getByTestId('error')).toContainText(message, { timeout: 60_000 });
    await analyse(page, 'canonical.wav');
    await expect(page.getByTestId('stage')).toHaveText(/Done — speech found/, { timeout: 60_000 });
  });
}

test('a file that is not a model is refused with the loader\'s message', async ({ page }) => {
  await page.getByTestId('model-input').setInputFiles(fixturePath('notes.txt'));
  await expect(page.getByTestId('error')).toContainText(/Not a GGMM model file/);
});

test('with the tiny random model every chunk is transcribed and exports are enabled', async ({ page }) => {
  await page.getByTestId('model-input').setInputFiles(TINY_ASR);
  await expect(page.getByTestId('model-info')).toContainText('q4_0', { timeout: 60_000 });
  await analyse(page, 'canonical.mp3');
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });
  const statuses = await page.getByTestId('chunk').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  expect(statuses.length).toBeGreaterThan(0);
  for (const s of statuses) expect(['done', 'no-speech']).toContain(s);
});
