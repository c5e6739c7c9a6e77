// One model at a time (`?memory=one-at-a-time`, as a low-memory device gets on its own): the file is
// recognised with only the recogniser loaded, then the engine swaps to the aligner for the word times and
// back. The exports must have word-level times inside their chunks, exactly as with both models resident
// (words.spec.ts), and the page must never have held both models at once.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { fixturePath, TINY_ALIGNER, TINY_ASR } from './fixtures';
import { expectWordTimesInSegments, type ExportedSegment } from './word-times';

async function download(page: Page, testId: string): Promise<string> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return readFileSync((await d.path())!, 'utf8');
}

const clock = (h: string, m: string, s: string, ms: string) => +h * 3600 + +m * 60 + +s + +ms / 1000;

function parseSrt(text: string): { start: number; end: number; text: string }[] {
  const re = /(\d{2}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2}):(\d{2}):(\d{2}),(\d{3})\r?\n([\s\S]*?)(?:\r?\n\r?\n|$)/g;
  const cues = [];
  for (const m of text.matchAll(re)) cues.push({ start: clock(m[1], m[2], m[3], m[4]), end: clock(m[5], m[6], m[7], m[8]), text: m[9].trim() });
  return cues;
}

interface Watch {
  maxLoaded: number;
  steps: string[];
}

const row = (page: Page, file: string) => page.locator(`[data-testid="model-row"][data-model-id="local:${basename(file)}"]`);

test('one model at a time: recognition, then word timestamps, with both models never loaded together', async ({ page }) => {
  // Every change of the page: how many models the Models card says the engine holds (one <dl> each),
  // and the progress panel's stage / step.
  await page.addInitScript(() => {
    const watch: Watch = { maxLoaded: 0, steps: [] };
    (window as unknown as { lowMemoryWatch: Watch }).lowMemoryWatch = watch;
    const check = () => {
      watch.maxLoaded = Math.max(watch.maxLoaded, document.querySelectorAll('[data-testid="model-info"] dl').length);
      const p = document.querySelector('[data-testid="progress"]');
      const step = p ? `${p.getAttribute('data-stage')}/${p.getAttribute('data-phase') ?? ''}` : '';
      if (step && watch.steps[watch.steps.length - 1] !== step) watch.steps.push(step);
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.goto('/?memory=one-at-a-time');

  // The aligner first (kept in this browser), then the recogniser, which frees the aligner to make room.
  await page.getByTestId('model-input').setInputFiles(TINY_ALIGNER);
  await expect(row(page, TINY_ALIGNER)).toHaveAttribute('data-state', 'in-use', { timeout: 60_000 });
  await page.getByTestId('model-input').setInputFiles(TINY_ASR);
  await expect(row(page, TINY_ASR)).toHaveAttribute('data-state', 'in-use', { timeout: 60_000 });
  await expect(row(page, TINY_ALIGNER)).toHaveAttribute('data-state', 'stored');
  await expect(page.getByTestId('memory-plan')).toBeVisible();

  await page.getByTestId('file-input').setInputFiles(fixturePath('canonical.wav'));
  await page.getByTestId('transcribe').click();
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });

  const watch = await page.evaluate(() => (window as unknown as { lowMemoryWatch: Watch }).lowMemoryWatch);
  expect(watch.maxLoaded, 'models held at once').toBe(1);
  // Recognition, then the word timestamps, then done (a short step, like a tiny model's load, may come
  // and go between two looks at the page; pipeline.test.ts checks the full sequence).
  const order = ['idle/', 'decoding/', 'vad/', 'transcribing/recognising', 'loading-model/aligning', 'transcribing/aligning', 'loading-model/recognising', 'done/'];
  const at = watch.steps.map((s) => order.indexOf(s));
  expect(at.every((k, i) => k >= 0 && (i === 0 || k >= at[i - 1] || k <= 2)), `steps: ${watch.steps.join(' → ')}`).toBe(true);
  for (const step of ['transcribing/recognising', 'transcribing/aligning', 'done/']) expect(watch.steps, step).toContain(step);
  // The recogniser is back, ready for the next file; no error on the way.
  await expect(row(page, TINY_ASR)).toHaveAttribute('data-state', 'in-use');
  await expect(row(page, TINY_ALIGNER)).toHaveAttribute('data-state', 'stored');
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  await expect(page.locator('[data-testid="chunk"][data-words]')).toHaveCount(0);

  const json = JSON.parse(await download(page, 'export-json'));
  const spoken = json.segments as ExportedSegment[];
  test.skip(spoken.length === 0, 'the random model produced no text for this file');
  const wordLevel = expectWordTimesInSegments(spoken);
  expect(wordLevel, 'segments with word-level times').toBe(spoken.length);

  const chunkBounds = spoken.map((s) => [s.start, s.end]);
  const inChunk = (c: { start: number; end: number }) => chunkBounds.some(([a, b]) => c.start >= a - 1e-3 && c.end <= b + 1.0);
  const cues = parseSrt(await download(page, 'export-srt'));
  expect(cues.length).toBeGreaterThan(0);
  for (let i = 0; i < cues.length; i++) {
    expect(cues[i].text.length, `cue ${i} is not empty`).toBeGreaterThan(0);
    expect(cues[i].text.split(/\r?\n/).length).toBeLessThanOrEqual(2);
    expect(cues[i].end).toBeGreaterThan(cues[i].start);
    expect(cues[i].end - cues[i].start).toBeLessThanOrEqual(7 + 1e-3);
    expect(inChunk(cues[i]), `cue ${i} within its chunk`).toBe(true);
    if (i > 0) expect(cues[i].start).toBeGreaterThanOrEqual(cues[i - 1].end - 1e-3);
  }
});
