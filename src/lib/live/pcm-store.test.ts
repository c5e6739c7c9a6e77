import { describe, expect, it } from 'vitest';
import { PcmStore } from './pcm-store';

describe('PcmStore', () => {
  it('appends across blocks and slices back exactly', () => {
    const s = new PcmStore();
    const total = 16000 * 25 + 123;
    const x = Float32Array.from({ length: total }, (_, i) => (i % 1000) / 1000);
    for (let at = 0; at < total; at += 7777) s.append(x.subarray(at, at + 7777));
    expect(s.length).toBe(total);
    expect(Array.from(s.slice(159_990, 160_010))).toEqual(Array.from(x.subarray(159_990, 160_010)));
    expect(s.slice(total - 5, total + 100).length).toBe(5);
    const joined = s.views().reduce((n, v) => n + v.length, 0);
    expect(joined).toBe(total);
  });
});
