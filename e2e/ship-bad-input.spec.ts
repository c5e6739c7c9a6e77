// Bad input, end to end with the tiny model (issue "Ship it", item 5). e2e/skeleton.spec.ts already covers
// empty / 1 MB random / text / image / video-without-sound files; these are the rest. Every case must end
// in a clear state, and the next run must work.
//
// Files made here (in a temp folder, with Debian's ffmpeg from the canonical fixture): 100 MB of random
// bytes named .mp3; a FLAC cut off at half its length; an MP3 with 10 % of its bytes overwritten in the
// middle; a 10-minute MP3 for cancelling and reloading mid-run.
//
// Decided behaviour for a file whose decoding fails half-way: the app transcribes what can be decoded and
// says, in the transcript, what is missing — a final entry over the missing time span with the reason
// ("The file ends early: the audio from 0:25 to 0:54 is missing (the file is incomplete or damaged) …" for a
// cut file, "About 6 s of audio could not be decoded: the file is damaged (6 damaged blocks were skipped) …"
// when ffmpeg had to skip damaged data inside). The run ends "Done — 1 of N chunks failed" (that entry is
// the failed one); the exports hold the text that was recognised.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { fixturePath, TINY_ASR } from './fixtures';

let dir: string;
const file = (name: string) => join(dir, name);

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args]);
}

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qasr-bad-input-'));
  writeFileSync(file('random-100mb.mp3'), randomBytes(100 * 1024 * 1024));
  // 4 × the canonical clip (54 s) as FLAC and MP3, then damaged.
  ffmpeg('-stream_loop', '3', '-i', fixturePath('canonical.wav'), '-c:a', 'flac', file('speech-54s.flac'));
  ffmpeg('-stream_loop', '3', '-i', fixturePath('canonical.wav'), '-c:a', 'libmp3lame', '-b:a', '64k', file('speech-54s.mp3'));
  const flac = readFileSync(file('speech-54s.flac'));
  writeFileSync(file('truncated.flac'), flac.subarray(0, Math.floor(flac.length / 2)));
  const mp3 = Buffer.from(readFileSync(file('speech-54s.mp3')));
  // The same damage every run (xorshift32): 10 % of the bytes, from 45 % of the file on.
  let x = 0x2545f491;
  for (let i = Math.floor(mp3.length * 0.45), end = Math.floor(mp3.length * 0.55); i < end; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    mp3[i] = x & 0xff;
  }
  writeFileSync(file('damaged-middle.mp3'), mp3);
  // 10 minutes of speech: long enough to stop in the middle.
  ffmpeg('-stream_loop', '44', '-i', fixturePath('canonical.wav'), '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '32k', file('speech-10min.mp3'));
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.beforeEach(async ({ page }) => {
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto('/');
  await page.getByTestId('model-input').setInputFiles(TINY_ASR);
  await expect(page.getByTestId('model-info')).toContainText('q4_0', { timeout: 60_000 });
});

async function start(page: Page, path: string): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(path);
  await page.getByTestId('transcribe').click();
}

const statuses = (page: Page) => page.getByTestId('chunk').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));

/** The next run works: canonical.wav is transcribed, and the page shows it (not a leftover). */
async function nextRunWorks(page: Page): Promise<void> {
  await start(page, fixturePath('canonical.wav'));
  await expect(page.getByTestId('stage')).toHaveText(/^Done$/, { timeout: 120_000 });
  expect(await statuses(page)).toContain('done');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('file-info')).toContainText('canonical.wav');
}

