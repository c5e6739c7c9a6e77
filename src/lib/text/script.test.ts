import { describe, expect, it } from 'vitest';
import { charWidth, displayWidth, endsClause, endsSentence, hasWide, isAlignerCjk, isTight } from './script';

describe('script helpers', () => {
  it('measures display width: CJK and full-width 2, Latin 1, combining marks 0', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('你好')).toBe(4);
    expect(displayWidth('，。')).toBe(4);
    expect(displayWidth('ＡＢ')).toBe(4);
    expect(displayWidth('한국')).toBe(4);
    expect(displayWidth('cafe\u0301')).toBe(4);
    expect(charWidth('😀')).toBe(2);
    expect(hasWide('abc')).toBe(false);
    expect(hasWide('a你')).toBe(true);
  });

  it('knows the aligner CJK ranges', () => {
    expect(isAlignerCjk('你'.codePointAt(0)!)).toBe(true);
    expect(isAlignerCjk(0x2f800)).toBe(true);
    expect(isAlignerCjk(0x2ceaf)).toBe(true);
    expect(isAlignerCjk('あ'.codePointAt(0)!)).toBe(false);
    expect(isAlignerCjk('a'.codePointAt(0)!)).toBe(false);
  });

  it('tells tight scripts (no spaces) from the others', () => {
    expect(isTight('你')).toBe(true);
    expect(isTight('あ')).toBe(true);
    expect(isTight('。')).toBe(true);
    expect(isTight('한')).toBe(false);
    expect(isTight('a')).toBe(false);
  });

  it('finds sentence and clause ends', () => {
    for (const s of ['好。', 'done.', 'what?', 'yes!', '好！”', 'end."', 'so…']) expect(endsSentence(s), s).toBe(true);
    for (const s of ['Mr.', ' Dr.', ' J.', '3.5', '好，', 'word']) expect(endsSentence(s), s).toBe(false);
    expect(endsSentence(' I.')).toBe(true);
    for (const s of ['好，', 'so,', '是；', 'a:', '一、']) expect(endsClause(s), s).toBe(true);
    expect(endsClause('好')).toBe(false);
  });
});
