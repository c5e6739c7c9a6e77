// Live mode end to end in Chromium with a fake microphone that plays .cache/fixtures/canonical.wav
// (16-bit PCM, 16 kHz mono: two utterances separated by ~2 s of silence; Chromium loops the file) and
// the tiny generated model (random weights: its text may be empty or nonsense, so the test checks that
// utterances are found, timed and each gets a result, not what they say).
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { fixturePath, TINY_ASR } from './fixtures';

const FAKE_MIC_WAV = fixturePath('canonical.wav');

test.use({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${FAKE_MIC_WAV}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  },
  permissions: ['microphone'],
});

test('live: the fake microphone gives timed utterances with results, a level, and a saved 16 kHz WAV in the queue', async ({ page }) => {
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto('/');

  // Without a model, live mode says it needs one.
  await expect(page.getByTestId('live-needs-model')).toBeVisible();
  await expect(page.getByTestId('live-start')).toBeDisabled();

  await page.getByTestId('model-input').setInputFiles(TINY_ASR);
  await expect(page.getByTestId('model-info')).toContainText('q4_0', { timeout: 60_000 });
  await expect(page.getByTestId('live-needs-model')).toHaveCount(0);

  await page.getByTestId('live-start').click();
  await expect(page.getByTestId('live-stop')).toBeEnabled({ timeout: 30_000 });

  // The level meter moves while the file plays.
  let maxLevel = 0;
  for (let i = 0; i < 20 && maxLevel < 0.2; i++) {
    maxLevel = Math.max(maxLevel, Number(await page.getByTestId('live-level').getAttribute('data-level')));
    await page.waitForTimeout(250);
  }
  expect(maxLevel).toBeGreaterThan(0.2);

  // Two utterances per 13.5 s loop: after ~20 s at least two have ended and been transcribed.
  const utterances = page.getByTestId('live-utterance');
  const finished = page.locator('[data-testid="live-utterance"][data-state="done"]');
  await expect.poll(() => finished.count(), { timeout: 45_000, intervals: [500] }).toBeGreaterThanOrEqual(2);
  // Record ~20 s (the loop starts over at 13.5 s) before stopping.
  await expect(page.getByTestId('live-timer')).toHaveText(/^00:[2-5]\d$|^0[1-9]:\d\d$/, { timeout: 60_000 });

  await page.getByTestId('live-stop').click();
  await expect(page.getByTestId('live-save')).toBeVisible({ timeout: 30_000 });
  // Every utterance is finished (stopping ends the open one and it gets its final pass too).
  await expect.poll(async () => (await utterances.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).every((s) => s === 'done'), {
    timeout: 60_000,
  }).toBe(true);

  const n = await utterances.count();
  expect(n).toBeGreaterThanOrEqual(2);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = utterances.nth(i);
    const time = (await u.getByTestId('live-utterance-time').textContent()) ?? '';
    expect(time).toMatch(/^\d\d:\d\d$/);
    const [m, s] = time.split(':').map(Number);
    times.push(m * 60 + s);
    // A result: text, or the explicit "no words" marker.
    const text = ((await u.getByTestId('live-text').allTextContents()).join('')).trim();
    const none = await u.getByTestId('live-nospeech').count();
    expect(text !== '' || none === 1).toBe(true);
    await expect(u.getByTestId('live-tail')).toHaveCount(0);
  }
  // While an utterance was still going, it was re-decoded for partial text (the first one is 4.4 s long,
  // so a pass starts 2 s in, even if the final pass then aborts it).
  const partials = await utterances.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-partials'))));
  expect(partials.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  // In order.
  for (let i = 1; i < n; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);

  // The recording: a 16-bit PCM mono 16 kHz WAV download…
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('live-save').click()]);
  expect(download.suggestedFilename()).toMatch(/^live-.*\.wav$/);
  const wav = readFileSync(await download.path());
  expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
  expect(wav.toString('ascii', 8, 12)).toBe('WAVE');
  expect(wav.readUInt16LE(20)).toBe(1);
  expect(wav.readUInt16LE(22)).toBe(1);
  expect(wav.readUInt32LE(24)).toBe(16000);
  expect(wav.readUInt16LE(34)).toBe(16);
  const seconds = wav.readUInt32LE(40) / 32000;
  expect(seconds).toBeGreaterThan(15);
  // … with sound in it (not silence).
  let peak = 0;
  for (let i = 44; i + 1 < wav.length; i += 2) peak = Math.max(peak, Math.abs(wav.readInt16LE(i)));
  expect(peak).toBeGreaterThan(3000);

  // … and a file in the queue, which can be transcribed as a file.
  await expect(page.getByTestId('file-info')).toContainText(download.suggestedFilename());
  await expect(page.getByTestId('transcribe')).toBeEnabled();
});

for (const [name, message] of [
  ['NotAllowedError', /did not allow the microphone/],
  ['NotFoundError', /No microphone was found/],
] as const) {
  test(`live: a ${name} from getUserMedia is shown clearly and live mode stays usable`, async ({ page }) => {
    await page.addInitScript((errName) => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('test', errName));
    }, name);
    await page.goto('/');
    await page.getByTestId('model-input').setInputFiles(TINY_ASR);
    await expect(page.getByTestId('model-info')).toContainText('q4_0', { timeout: 60_000 });
    await page.getByTestId('live-start').click();
    await expect(page.getByTestId('live-error')).toHaveText(message);
    await expect(page.getByTestId('live-start')).toBeEnabled();
    await expect(page.getByTestId('live-stop')).toHaveCount(0);
    // Files still work while live mode is idle.
    await expect(page.getByTestId('live-panel')).toHaveAttribute('data-status', 'idle');
  });
}
