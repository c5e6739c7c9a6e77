// The transcript as a person works with it, end to end in Chromium with the tiny generated models:
// the player follows the words (a click on a word seeks to it), edits reach the exports, search, the
// keyboard, text streaming while a chunk runs, a queue of files, cancel, the "[speech]" SRT of an
// analysis without a model, and screenshots of the main states in both themes at two widths
// (test-results/screens/, looked at by a person).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Download, type Page } from '@playwright/test';
import { fixturePath, ROOT, TINY_ALIGNER, TINY_ASR } from './fixtures';

const SCREENS = join(ROOT, 'test-results/screens');

interface SrtCue {
  index: number;
  start: number;
  end: number;
  lines: string[];
}

/** A small SubRip reader (CRLF or LF). */
function parseSrt(text: string): SrtCue[] {
  const body = text.replace(/\r\n/g, '\n').trim();
  if (!body) return [];
  const sec = (h: string, m: string, s: string, ms: string) => Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;
  return body.split(/\n\n+/).map((block) => {
    const [index, timing, ...lines] = block.split('\n');
    const m = /^(\d{2}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2}):(\d{2}):(\d{2}),(\d{3})$/.exec(timing);
    if (!m) throw new Error(`bad SRT block: ${block}`);
    return { index: Number(index), start: sec(m[1], m[2], m[3], m[4]), end: sec(m[5], m[6], m[7], m[8]), lines };
  });
}

async function loadModels(page: Page, aligner = true): Promise<void> {
  await page.getByTestId('model-input').setInputFiles(TINY_ASR);
  await expect(page.getByTestId('model-info')).toContainText('q4_0', { timeout: 60_000 });
  if (!aligner) return;
  await page.getByTestId('model-input').setInputFiles(TINY_ALIGNER);
  await expect(page.getByTestId('model-info')).toContainText('Forced aligner', { timeout: 60_000 });
}

async function addFiles(page: Page, ...files: string[]): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(files.map(fixturePath));
}

async function downloadText(page: Page, testId: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return { name: download.suggestedFilename(), text: await readDownload(download) };
}

async function readDownload(download: Download): Promise<string> {
  const path = await download.path();
  return readFileSync(path, 'utf8');
}

const playerTime = (page: Page) => page.getByTestId('player').evaluate((el) => (el as HTMLMediaElement).currentTime);

test.beforeEach(async ({ page }) => {
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto('/');
});

