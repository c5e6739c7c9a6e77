import { describe, expect, it } from 'vitest';
import { en, type MessageKey } from './en';
import { interpolate, matchLocale, placeholders, render, type Message } from './format';
import { zhCN } from './zh-CN';
import { zhTW } from './zh-TW';

const keys = Object.keys(en) as MessageKey[];

describe('message tables', () => {
  for (const [name, table] of [
    ['zh-TW', zhTW],
    ['zh-CN', zhCN],
  ] as [string, Record<MessageKey, Message>][]) {
    it(`${name} has every key of the English table, no others, with the same placeholders`, () => {
      expect(Object.keys(table).sort()).toEqual([...keys].sort());
      for (const key of keys) expect(placeholders(table[key]), key).toEqual(placeholders(en[key]));
    });

    it(`${name} is translated (Chinese characters in most messages)`, () => {
      const han = keys.filter((k) => /\p{Script=Han}/u.test(JSON.stringify(table[k])));
      expect(han.length / keys.length).toBeGreaterThan(0.85);
    });
  }

  it('plural messages use {count}', () => {
    for (const key of keys) {
      const m = en[key] as Message;
      if (typeof m !== 'string') expect(placeholders(m), key).toContain('count');
    }
  });

  it('the Traditional table is not the Simplified one', () => {
    expect(zhTW['transcript.title']).not.toBe(zhCN['transcript.title']);
    expect(JSON.stringify(zhTW)).not.toMatch(/[转导线这个们设页识]/u);
    expect(JSON.stringify(zhCN)).not.toMatch(/[轉導線這個們設頁識]/u);
  });
});

describe('render', () => {
  it('fills placeholders and chooses plural forms by count', () => {
    expect(render(en['queue.count'], { count: 1 })).toBe('1 file');
    expect(render(en['queue.count'], { count: 3 })).toBe('3 files');
    expect(render(en['progress.chunkOf'], { n: 2, count: 5 })).toBe('Chunk 2 of 5');
    expect(render(zhTW['queue.count'], { count: 3 })).toBe('3 個檔案');
    expect(render(en['models.languageCount'], { count: 1 })).toBe('1 language');
    expect(render(en['models.languageCount'], { count: 30 })).toBe('30 languages');
    expect(render(en['models.firstRunBody'], { name: 'Qwen3-ASR 0.6B (q4_0)', size: '539 MB' })).toMatch(
      /^Qwen3-ASR 0\.6B \(q4_0\): 539 MB, downloaded once and kept in this browser\. /,
    );
    expect(render(zhCN['models.progress'], { pct: 40, done: '10.6 MB', total: '26.6 MB' })).toBe('40% · 10.6 MB / 26.6 MB');
  });

  it('leaves unknown placeholders visible', () => {
    expect(interpolate('a {b} {c}', { b: 1 })).toBe('a 1 {c}');
    expect(interpolate('no params')).toBe('no params');
  });
});

describe('matchLocale', () => {
  it('maps the browser languages to the UI language', () => {
    expect(matchLocale(['zh-TW'])).toBe('zh-TW');
    expect(matchLocale(['zh-HK', 'en'])).toBe('zh-TW');
    expect(matchLocale(['zh-Hant-CN'])).toBe('zh-TW');
    expect(matchLocale(['zh-CN'])).toBe('zh-CN');
    expect(matchLocale(['zh'])).toBe('zh-CN');
    expect(matchLocale(['zh-Hans-TW'])).toBe('zh-CN');
    expect(matchLocale(['zh_SG'])).toBe('zh-CN');
    expect(matchLocale(['en-US', 'zh-TW'])).toBe('en');
    expect(matchLocale(['fr-FR', 'zh-TW'])).toBe('zh-TW');
    expect(matchLocale(['fr-FR'])).toBe('en');
    expect(matchLocale([])).toBe('en');
  });
});
