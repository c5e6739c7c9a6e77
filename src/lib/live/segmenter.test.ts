import { describe, expect, it } from 'vitest';
import { UtteranceSegmenter } from './segmenter';

const FRAME = 512;
const frames = (ms: number) => Math.round((ms * 16) / FRAME);
const run = (p: number, ms: number) => new Array<number>(frames(ms)).fill(p);

describe('UtteranceSegmenter', () => {
  it('announces an utterance after 250 ms of speech and ends it after 0.6 s of silence', () => {
    const s = new UtteranceSegmenter({ padMs: 0 });
    expect(s.push(run(0.05, 1000))).toEqual([]);
    const ev = s.push(run(0.9, 2000));
    expect(ev).toEqual([{ type: 'start', start: frames(1000) * FRAME }]);
    expect(s.push(run(0.05, 400))).toEqual([]); // a pause, not yet the end
    const end = s.push(run(0.05, 400));
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ type: 'end', start: frames(1000) * FRAME, end: (frames(1000) + frames(2000)) * FRAME, cut: false });
  });

  it('drops blips shorter than the minimum speech', () => {
    const s = new UtteranceSegmenter();
    expect([...s.push(run(0.9, 100)), ...s.push(run(0.05, 1000))]).toEqual([]);
  });

  it('bridges short dips and keeps going in the hysteresis band', () => {
    const s = new UtteranceSegmenter({ padMs: 0 });
    const ev = [...s.push(run(0.9, 500)), ...s.push(run(0.1, 300)), ...s.push(run(0.4, 1000)), ...s.push(run(0.9, 500))];
    expect(ev.map((e) => e.type)).toEqual(['start']);
    expect(s.finish(1e9).map((e) => e.type)).toEqual(['end']);
  });

  it('cuts long speech into pieces of at most maxUtteranceSec', () => {
    const s = new UtteranceSegmenter({ maxUtteranceSec: 5, padMs: 0 });
    const ev = s.push(run(0.9, 12000));
    const ends = ev.filter((e) => e.type === 'end');
    expect(ends.length).toBe(2);
    for (const e of ends) if (e.type === 'end') expect(e.end - e.start).toBeLessThanOrEqual(5 * 16000);
    expect(s.openStart).not.toBeNull();
  });
});