test('a word click seeks the player to the word; an edit reaches the SRT; search and keys work', async ({ page }) => {
  await loadModels(page);
  await addFiles(page, 'canonical.wav');
  // The file is described and playable before it is transcribed.
  await expect(page.getByTestId('file-info')).toContainText('canonical.wav');
  await expect(page.getByTestId('player')).toBeVisible();
  await page.getByTestId('transcribe').click();
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });
  // What ffmpeg said about the file: duration, container, codec.
  await expect(page.getByTestId('file-info')).toContainText(/00:13/);
  await expect(page.getByTestId('file-info')).toContainText('WAV');
  await expect(page.getByTestId('file-info')).toContainText('pcm_s16le');

  const spoken = page.locator('[data-testid="chunk"][data-status="done"]');
  const n = await spoken.count();
  test.skip(n === 0, 'the random model produced no text for this file');
  const chunk = spoken.first();
  const words = chunk.getByTestId('word');
  const count = await words.count();
  expect(count).toBeGreaterThan(1);

  // The word times shown are the aligner's (the JSON export's words of the same chunk).
  const json = JSON.parse((await downloadText(page, 'export-json')).text);
  const jsonWords = json.segments[0].words as { text: string; start: number }[];
  expect(jsonWords).toHaveLength(count);

  // Words that start at a time of their own (the random aligner gives many words the same time) are lit
  // when clicked; every word seeks the player to its start.
  const chunkStart = Number(await chunk.getAttribute('data-start'));
  const chunkEnd = Number(await chunk.getAttribute('data-end'));
  const starts = await words.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-start'))));
  const own = starts.map((_, k) => k).filter((k) => starts[k] < chunkEnd - 0.05 && (k + 1 === starts.length || starts[k + 1] > starts[k] + 0.01));
  const picks = [...new Set([own[0], own[Math.floor(own.length / 2)], own.at(-1), 1, count - 1])].filter((k): k is number => k !== undefined);
  for (const k of picks) {
    const word = words.nth(k);
    const start = starts[k];
    expect(start).toBeGreaterThanOrEqual(chunkStart);
    expect(start).toBeLessThanOrEqual(chunkEnd);
    expect(start).toBeCloseTo(jsonWords[k].start, 2);
    expect((await word.textContent())?.trim()).toBe(jsonWords[k].text);
    await word.click();
    await expect.poll(async () => Math.abs((await playerTime(page)) - start), { timeout: 5000 }).toBeLessThanOrEqual(0.1);
    if (own.includes(k)) {
      // The word clicked is the one lit, its chunk the active one.
      await expect(word).toHaveClass(/\bnow\b/);
      await expect(chunk).toHaveClass(/\bactive\b/);
    }
  }

  // The chunk's time seeks to the chunk's start.
  await chunk.getByTestId('chunk-time').click();
  await expect.poll(() => playerTime(page)).toBeCloseTo(chunkStart, 1);

  // Keys: → forward 5 s, ← back, ? opens the list, Esc closes it.
  await page.locator('body').click({ position: { x: 2, y: 2 } });
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => playerTime(page)).toBeCloseTo(chunkStart + 5, 1);
  await page.keyboard.press('j');
  await expect.poll(() => playerTime(page)).toBeCloseTo(chunkStart, 1);
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts-dialog')).toBeVisible();
  await expect(page.getByTestId('shortcuts-dialog')).toContainText('Play / pause');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shortcuts-dialog')).toBeHidden();

  // Edit the chunk: the new text is shown, marked, and in every export.
  const EDIT = 'Edited by hand: the quick brown fox';
  await chunk.hover();
  await chunk.getByTestId('chunk-edit').click();
  await chunk.getByTestId('chunk-editor').fill(EDIT);
  await chunk.getByTestId('chunk-save').click();
  await expect(chunk.getByTestId('chunk-edited')).toBeVisible();
  await expect(chunk).toContainText(EDIT);
  const srt = await downloadText(page, 'export-srt');
  expect(srt.name).toBe('canonical.srt');
  const cues = parseSrt(srt.text);
  expect(cues.map((c) => c.lines.join(' ')).join(' ')).toContain(EDIT);
  // The edited chunk keeps its place in time (a cue may reach into the silence after it, to last 0.8 s).
  for (const c of cues) {
    expect(c.start).toBeGreaterThanOrEqual(chunkStart - 0.001);
    expect(c.end).toBeLessThanOrEqual(chunkEnd + 0.801);
  }
  expect((await downloadText(page, 'export-txt')).text).toContain(EDIT);
  // The edited words can still be clicked to seek.
  const edited = chunk.getByTestId('word').filter({ hasText: 'fox' }).last();
  const foxStart = Number(await edited.getAttribute('data-start'));
  await edited.click();
  await expect.poll(() => playerTime(page)).toBeCloseTo(foxStart, 1);

  // Search: "/" focuses the box, matches are marked and counted.
  await page.locator('body').click({ position: { x: 2, y: 2 } });
  await page.keyboard.press('/');
  await expect(page.getByTestId('search')).toBeFocused();
  await page.keyboard.type('QUICK');
  await expect(page.getByTestId('search-count')).toHaveText('1 of 1');
  await expect(chunk.locator('.w.current-match')).toHaveText(/quick/i);
  await page.getByTestId('search').fill('zzzz-not-there');
  await expect(page.getByTestId('search-count')).toHaveText('No matches');

  // Undo the edit: the recognised text is back.
  await chunk.getByTestId('chunk-revert').click();
  await expect(chunk.getByTestId('chunk-edited')).toHaveCount(0);
  expect((await downloadText(page, 'export-txt')).text).not.toContain(EDIT);
});

