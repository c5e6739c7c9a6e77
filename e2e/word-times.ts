// Shared checks of the JSON export's word times (words.spec.ts, low-memory.spec.ts).
import { expect } from '@playwright/test';

export interface ExportedSegment {
  start: number;
  end: number;
  text: string;
  words?: { text: string; start: number; end: number }[];
}

/**
 * Every segment has words that spell its text, lie inside the segment and never go back in time.
 * Returns how many segments have word-level times (more than one chunk-long "word").
 */
export function expectWordTimesInSegments(spoken: ExportedSegment[]): number {
  let prev = -1;
  let wordLevel = 0;
  for (const seg of spoken) {
    expect(seg.words, 'word timings from the aligner').toBeDefined();
    expect(seg.words!.map((w) => w.text).join('').replace(/\s+/g, '')).toBe(seg.text.replace(/\s+/g, ''));
    // Chunk-level times would be one "word" spanning the whole chunk.
    if (seg.words!.length > 1 || seg.words![0].start > seg.start + 1e-3 || seg.words![0].end < seg.end - 1e-3) wordLevel++;
    for (const w of seg.words!) {
      expect(w.start).toBeGreaterThanOrEqual(seg.start - 1e-3);
      expect(w.end).toBeLessThanOrEqual(seg.end + 1e-3);
      expect(w.end).toBeGreaterThanOrEqual(w.start);
      expect(w.start).toBeGreaterThanOrEqual(prev - 1e-3);
      prev = w.start;
    }
  }
  return wordLevel;
}
