// Transcript writers: plain text, JSON, SRT and WebVTT — one writer per format.
// Until word timestamps land (ForcedAligner), a cue spans one recognised chunk.
import type { Transcript, TranscriptChunk } from './pipeline-types';

const spokenChunks = (t: Transcript): TranscriptChunk[] => t.chunks.filter((c) => c.status === 'done' && c.text.trim() !== '');

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/;

/** Joins chunk texts: no separator between CJK neighbours, a space otherwise. */
export function joinTexts(texts: string[]): string {
  let out = '';
  for (const raw of texts) {
    const t = raw.trim();
    if (!t) continue;
    if (out && !(CJK.test(out.at(-1)!) && CJK.test(t[0]))) out += ' ';
    out += t;
  }
  return out;
}

export function transcriptToText(t: Transcript): string {
  return spokenChunks(t).map((c) => c.text.trim()).join('\n') + '\n';
}

export function transcriptToJson(t: Transcript): string {
  return JSON.stringify({
    file: t.fileName,
    duration: round3(t.durationSec),
    model: t.model ?? null,
    created: t.createdAt,
    text: joinTexts(spokenChunks(t).map((c) => c.text)),
    segments: spokenChunks(t).map((c) => ({ start: round3(c.start), end: round3(c.end), language: c.language, text: c.text.trim() })),
  }, null, 2) + '\n';
}

function timestamp(sec: number, sep: ',' | '.'): string {
  const ms = Math.max(0, Math.round(sec * 1000));
  const h = Math.floor(ms / 3_600_000), m = Math.floor(ms / 60_000) % 60, s = Math.floor(ms / 1000) % 60;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(h)}:${p(m)}:${p(s)}${sep}${p(ms % 1000, 3)}`;
}

export function transcriptToSrt(t: Transcript): string {
  return spokenChunks(t).map((c, i) =>
    `${i + 1}\n${timestamp(c.start, ',')} --> ${timestamp(c.end, ',')}\n${c.text.trim()}\n`).join('\n');
}

export function transcriptToVtt(t: Transcript): string {
  const cues = spokenChunks(t).map((c) => `${timestamp(c.start, '.')} --> ${timestamp(c.end, '.')}\n${c.text.trim().replace(/-->/g, '→')}\n`);
  return ['WEBVTT\n', ...cues].join('\n');
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
