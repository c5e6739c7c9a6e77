import { describe, expect, it } from 'vitest';
import { joinTexts, transcriptToJson, transcriptToSpeechSrt, transcriptToSrt, transcriptToText, transcriptToVtt } from './export';
import type { TimedToken, Transcript, TranscriptChunk } from './pipeline-types';
import { alignerUnits, attachTimes } from './text/units';

// ---- a small, independent subtitle reader -------------------------------------------------

interface ParsedCue {
  index?: number;
  start: number;
  end: number;
  lines: string[];
}

const toSec = (h: string, m: string, s: string, ms: string) => Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;

function parseSrt(srt: string): ParsedCue[] {
  const body = srt.replace(/\r\n/g, '\n').trim();
  if (!body) return [];
  return body.split(/\n\n+/).map((block) => {
    const [index, timing, ...lines] = block.split('\n');
    const m = /^(\d{2,}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2,}):(\d{2}):(\d{2}),(\d{3})$/.exec(timing);
    if (!m || !/^\d+$/.test(index)) throw new Error(`bad SRT block: ${JSON.stringify(block)}`);
    return { index: Number(index), start: toSec(m[1], m[2], m[3], m[4]), end: toSec(m[5], m[6], m[7], m[8]), lines };
  });
}

function parseVtt(vtt: string): ParsedCue[] {
  const [header, ...blocks] = vtt.replace(/\r\n/g, '\n').trim().split(/\n\n+/);
  if (!/^WEBVTT(\s|$)/.test(header)) throw new Error('missing WEBVTT header');
  return blocks.map((block) => {
    const [timing, ...lines] = block.split('\n');
    const m = /^(\d{2,}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2,}):(\d{2}):(\d{2})\.(\d{3})$/.exec(timing);
    if (!m) throw new Error(`bad VTT block: ${JSON.stringify(block)}`);
    for (const line of lines) {
      if (line.includes('-->')) throw new Error('"-->" in VTT cue text');
      if (/<|&(?!amp;|lt;|gt;)/.test(line)) throw new Error(`unescaped VTT text: ${line}`);
    }
    const text = lines.map((l) => l.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    return { start: toSec(m[1], m[2], m[3], m[4]), end: toSec(m[5], m[6], m[7], m[8]), lines: text };
  });
}

// ---- fixtures --------------------------------------------------------------------------------

/** Tokens the aligner path would give: one per unit, `step` s apart from `t0`. */
function tokensFor(text: string, t0: number, step: number): TimedToken[] {
  const units = alignerUnits(text);
  return attachTimes(text, units, units.map((_, k) => ({ start: t0 + k * step, end: t0 + k * step + step * 0.8 })), { start: t0, end: t0 + 1 });
}

function chunk(index: number, start: number, end: number, text: string, extra: Partial<TranscriptChunk> = {}): TranscriptChunk {
  return { index, start, end, language: 'Chinese', text, partial: '', status: 'done', ...extra };
}

const zh = '今天天气很好。我们去公园散步，然后一起去看一场非常好看的电影吧！';
const en = 'So I was thinking that maybe we could all go to the park this afternoon, if the weather stays nice.';
const untimedLong =
  'This chunk has no word timings at all, and its text is far too long to fit in one subtitle cue of two lines, so it has to be split into several cues.';

