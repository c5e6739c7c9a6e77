import { describe, expect, it } from 'vitest';
import { align, buildAlignerInput, fixTimestamps, splitUnits } from './aligner';
import { decoderForward, encodeAudio, loadModel } from './model';
import { argmax } from './numerics';
import { buildTinyModel } from './tiny-model';
import { createTokenizer } from './tokenizer';

describe('splitUnits', () => {
  it('Chinese per character, other scripts per whitespace word', () => {
    expect(splitUnits('你好世界', 'Chinese')).toEqual(['你', '好', '世', '界']);
    expect(splitUnits('Hello, world!', 'English')).toEqual(['Hello', 'world']);
    expect(splitUnits('  Hello\tbig\nworld  ')).toEqual(['Hello', 'big', 'world']);
    expect(splitUnits('안녕하세요 세계', 'Korean')).toEqual(['안녕하세요', '세계']);
    expect(splitUnits('Привет, мир', 'ru')).toEqual(['Привет', 'мир']);
  });

  it('keeps only letters, numbers and the ASCII apostrophe (no lower-casing)', () => {
    expect(splitUnits('e-mail')).toEqual(['email']);
    expect(splitUnits('3.5')).toEqual(['35']);
    expect(splitUnits("don't")).toEqual(["don't"]);
    expect(splitUnits('don\u2019t')).toEqual(['dont']);
    expect(splitUnits('我用iPhone拍照。', 'Chinese')).toEqual(['我', '用', 'iPhone', '拍', '照']);
    expect(splitUnits('abc你def')).toEqual(['abc', '你', 'def']);
    expect(splitUnits('C++ 和 C#')).toEqual(['C', '和', 'C']);
  });

  it('punctuation-only or empty text gives no units', () => {
    expect(splitUnits('')).toEqual([]);
    expect(splitUnits('，。！？ ... — !!')).toEqual([]);
  });

  it('splits on Python whitespace, including U+3000 and NBSP', () => {
    expect(splitUnits('a\u3000b\u00a0c\u2009d')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('CJK ranges include compatibility ideographs, U+2F800–2FA1F and unassigned code points inside the ranges', () => {
    expect(splitUnits('\u{2F800}\u{2F801}x')).toEqual(['\u{2F800}', '\u{2F801}', 'x']);
    expect(splitUnits('a\uFA6Eb')).toEqual(['a', '\uFA6E', 'b']); // U+FA6E is unassigned
    expect(splitUnits('\u{2CEA2}')).toEqual(['\u{2CEA2}']); // unassigned, inside 2B820–2CEAF
    expect(splitUnits('\u{20000}\u3400')).toEqual(['\u{20000}', '\u3400']);
  });

  it('the unit keeps its raw text (combining marks are filtered out, NFC happens at tokenisation)', () => {
    expect(splitUnits('cafe\u0301')).toEqual(['cafe']);
    expect(splitUnits('café')).toEqual(['café']);
    expect(splitUnits('\uF900')).toEqual(['\uF900']);
  });

  it('rejects languages the aligner does not support; accepts ISO codes', () => {
    expect(() => splitUnits('x', 'Arabic')).toThrow(/unsupported/);
    expect(() => splitUnits('x', 'ar')).toThrow(/unsupported/);
    expect(splitUnits('x y', 'en')).toEqual(['x', 'y']);
    expect(splitUnits('x y', 'YUE')).toEqual(['x', 'y']);
  });
});

describe('fixTimestamps (LIS repair)', () => {
  it('keeps a non-decreasing list', () => {
    expect(fixTimestamps([0, 80, 80, 160, 400])).toEqual([0, 80, 80, 160, 400]);
    expect(fixTimestamps([])).toEqual([]);
  });

  it('m = 1: the left neighbour wins the tie', () => {
    expect(fixTimestamps([0, 80, 40, 160, 240])).toEqual([0, 80, 80, 160, 240]);
  });

  it('m = 2: nearest neighbour, left on ties', () => {
    // normal: 0, 300, 400 (LIS through index 1); run [2,4): k=2 → left 300, k=3 → right 400
    expect(fixTimestamps([0, 300, 200, 100, 400])).toEqual([0, 300, 300, 400, 400]);
    // leading run without a left neighbour copies the right one
    expect(fixTimestamps([500, 600, 100, 200, 300])).toEqual([100, 100, 100, 200, 300]);
    // trailing run without a right neighbour copies the left one
    expect(fixTimestamps([100, 200, 300, 50, 60])).toEqual([100, 200, 300, 300, 300]);
  });

  it('the LIS end is the first index reaching the maximum, parents are the earliest j', () => {
    // 100,500,600,700,1000 and 100,200,300,400,1000 both have length 5; the first path wins, so the
    // run 200,300,400 (m = 3) is interpolated between 700 and 1000 in steps of 75.
    expect(fixTimestamps([100, 500, 600, 700, 200, 300, 400, 1000])).toEqual([100, 500, 600, 700, 775, 850, 925, 1000]);
  });

  it('m > 2: L + step·t with step = (R − L)/(m + 1), then truncation to integer ms', () => {
    // normal 0, 80, 100; the run of 5 between 0 and 80: 13.33, 26.67, 40, 53.33, 66.67 → truncated
    expect(fixTimestamps([0, 900, 800, 700, 600, 500, 80, 100])).toEqual([0, 13, 26, 40, 53, 66, 80, 100]);
    // m > 2 with only one neighbour copies it
    expect(fixTimestamps([0, 80, 160, 50, 40, 30])).toEqual([0, 80, 160, 160, 160, 160]);
  });

  it('truncates toward zero', () => {
    expect(fixTimestamps([10.9, 20.5])).toEqual([10, 20]);
  });
});

describe('aligner input and forward', () => {
  const tok = createTokenizer();

  it('builds <|audio_start|> A×pad <|audio_end|> unit <ts><ts> …', () => {
    expect(buildAlignerInput(tok, 2, ['Hello', 'world'])).toEqual([151669, 151676, 151676, 151670, 9707, 151705, 151705, 14615, 151705, 151705]);
    // units are encoded on their own: no leading space merges
    expect(buildAlignerInput(tok, 0, ['world']).slice(2, 3)).toEqual(tok.encodePlain('world'));
    // NFC at tokenisation: a compatibility ideograph is tokenised as its canonical form
    expect(buildAlignerInput(tok, 0, ['\uF900'])).toEqual(buildAlignerInput(tok, 0, ['\u8C48']));
  });

  it('empty text still gets one <timestamp><timestamp> pair', () => {
    expect(buildAlignerInput(tok, 3, [])).toEqual([151669, 151676, 151676, 151676, 151670, 151705, 151705]);
  });

  const model = loadModel(buildTinyModel({ aligner: true, classifyNum: 97, seed: 4242 }));
  const pcm = new Float32Array(28000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin((2 * Math.PI * (200 + i / 100) * i) / 16000);

  it('reads the class count and segment time from the file', () => {
    expect(model.isAligner).toBe(true);
    expect(model.classifyNum).toBe(97);
    expect(model.text.headRows).toBe(97);
    expect(model.timestampSegmentMs).toBe(80);
  });

  it('argmax of the logits AT each slot position × 80 ms, then the repair', () => {
    const r = align(model, pcm, 'The quick, brown fox 跳', { language: 'English' });
    expect(r.units.map((u) => u.text)).toEqual(['The', 'quick', 'brown', 'fox', '跳']);
    expect(r.classes.length).toBe(10);
    expect(r.slotLogits.length).toBe(10 * 97);
    expect(r.slotPositions).toEqual(r.inputIds.flatMap((id, i) => (id === 151705 ? [i] : [])));
    const enc = encodeAudio(model, pcm);
    expect(r.audioTokens).toBe(enc.tokens);
    const ref = decoderForward(model, r.inputIds, enc, 151676, { positions: r.slotPositions });
    for (let s = 0; s < 10; s++) {
      expect(r.classes[s]).toBe(argmax(ref.logits, s * 97, 97));
      expect(r.rawMs[s]).toBe(r.classes[s] * 80);
    }
    expect(r.fixedMs).toEqual(fixTimestamps(r.rawMs));
    r.units.forEach((u, k) => {
      expect(u.start).toBe(r.fixedMs[2 * k]);
      expect(u.end).toBe(r.fixedMs[2 * k + 1]);
    });
    for (let k = 1; k < r.fixedMs.length; k++) expect(r.fixedMs[k]).toBeGreaterThanOrEqual(r.fixedMs[k - 1]);
  });

  it('empty / punctuation-only text: A + 4 input tokens, 2 slots, no units', () => {
    const r = align(model, pcm, ' ，。 ');
    expect(r.units).toEqual([]);
    expect(r.inputIds.length).toBe(r.audioTokens + 4);
    expect(r.classes.length).toBe(2);
  });

  it('uses timestamp_segment_time from config.json', () => {
    const m40 = loadModel(
      buildTinyModel({ aligner: true, classifyNum: 97, seed: 4242, metaPatch: (meta) => (meta['config.json'].timestamp_segment_time = 40) }),
    );
    const r = align(m40, pcm, 'one two');
    expect(r.rawMs).toEqual(r.classes.map((c) => c * 40));
  });

  it('refuses an ASR model', () => {
    const asr = loadModel(buildTinyModel({ text: { vocab: 700 } }));
    expect(() => align(asr, pcm, 'x')).toThrow(/ForcedAligner/);
  });
});
