// Transcript writers: plain text, JSON, SRT and WebVTT — one writer per format.
// Subtitles come from the cue builder (src/lib/text/cues.ts) over the word/character timings of
// the chunks that have them; a chunk without timings is one cue over the chunk's span (several,
// with estimated times, when its text does not fit in one cue).
import type { TimedToken, Transcript, TranscriptChunk } from './pipeline-types';
import { buildCues, fitLines, type Cue } from './text/cues';
import { joinChunkTexts, joinChunkTokens } from './text/join';
import { alignerUnits, attachTimes } from './text/units';

/** Joins chunk texts: no separator between CJK neighbours, a space otherwise (moved to text/join.ts). */
export const joinTexts = joinChunkTexts;

const spokenChunks = (t: Transcript): TranscriptChunk[] => t.chunks.filter((c) => c.status === 'done' && c.text.trim() !== '');

const timedTokens = (c: TranscriptChunk): TimedToken[] | null => (c.tokens && c.tokens.some((k) => k.text.trim() !== '') ? c.tokens : null);

export function transcriptToText(t: Transcript): string {
  return spokenChunks(t).map((c) => c.text.trim()).join('\n') + '\n';
}

export function transcriptToJson(t: Transcript): string {
  const chunks = spokenChunks(t);
  return JSON.stringify({
    file: t.fileName,
    duration: round3(t.durationSec),
    model: t.model ?? null,
    created: t.createdAt,
    text: joinChunkTexts(chunks.map((c) => c.text)),
    segments: chunks.map((c) => {
      const tokens = timedTokens(c);
      return {
        text: c.text.trim(),
        start: round3(c.start),
        end: round3(c.end),
        language: c.language,
        ...(tokens && {
          words: tokens
            .filter((k) => k.text.trim() !== '')
            .map((k) => ({ text: k.text.trim(), start: round3(k.start), end: round3(k.end) })),
        }),
      };
    }),
  }, null, 2) + '\n';
}

/** Cues of a chunk without timings: one over its span, or several with times shared by length. */
function untimedChunkCues(c: TranscriptChunk): Cue[] {
  const text = c.text.trim();
  const lines = fitLines(text);
  if (lines) return [{ start: c.start, end: Math.max(c.end, c.start), lines }];
  const units = alignerUnits(text);
  const total = units.reduce((n, u) => n + u.unit.length, 0) || 1;
  const span = Math.max(0, c.end - c.start);
  let done = 0;
  const times = units.map((u) => {
    const start = c.start + (span * done) / total;
    done += u.unit.length;
    return { start, end: c.start + (span * done) / total };
  });
  return buildCues(attachTimes(text, units, times, { start: c.start, end: c.end }));
}

/** All cues of a transcript, in time order, none overlapping. */
function transcriptCues(t: Transcript): Cue[] {
  const cues: Cue[] = [];
  let timed: TimedToken[][] = [];
  const flush = () => {
    if (timed.length) cues.push(...buildCues(joinChunkTokens(timed)));
    timed = [];
  };
  for (const c of spokenChunks(t)) {
    const tokens = timedTokens(c);
    if (tokens) {
      timed.push(tokens);
    } else {
      flush();
      cues.push(...untimedChunkCues(c));
    }
  }
  flush();
  for (let k = 1; k < cues.length; k++) {
    const prev = cues[k - 1];
    const cue = cues[k];
    cue.start = Math.max(cue.start, prev.start);
    prev.end = Math.max(prev.start, Math.min(prev.end, cue.start));
    cue.end = Math.max(cue.end, cue.start);
  }
  return cues;
}

function timestamp(sec: number, sep: ',' | '.'): string {
  const ms = Math.max(0, Math.round((Number.isFinite(sec) ? sec : 0) * 1000));
  const h = Math.floor(ms / 3_600_000), m = Math.floor(ms / 60_000) % 60, s = Math.floor(ms / 1000) % 60;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(h)}:${p(m)}:${p(s)}${sep}${p(ms % 1000, 3)}`;
}

/** SubRip: cues numbered from 1, `HH:MM:SS,mmm`, CRLF line ends (what Premiere and Windows tools expect). */
export function transcriptToSrt(t: Transcript): string {
  return transcriptCues(t)
    .map((c, i) => [String(i + 1), `${timestamp(c.start, ',')} --> ${timestamp(c.end, ',')}`, ...c.lines, '', ''].join('\r\n'))
    .join('');
}

/**
 * The chunk plan of a speech analysis (no model, so no text) as SubRip: one cue per planned chunk over
 * its span, saying only that there is speech there (`label`, "[speech]" by default). Chunks that stand
 * for a failure (audio that could not be decoded) are left out.
 */
export function transcriptToSpeechSrt(t: Transcript, label = '[speech]'): string {
  return t.chunks
    .filter((c) => c.status !== 'error' && c.end > c.start)
    .map((c, i) => [String(i + 1), `${timestamp(c.start, ',')} --> ${timestamp(c.end, ',')}`, label, '', ''].join('\r\n'))
    .join('');
}

/** Cue text for WebVTT: `&`, `<` and `>` escaped (so "-->" cannot occur in a cue). */
const vttText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** WebVTT: `WEBVTT` header, `HH:MM:SS.mmm`. */
export function transcriptToVtt(t: Transcript): string {
  const cues = transcriptCues(t).map((c) => `${timestamp(c.start, '.')} --> ${timestamp(c.end, '.')}\n${c.lines.map(vttText).join('\n')}\n`);
  return ['WEBVTT\n', ...cues].join('\n');
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
