import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TimedToken } from '../pipeline-types';
import { applyTextStage, joinChunkTexts, joinChunkTokens } from './text-stage';

const itnExists = existsSync(new URL('./itn-zh.ts', import.meta.url));

const perChar = (text: string, t0 = 0): TimedToken[] => [...text].map((ch, k) => ({ text: ch, start: t0 + k * 0.3, end: t0 + k * 0.3 + 0.25 }));
const joined = (tokens: TimedToken[]) => tokens.map((t) => t.text).join('');

describe('joinChunkTexts', () => {
  it('joins CJK without a space and other scripts with one', () => {
    expect(joinChunkTexts(['你好', '世界'])).toBe('你好世界');
    expect(joinChunkTexts(['你好。', '世界。'])).toBe('你好。世界。');
    expect(joinChunkTexts(['Hello there.', 'How are you?'])).toBe('Hello there. How are you?');
    expect(joinChunkTexts(['こんにちは。', '元気ですか'])).toBe('こんにちは。元気ですか');
    expect(joinChunkTexts(['안녕하세요.', '반갑습니다'])).toBe('안녕하세요. 반갑습니다');
    expect(joinChunkTexts(['我用', 'Python'])).toBe('我用 Python');
    expect(joinChunkTexts(['  a ', '', '   ', 'b'])).toBe('a b');
    expect(joinChunkTexts([])).toBe('');
  });
});

describe('joinChunkTokens', () => {
  it('adds a leading space to a chunk that needs one, and nothing between CJK chunks', () => {
    const a: TimedToken[] = [{ text: 'Hello', start: 0, end: 1 }, { text: ' there.', start: 1, end: 2 }];
    const b: TimedToken[] = [{ text: 'How', start: 3, end: 4 }];
    const c: TimedToken[] = [{ text: '你好', start: 5, end: 6 }];
    const d: TimedToken[] = [{ text: '世界', start: 7, end: 8 }];
    const out = joinChunkTokens([a, b, [], c, d]);
    expect(joined(out)).toBe('Hello there. How 你好世界');
    expect(out[2]).toEqual({ text: ' How', start: 3, end: 4 });
    expect(b[0].text).toBe('How'); // inputs untouched
  });
});

describe('applyTextStage', () => {
  it('returns a copy when nothing is asked', async () => {
    const tokens = perChar('软件');
    const out = await applyTextStage(tokens, { itn: false, traditional: false });
    expect(out).toEqual(tokens);
    expect(out[0]).not.toBe(tokens[0]);
  });

  it('converts to Traditional keeping timings', async () => {
    const tokens = perChar('这个软件的鼠标信息', 2);
    const out = await applyTextStage(tokens, { itn: false, traditional: true });
    expect(joined(out)).toBe('這個軟體的滑鼠資訊');
    expect(out.map((t) => [t.start, t.end])).toEqual(tokens.map((t) => [t.start, t.end]));
  });

  it('groups words (jieba, on Simplified text) before the Traditional conversion', async () => {
    const tokens = perChar('今天天气很好我们去公园散步');
    const out = await applyTextStage(tokens, { itn: false, traditional: true, words: true });
    expect(out.map((t) => t.text)).toEqual(['今天天氣', '很', '好', '我們', '去', '公園', '散步']);
    expect(out[0]).toEqual({ text: '今天天氣', start: 0, end: tokens[3].end });
  });

  it.skipIf(!itnExists)('runs Chinese ITN before the Traditional conversion', async () => {
    const tokens = perChar('二零一九年一月三十一日');
    const itnOnly = await applyTextStage(tokens, { itn: true, traditional: false });
    expect(joined(itnOnly)).toBe('2019年1月31日');
    const both = await applyTextStage(perChar('两千块钱'), { itn: true, traditional: true });
    // ITN sees the Simplified 两/块/钱; the result is then converted
    expect(joined(both)).toMatch(/^2000塊錢$/u);
    for (let k = 1; k < both.length; k++) expect(both[k].start).toBeGreaterThanOrEqual(both[k - 1].start);
  });
});
