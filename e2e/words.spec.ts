// Word timestamps end to end: a generated speech file through the recogniser and the ForcedAligner
// (tiny random models), then the SRT, WebVTT and JSON exports parsed by independent parsers: every
// cue and word time is inside its chunk, times are monotonic, cues never overlap.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { fixturePath, TINY_ALIGNER, TINY_ASR } from './fixtures';
import { expectWordTimesInSegments, type ExportedSegment } from './word-times';

async function download(page: Page, testId: string): Promise<string> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return readFileSync((await d.path())!, 'utf8');
}

const clock = (h: string, m: string, s: string, ms: string) => +h * 3600 + +m * 60 + +s + +ms / 1000;

function parseCues(text: string, sep: ',' | '.'): { start: number; end: number; text: string }[] {
  const re = new RegExp(`(\\d{2}):(\\d{2}):(\\d{2})\\${sep}(\\d{3}) --> (\\d{2}):(\\d{2}):(\\d{2})\\${sep}(\\d{3})\\r?\\n([\\s\\S]*?)(?:\\r?\\n\\r?\\n|$)`, 'g');
  const cues = [];
  for (const m of text.matchAll(re)) cues.push({ start: clock(m[1], m[2], m[3], m[4]), end: clock(m[5], m[6], m[7], m[8]), text: m[9].trim() });
  return cues;
}

test('ASR + aligner: SRT, VTT and JSON validate, with times inside the chunk bounds', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('model-input').setInputFiles(TINY_ASR);
  await expect(page.getByTestId('model-info')).toContainText('q4_0', { timeout: 60_000 });
  await page.getByTestId('model-input').setInputFiles(TINY_ALIGNER);
  await expect(page.getByTestId('model-info')).toContainText('Forced aligner', { timeout: 60_000 });
  await page.getByTestId('file-input').setInputFiles(fixturePath('canonical.wav'));
  await page.getByTestId('transcribe').click();
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });

  const json = JSON.parse(await download(page, 'export-json'));
  const spoken = json.segments as ExportedSegment[];
  test.skip(spoken.length === 0, 'the random model produced no text for this file');
  expectWordTimesInSegments(spoken);
  const chunkBounds = spoken.map((s) => [s.start, s.end]);
  const inChunk = (c: { start: number; end: number }) => chunkBounds.some(([a, b]) => c.start >= a - 1e-3 && c.end <= b + 1.0);
  for (const [id, sep] of [['export-srt', ','], ['export-vtt', '.']] as const) {
    const text = await download(page, id);
    if (id === 'export-vtt') expect(text.startsWith('WEBVTT')).toBe(true);
    const cues = parseCues(text, sep);
    expect(cues.length, id).toBeGreaterThan(0);
    for (let i = 0; i < cues.length; i++) {
      expect(cues[i].text.length, `${id} cue ${i} is not empty`).toBeGreaterThan(0);
      expect(cues[i].text.split(/\r?\n/).length).toBeLessThanOrEqual(2);
      expect(cues[i].end).toBeGreaterThan(cues[i].start);
      expect(cues[i].end - cues[i].start).toBeLessThanOrEqual(7 + 1e-3);
      expect(inChunk(cues[i]), `${id} cue ${i} within its chunk`).toBe(true);
      if (i > 0) expect(cues[i].start).toBeGreaterThanOrEqual(cues[i - 1].end - 1e-3);
    }
  }
});