const transcript: Transcript = {
  fileName: 'talk.wav',
  durationSec: 3800,
  createdAt: '2025-01-01T00:00:00.000Z',
  model: 'Qwen3-ASR-0.6B',
  speech: [],
  chunks: [
    chunk(0, 0.5, 20, zh, { tokens: tokensFor(zh, 1, 0.25) }),
    chunk(1, 20, 40, en, { language: 'English', tokens: tokensFor(en, 21, 0.3) }),
    chunk(2, 40, 60, '', { status: 'no-speech' }),
    chunk(3, 60, 75, untimedLong, { language: 'English' }),
    chunk(4, 75, 78, 'a --> b & <i>c</i>', { language: 'English' }),
    chunk(5, 3725.5, 3728, '50%的人同意。', {
      // a unit that cleans to nothing and came back as a 0–0 placeholder
      tokens: [
        { text: '50', start: 3725.5, end: 3726 },
        { text: '%', start: 0, end: 0 },
        { text: '的', start: 3726, end: 3726.3 },
        { text: '人', start: 3726.3, end: 3726.6 },
        { text: '同', start: 3726.6, end: 3726.9 },
        { text: '意。', start: 3726.9, end: 3727.2 },
      ],
    }),
  ],
};

const strip = (s: string) => s.replace(/\s+/g, '');
const spokenText = strip(transcript.chunks.filter((c) => c.status === 'done').map((c) => c.text).join(''));

function checkTimeline(cues: ParsedCue[]) {
  cues.forEach((c, k) => {
    expect(c.end).toBeGreaterThanOrEqual(c.start);
    expect(c.lines.length).toBeGreaterThan(0);
    expect(c.lines.length).toBeLessThanOrEqual(2);
    for (const line of c.lines) {
      expect(line.trim()).toBe(line);
      expect(line).not.toBe('');
      expect(/[\p{L}\p{N}]/u.test(c.lines.join(''))).toBe(true);
    }
    if (k > 0) expect(c.start).toBeGreaterThanOrEqual(cues[k - 1].end);
  });
}

describe('transcriptToSrt', () => {
  const srt = transcriptToSrt(transcript);
  const cues = parseSrt(srt);

  it('numbers cues from 1 with HH:MM:SS,mmm times and CRLF line ends', () => {
    expect(cues.length).toBeGreaterThan(6);
    expect(cues.map((c) => c.index)).toEqual(cues.map((_, k) => k + 1));
    expect(srt.startsWith('1\r\n00:00:01,000 --> ')).toBe(true);
    expect(srt).not.toMatch(/[^\r]\n/);
    expect(srt).toContain('01:02:05,500 --> ');
    expect(srt.endsWith('50%的人同意。\r\n\r\n')).toBe(true);
  });

  it('writes readable cues: whole text kept, ≤ 2 lines, no overlaps, nothing punctuation-only', () => {
    checkTimeline(cues);
    expect(strip(cues.flatMap((c) => c.lines).join(''))).toBe(spokenText);
    // the timed Chinese chunk splits at 。 and the first cue starts with the first character
    expect(cues[0]).toMatchObject({ start: 1, lines: ['今天天气很好。'] });
    // the 0–0 "%" placeholder did not make a cue at 00:00:00
    expect(cues.filter((c) => c.start === 0)).toEqual([]);
    expect(cues.at(-1)!.lines.join('')).toBe('50%的人同意。');
    expect(cues.at(-1)!.start).toBe(3725.5);
  });

  it('splits a long chunk without timings into several cues inside its span', () => {
    const untimed = cues.filter((c) => c.start >= 60 && c.end <= 75);
    expect(untimed.length).toBeGreaterThan(1);
    expect(strip(untimed.flatMap((c) => c.lines).join(''))).toBe(strip(untimedLong));
    for (const c of untimed) for (const line of c.lines) expect(line.length).toBeLessThanOrEqual(42);
  });

  it('gives a short chunk without timings one cue over the chunk', () => {
    expect(cues.find((c) => c.lines.join(' ').startsWith('a --> b'))).toEqual({ index: expect.any(Number), start: 75, end: 78, lines: ['a --> b & <i>c</i>'] });
  });

  it('is empty for a transcript without speech', () => {
    expect(transcriptToSrt({ ...transcript, chunks: [chunk(0, 0, 5, '', { status: 'no-speech' })] })).toBe('');
  });
});