test('100 MB of random bytes named .mp3: a clear error, then the next file works', async ({ page }) => {
  await start(page, file('random-100mb.mp3'));
  await expect(page.getByTestId('error')).toContainText(/random-100mb\.mp3.*(isn't an audio or video file|damaged)/, { timeout: 120_000 });
  await expect(page.getByTestId('stage')).toHaveText(/Stopped by an error/);
  await nextRunWorks(page);
});

test('0.2 s of audio: done, no speech found, no error', async ({ page }) => {
  await start(page, fixturePath('short-0.2s.wav'));
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 60_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  const st = await statuses(page);
  for (const s of st) expect(['done', 'no-speech']).toContain(s);
  await nextRunWorks(page);
});

test('8-channel 96 kHz audio is downmixed and transcribed', async ({ page }) => {
  await start(page, fixturePath('multichannel-8ch-96k.wav'));
  await expect(page.getByTestId('stage')).toHaveText(/^Done$/, { timeout: 120_000 });
  const st = await statuses(page);
  expect(st.length).toBeGreaterThanOrEqual(1);
  expect(st).toContain('done');
  await nextRunWorks(page);
});

test('a file cut off half-way: the first half is transcribed and the missing half is named', async ({ page }) => {
  await start(page, file('truncated.flac'));
  await expect(page.getByTestId('stage')).toHaveText(/^Done — 1 of \d+ chunks failed/, { timeout: 120_000 });
  const st = await statuses(page);
  expect(st[st.length - 1]).toBe('error');
  expect(st.slice(0, -1)).toContain('done');
  const last = page.getByTestId('chunk').last();
  await expect(last).toContainText(/The file ends early: the audio from 0:2\d to 0:54 is missing \(the file is incomplete or damaged\)/);
  await expect(last.getByTestId('chunk-time')).toContainText('00:54');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await nextRunWorks(page);
});

test('a file damaged in the middle: what decodes is transcribed, the loss is reported', async ({ page }) => {
  await start(page, file('damaged-middle.mp3'));
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });
  const st = await statuses(page);
  expect(st).toContain('done');
  await expect(page.getByTestId('chunk').last()).toContainText(/could not be decoded: the file is damaged/);
  await expect(page.getByTestId('error')).toHaveCount(0);
  await nextRunWorks(page);
});

test('cancel in the middle of a transcription, then another file', async ({ page }) => {
  await start(page, file('speech-10min.mp3'));
  await expect(page.getByTestId('stage')).toHaveText(/^Transcribing/, { timeout: 60_000 });
  await expect.poll(async () => (await statuses(page)).filter((s) => s === 'done').length, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('stage')).toHaveText(/^Cancelled/, { timeout: 10_000 });
  const st = await statuses(page);
  expect(st).toContain('done');
  expect(st).toContain('pending'); // it really stopped before the end
  expect(st).not.toContain('running');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await nextRunWorks(page);
});

test('two files back to back: one after the other, and both chosen at once', async ({ page }) => {
  await start(page, fixturePath('canonical.mp3'));
  await expect(page.getByTestId('stage')).toHaveText(/^Done$/, { timeout: 120_000 });
  await expect(page.getByTestId('file-info')).toContainText('canonical.mp3');
  await start(page, fixturePath('canonical.opus.ogg'));
  await expect(page.getByTestId('stage')).toHaveText(/^Done$/, { timeout: 120_000 });
  await expect(page.getByTestId('file-info')).toContainText('canonical.opus.ogg');
  expect(await statuses(page)).toContain('done');
  // Two files in one go: they run one after another and both end done.
  await page.getByTestId('file-input').setInputFiles([fixturePath('canonical.flac'), fixturePath('canonical.m4a')]);
  await page.getByTestId('transcribe').click();
  for (const name of ['canonical.flac', 'canonical.m4a']) {
    await expect(page.locator(`[data-testid="queue-item"][data-name="${name}"]`)).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  }
  await expect(page.getByTestId('error')).toHaveCount(0);
  await nextRunWorks(page);
});

test('a page reload in the middle of a run: the app comes back usable', async ({ page }) => {
  page.on('dialog', (d) => void d.accept()); // "leave the page?" while busy
  await start(page, file('speech-10min.mp3'));
  await expect(page.getByTestId('stage')).toHaveText(/^Transcribing/, { timeout: 60_000 });
  await page.reload();
  await expect(page.getByTestId('engine-badge')).toContainText('multi-threaded', { timeout: 30_000 });
  await expect(page.getByTestId('stage')).toHaveCount(0);
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.getByTestId('model-input').setInputFiles(TINY_ASR);
  await expect(page.getByTestId('model-info')).toContainText('q4_0', { timeout: 60_000 });
  await nextRunWorks(page);
});
