import { describe, expect, it } from 'vitest';
import { buildAsrPrompt, fixRepetitions, greedyDecode, normalizeLanguageName, parseAsrOutput, tokenizerFor } from './asr';
import { decoderForward, encodeAudio, loadModel } from './model';
import { argmax } from './numerics';
import { buildTinyModel } from './tiny-model';
import { createTokenizer } from './tokenizer';

const tok = createTokenizer();

describe('ASR prompt', () => {
  it('empty context: 151644 8948 198 151645 198 151644 872 198 151669 [151676 x A] 151670 151645 198 151644 77091 198', () => {
    for (const A of [0, 1, 7, 13]) {
      const ids = buildAsrPrompt(tok, A, {});
      expect(ids).toEqual([151644, 8948, 198, 151645, 198, 151644, 872, 198, 151669, ...Array(A).fill(151676), 151670, 151645, 198, 151644, 77091, 198]);
      expect(ids.length).toBe(A + 15);
    }
  });

  it('forced language appends "language English<asr_text>" = 11528 6364 151704', () => {
    const ids = buildAsrPrompt(tok, 3, { language: 'english' });
    expect(ids.slice(-6)).toEqual([151644, 77091, 198, 11528, 6364, 151704]);
    expect(buildAsrPrompt(tok, 3, { language: 'ENGLISH' })).toEqual(ids);
    expect(normalizeLanguageName('cHINESE')).toBe('Chinese');
  });

  it('context is tokenised together with the "system\\n" around it, NFC-normalised', () => {
    const ctx = '\n交易 停滞';
    const ids = buildAsrPrompt(tok, 2, { context: ctx });
    const sys = tok.encodePlain('system\n' + ctx);
    expect(ids.slice(0, 1 + sys.length + 1)).toEqual([151644, ...sys, 151645]);
    expect(sys.slice(0, 2)).toEqual([8948, 271]); // "\n\n" merges into one token
    expect(buildAsrPrompt(tok, 2, { context: 'cafe\u0301' })).toEqual(buildAsrPrompt(tok, 2, { context: 'café' }));
  });

  it('added tokens written in the context become their ids (as in the official processor)', () => {
    const ids = buildAsrPrompt(tok, 1, { context: 'a<asr_text>b' });
    expect(ids.slice(3, 6)).toEqual([64, 151704, 65]);
    expect(() => buildAsrPrompt(tok, 1, { context: '<|audio_pad|>' })).toThrow(/placeholders/);
  });

  it('decoding keeps <asr_text> and drops special tokens when asked', () => {
    const body = tok.encode('language English<asr_text>Hello world');
    expect(body.slice(0, 3)).toEqual([11528, 6364, 151704]);
    expect(tok.decode([...body, 151645], { skipSpecial: true })).toBe('language English<asr_text>Hello world');
    expect(tok.decode([...body, 151645])).toBe('language English<asr_text>Hello world<|im_end|>');
  });
});

describe('parseAsrOutput', () => {
  it('splits language and text at <asr_text>', () => {
    expect(parseAsrOutput('language English<asr_text>Hello world.')).toEqual({ language: 'English', text: 'Hello world.' });
    expect(parseAsrOutput('  language chinese<asr_text> 你好 \n')).toEqual({ language: 'Chinese', text: '你好' });
  });
  it('language None → empty language', () => {
    expect(parseAsrOutput('language None<asr_text>')).toEqual({ language: '', text: '' });
    expect(parseAsrOutput('language None<asr_text>noise')).toEqual({ language: '', text: 'noise' });
  });
  it('no tag → whole string, no language; forced language → whole string', () => {
    expect(parseAsrOutput('just text')).toEqual({ language: '', text: 'just text' });
    expect(parseAsrOutput('Bonjour <asr_text>', 'french')).toEqual({ language: 'French', text: 'Bonjour <asr_text>' });
    expect(parseAsrOutput('')).toEqual({ language: '', text: '' });
  });
  it('repairs runaway repetitions (threshold 20)', () => {
    expect(fixRepetitions('a'.repeat(21))).toBe('a');
    expect(fixRepetitions('a'.repeat(20))).toBe('a'.repeat(20));
    expect(fixRepetitions('我'.repeat(30) + '们')).toBe('我们');
    expect(fixRepetitions('xy' + 'ab'.repeat(25) + 'c')).toBe('xyabc');
    expect(fixRepetitions('ab'.repeat(19) + 'c')).toBe('ab'.repeat(19) + 'c');
    expect(fixRepetitions('hello '.repeat(22) + 'end')).toBe('hello end');
    // a pattern of 21 characters is not considered
    const p21 = 'abcdefghijklmnopqrstu';
    expect(fixRepetitions(p21.repeat(21))).toBe(p21.repeat(21));
    expect(parseAsrOutput('language English<asr_text>' + 'na'.repeat(30))).toEqual({ language: 'English', text: 'na' });
  });
});

describe('greedy decoding', () => {
  const model = loadModel(buildTinyModel({ seed: 99 }));
  const pcm = new Float32Array(12000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin((2 * Math.PI * 300 * i) / 16000) + 0.1 * Math.sin(i * 0.9);

  it('each step equals a full forward over prompt + generated prefix', () => {
    const g = greedyDecode(model, pcm, { maxNewTokens: 4, keepLogits: true });
    expect(g.ids.length + (g.stopId === null ? 0 : 1)).toBe(g.stepLogits!.length);
    expect(g.promptIds.length).toBe(g.audioTokens + 15);
    const enc = encodeAudio(model, pcm);
    for (let s = 0; s < g.stepLogits!.length; s++) {
      const ids = [...g.promptIds, ...g.ids.slice(0, s)];
      const full = decoderForward(model, ids, enc);
      let m = 0;
      for (let i = 0; i < full.logits.length; i++) m = Math.max(m, Math.abs(full.logits[i] - g.stepLogits![s][i]));
      expect(m).toBeLessThan(1e-10);
      if (s < g.ids.length) expect(g.ids[s]).toBe(argmax(full.logits));
    }
    expect(g.text).toBe(tokenizerFor(model).decode(g.ids, { skipSpecial: true }));
  });

  it('stops on a stop id (not included in ids) and honours maxNewTokens', () => {
    const first = greedyDecode(model, pcm, { maxNewTokens: 1 });
    expect(first.ids.length).toBe(1);
    expect(first.stopId).toBeNull();
    const stopped = greedyDecode(model, pcm, { maxNewTokens: 5, stopIds: [first.ids[0]] });
    expect(stopped.ids).toEqual([]);
    expect(stopped.stopId).toBe(first.ids[0]);
    const forced = greedyDecode(model, pcm, { maxNewTokens: 1, language: 'English' });
    expect(forced.promptIds.slice(-3)).toEqual([11528, 6364, 151704]);
  });
});