describe('transcriptToVtt', () => {
  const vtt = transcriptToVtt(transcript);
  const cues = parseVtt(vtt);

  it('starts with WEBVTT and uses HH:MM:SS.mmm', () => {
    expect(vtt.startsWith('WEBVTT\n\n00:00:01.000 --> ')).toBe(true);
    expect(vtt).toContain('01:02:05.500 --> ');
  });

  it('has the same cues as the SRT, with the text escaped', () => {
    const srtCues = parseSrt(transcriptToSrt(transcript)).map(({ start, end, lines }) => ({ start, end, lines }));
    expect(cues).toEqual(srtCues);
    expect(vtt).toContain('a --&gt; b &amp; &lt;i&gt;c&lt;/i&gt;');
    checkTimeline(cues);
  });

  it('is just the header for a transcript without speech', () => {
    expect(transcriptToVtt({ ...transcript, chunks: [] })).toBe('WEBVTT\n');
  });
});

describe('transcriptToJson', () => {
  const json = JSON.parse(transcriptToJson(transcript));

  it('has the file facts and the joined text', () => {
    expect(json).toMatchObject({ file: 'talk.wav', duration: 3800, model: 'Qwen3-ASR-0.6B', created: '2025-01-01T00:00:00.000Z' });
    // full-width ！ carries its own spacing; Latin neighbours get a space
    expect(json.text).toBe(`${zh}${en} ${untimedLong} a --> b & <i>c</i> 50%的人同意。`);
  });

  it('lists segments with word timings when the chunk has them', () => {
    expect(json.segments).toHaveLength(5);
    const [s0, s1, s3] = json.segments;
    expect(s0).toMatchObject({ text: zh, start: 0.5, end: 20, language: 'Chinese' });
    expect(s0.words[0]).toEqual({ text: '今', start: 1, end: 1.2 });
    expect(s0.words.map((w: { text: string }) => w.text).join('')).toBe(zh);
    expect(s1.words[1]).toEqual({ text: 'I', start: 21.3, end: 21.54 });
    expect(s1.words.map((w: { text: string }) => w.text).join(' ')).toBe(en);
    expect(s3.words).toBeUndefined();
    for (const s of json.segments) {
      for (const w of s.words ?? []) {
        expect(typeof w.text).toBe('string');
        expect(w.end).toBeGreaterThanOrEqual(w.start);
      }
    }
  });
});

describe('transcriptToText and joinTexts', () => {
  it('writes one line per spoken chunk', () => {
    expect(transcriptToText(transcript)).toBe([zh, en, untimedLong, 'a --> b & <i>c</i>', '50%的人同意。'].join('\n') + '\n');
  });

  it('keeps joinTexts exported', () => {
    expect(joinTexts(['你好', '世界', 'ok'])).toBe('你好世界 ok');
  });
});

describe('transcriptToSpeechSrt (speech analysis without a model)', () => {
  const plan: Transcript = {
    fileName: 'talk.wav',
    durationSec: 14,
    speech: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    chunks: [
      chunk(0, 0.9, 5.5, '', { status: 'pending', language: '' }),
      chunk(1, 7.3, 12.6, '', { status: 'pending', language: '' }),
      chunk(2, 12.6, 14, '', { status: 'error', language: '', error: 'The file ends early' }),
    ],
  };

  it('has one "[speech]" cue per planned chunk over its span, failures left out', () => {
    const srt = transcriptToSpeechSrt(plan);
    expect(srt).toContain('\r\n');
    const cues = parseSrt(srt);
    expect(cues).toEqual([
      { index: 1, start: 0.9, end: 5.5, lines: ['[speech]'] },
      { index: 2, start: 7.3, end: 12.6, lines: ['[speech]'] },
    ]);
  });

  it('takes another label, and is empty without chunks', () => {
    expect(parseSrt(transcriptToSpeechSrt(plan, '[語音]'))[0].lines).toEqual(['[語音]']);
    expect(transcriptToSpeechSrt({ ...plan, chunks: [] })).toBe('');
  });
});