test('tokens stream into the page while a chunk runs', async ({ page }) => {
  await loadModels(page, false);
  await addFiles(page, 'canonical.wav');
  // Record every partial text of every running chunk, as the page shows it.
  await page.evaluate(() => {
    const seen: Record<string, { partials: string[]; final?: string; firstAt?: number; doneAt?: number }> = {};
    (window as unknown as { __seen: typeof seen }).__seen = seen;
    const record = () => {
      for (const el of document.querySelectorAll<HTMLElement>('[data-testid="chunk"]')) {
        const k = el.dataset.index ?? '?';
        const entry = (seen[k] ??= { partials: [] });
        const partial = el.querySelector('[data-testid="partial"]')?.textContent ?? '';
        if (el.dataset.status === 'running' && partial && partial !== entry.partials.at(-1)) {
          entry.partials.push(partial);
          entry.firstAt ??= performance.now();
        }
        if (el.dataset.status === 'done' && entry.final === undefined) {
          entry.final = el.querySelector('.text')?.textContent ?? '';
          entry.doneAt = performance.now();
        }
      }
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  // The tiny model decodes a chunk in a few hundred ms and the page shows the text every 100 ms: slow
  // the CPU down so that a chunk runs long enough to be seen growing on a fast, quiet machine too.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await page.getByTestId('transcribe').click();
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  type Seen = { partials: string[]; final?: string; firstAt?: number; doneAt?: number };
  const seen = await page.evaluate(() => (window as unknown as { __seen: Record<string, Seen> }).__seen);
  const withText = Object.values(seen).filter((s) => s.final && s.final.trim());
  test.skip(withText.length === 0, 'the random model produced no text');
  // Every chunk with text showed some of it before it finished; one that kept decoding for at least
  // 3 of the page's 100 ms updates after its first partial showed it growing, token by token.
  console.log(`[stream] per chunk with text: ${withText.map((s) => `${s.partials.length} partials over ${((s.doneAt ?? 0) - (s.firstAt ?? 0)).toFixed(0)} ms`).join(', ')}`);
  for (const s of withText) expect(s.partials.length, 'text shown while the chunk ran').toBeGreaterThan(0);
  for (const s of withText.filter((x) => (x.doneAt ?? 0) - (x.firstAt ?? 0) >= 300)) expect(s.partials.length).toBeGreaterThanOrEqual(2);
  const grew = withText.filter((s) => s.partials.length >= 2);
  for (const s of grew) {
    for (let i = 1; i < s.partials.length; i++) {
      expect(s.partials[i].startsWith(s.partials[i - 1])).toBe(true);
      expect(s.partials[i].length).toBeGreaterThan(s.partials[i - 1].length);
    }
  }
});

test('a queue of three files is processed in order, each transcript kept and selectable', async ({ page }) => {
  await loadModels(page, false);
  const files = ['canonical.wav', 'canonical.flac', 'canonical.mp3'];
  await addFiles(page, ...files);
  await expect(page.getByTestId('queue-item')).toHaveCount(3);
  await expect(page.getByTestId('transcribe')).toHaveText('Transcribe 3 files');
  // Record the order in which the files start and finish.
  await page.evaluate(() => {
    const log: string[] = [];
    (window as unknown as { __log: string[] }).__log = log;
    const last = new Map<string, string>();
    new MutationObserver(() => {
      for (const el of document.querySelectorAll<HTMLElement>('[data-testid="queue-item"]')) {
        const name = el.dataset.name ?? '';
        const status = el.dataset.status ?? '';
        if (last.get(name) !== status) {
          last.set(name, status);
          log.push(`${name}:${status}`);
        }
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-status'] });
  });
  await page.getByTestId('transcribe').click();
  await expect(page.locator('[data-testid="queue-item"][data-status="done"]')).toHaveCount(3, { timeout: 180_000 });
  await expect(page.getByTestId('transcribe')).toBeEnabled();
  const log = await page.evaluate(() => (window as unknown as { __log: string[] }).__log);
  const started = log.filter((e) => e.endsWith(':running')).map((e) => e.split(':')[0]);
  expect(started).toEqual(files);
  // Each one finished before the next started.
  for (let i = 0; i + 1 < files.length; i++) {
    expect(log.indexOf(`${files[i]}:done`)).toBeLessThan(log.indexOf(`${files[i + 1]}:running`));
  }
  // Every file keeps its transcript: selecting one shows it, and exports are named after it.
  for (const name of files) {
    await page.locator(`[data-testid="queue-item"][data-name="${name}"] .pick`).click();
    await expect(page.getByTestId('file-info')).toContainText(name);
    await expect(page.getByTestId('chunk').first()).toBeVisible();
    const statuses = await page.getByTestId('chunk').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    for (const s of statuses) expect(['done', 'no-speech']).toContain(s);
    if (statuses.includes('done')) {
      const txt = await downloadText(page, 'export-txt');
      expect(txt.name).toBe(`${name.replace(/\.[^.]+$/, '')}.txt`);
    }
  }
  await expect(page.getByTestId('file-info')).toContainText('MP3');
});

test('cancel in the middle stops that file, keeps the rest queued, and the app carries on', async ({ page }) => {
  await loadModels(page, false);
  await addFiles(page, 'long-3h.mp3', 'canonical.wav');
  await page.getByTestId('transcribe').click();
  // Wait until the long file is really being transcribed (a chunk has run).
  await expect(page.locator('[data-testid="chunk"][data-status="done"], [data-testid="chunk"][data-status="no-speech"]').first()).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('waiting')).toContainText('1 file waiting (kept if you cancel)');
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('stage')).toHaveText(/^Cancelled/, { timeout: 30_000 });
  await expect(page.locator('[data-testid="queue-item"][data-name="long-3h.mp3"]')).toHaveAttribute('data-status', 'cancelled');
  await expect(page.locator('[data-testid="queue-item"][data-name="canonical.wav"]')).toHaveAttribute('data-status', 'pending');
  await expect(page.getByTestId('error')).toHaveCount(0);
  // The finished chunks of the long file are kept and can be exported.
  await expect(page.getByTestId('transcript')).toBeVisible();
  // The rest of the queue goes on.
  await expect(page.getByTestId('transcribe')).toBeEnabled();
  await page.getByTestId('transcribe').click();
  await expect(page.locator('[data-testid="queue-item"][data-name="canonical.wav"]')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(page.getByTestId('stage')).toHaveText(/^Done/);
  await expect(page.getByTestId('file-info')).toContainText('canonical.wav');
});

test('without a model, the speech analysis downloads as SRT with one "[speech]" cue per chunk', async ({ page }) => {
  await addFiles(page, 'canonical.wav');
  await expect(page.getByTestId('transcribe')).toHaveText('Analyse speech (no model loaded)');
  await page.getByTestId('transcribe').click();
  await expect(page.getByTestId('stage')).toHaveText(/Done — speech found/, { timeout: 90_000 });
  const chunks = await page.getByTestId('chunk').evaluateAll((els) =>
    els.map((e) => ({ start: Number(e.getAttribute('data-start')), end: Number(e.getAttribute('data-end')), status: e.getAttribute('data-status') })),
  );
  expect(chunks.length).toBeGreaterThan(0);
  for (const id of ['export-txt', 'export-vtt', 'export-json']) await expect(page.getByTestId(id)).toBeDisabled();
  await expect(page.getByTestId('export-srt')).toBeEnabled();
  const srt = await downloadText(page, 'export-srt');
  expect(srt.name).toBe('canonical.speech.srt');
  const cues = parseSrt(srt.text);
  const planned = chunks.filter((c) => c.status !== 'error');
  expect(cues).toHaveLength(planned.length);
  cues.forEach((cue, i) => {
    expect(cue.index).toBe(i + 1);
    expect(cue.lines).toEqual(['[speech]']);
    expect(Math.abs(cue.start - planned[i].start)).toBeLessThanOrEqual(0.001);
    expect(Math.abs(cue.end - planned[i].end)).toBeLessThanOrEqual(0.001);
  });
});

test('the UI language follows the picker and is remembered', async ({ page }) => {
  await page.getByTestId('ui-language').selectOption('zh-TW');
  await expect(page.locator('h1')).toHaveText('私密語音辨識');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-TW');
  await expect(page.getByTestId('transcribe')).toHaveText('分析語音（未載入模型）');
  await page.reload();
  await expect(page.locator('h1')).toHaveText('私密語音辨識');
  await page.getByTestId('ui-language').selectOption('zh-CN');
  await expect(page.locator('h1')).toHaveText('私密语音识别');
  await page.getByTestId('ui-language').selectOption('en');
  await expect(page.locator('h1')).toHaveText('Private Speech Recognition');
});

// ---- screenshots ------------------------------------------------------------------------------------------

for (const theme of ['light', 'dark'] as const) {
  test(`screenshots of the main states, ${theme} theme, 1280 and 390 wide`, async ({ page }) => {
    test.setTimeout(300_000);
    mkdirSync(SCREENS, { recursive: true });
    await page.addInitScript((t) => localStorage.setItem('theme', t), theme);
    await page.reload();
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    await expect(page.getByTestId('engine-badge')).toContainText('multi-threaded');
    const shoot = async (state: string) => {
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: width > 1000 ? 900 : 844 });
        await page.waitForTimeout(150);
        await page.screenshot({ path: join(SCREENS, `${state}-${theme}-${width}.png`), fullPage: true, animations: 'disabled', caret: 'hide' });
      }
      await page.setViewportSize({ width: 1280, height: 900 });
    };

    await shoot('empty');

    // Error: not an audio file.
    await addFiles(page, 'image.png');
    await page.getByTestId('transcribe').click();
    await expect(page.getByTestId('error')).toContainText(/is an image/, { timeout: 60_000 });
    await shoot('error');
    await page.getByTestId('clear').click();

    await loadModels(page);

    // Done: a transcript with word timings, the player in the middle of a word.
    await addFiles(page, 'canonical.wav');
    await page.getByTestId('transcribe').click();
    await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });
    // The player in the middle of the first spoken chunk (its row lit as the one playing).
    const spoken = page.locator('[data-testid="chunk"][data-status="done"]').first();
    if (await spoken.count()) {
      await spoken.getByTestId('chunk-time').click();
      await page.keyboard.press('l');
      await expect(spoken).toHaveClass(/\bactive\b/);
    }
    await page.mouse.move(0, 0);
    await shoot('done');

    // Working: a long file being transcribed, another one waiting.
    await page.getByTestId('clear').click();
    await addFiles(page, 'long-3h.mp3', 'canonical.mp3');
    await page.getByTestId('transcribe').click();
    await expect(page.locator('[data-testid="chunk"][data-status="done"], [data-testid="chunk"][data-status="no-speech"]').first()).toBeVisible({ timeout: 120_000 });
    await shoot('working');
    await page.getByTestId('cancel').click();
    await expect(page.getByTestId('stage')).toHaveText(/^Cancelled/, { timeout: 30_000 });
  });
}

test('screenshots in Chinese (zh-TW at 390, zh-CN at 1280)', async ({ page }) => {
  mkdirSync(SCREENS, { recursive: true });
  await loadModels(page);
  await addFiles(page, 'canonical.wav');
  await page.getByTestId('transcribe').click();
  await expect(page.getByTestId('stage')).toHaveText(/^Done/, { timeout: 120_000 });
  await page.getByTestId('ui-language').selectOption('zh-TW');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SCREENS, 'done-zh-TW-light-390.png'), fullPage: true, animations: 'disabled' });
  await page.getByTestId('ui-language').selectOption('zh-CN');
  await page.getByTestId('theme-toggle').click(); // auto → light
  await page.getByTestId('theme-toggle').click(); // light → dark
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(SCREENS, 'done-zh-CN-dark-1280.png'), fullPage: true, animations: 'disabled' });
  await page.keyboard.press('?');
  await page.screenshot({ path: join(SCREENS, 'shortcuts-zh-CN-dark-1280.png'), animations: 'disabled' });
});
