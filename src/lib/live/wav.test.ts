import { describe, expect, it } from 'vitest';
import { encodeWav, recordingName } from './wav';

describe('encodeWav', () => {
  it('writes a 16-bit PCM mono 16 kHz RIFF/WAVE header and the samples', () => {
    const buf = encodeWav([new Float32Array([0, 0.5, -0.5]), new Float32Array([1, -1, 2, Number.NaN])], 16000);
    const v = new DataView(buf);
    const str = (at: number, n: number) => String.fromCharCode(...new Uint8Array(buf, at, n));
    expect(buf.byteLength).toBe(44 + 7 * 2);
    expect(str(0, 4)).toBe('RIFF');
    expect(v.getUint32(4, true)).toBe(36 + 14);
    expect(str(8, 4)).toBe('WAVE');
    expect(str(12, 4)).toBe('fmt ');
    expect(v.getUint32(16, true)).toBe(16);
    expect(v.getUint16(20, true)).toBe(1); // PCM
    expect(v.getUint16(22, true)).toBe(1); // mono
    expect(v.getUint32(24, true)).toBe(16000);
    expect(v.getUint32(28, true)).toBe(32000); // byte rate
    expect(v.getUint16(32, true)).toBe(2); // block align
    expect(v.getUint16(34, true)).toBe(16);
    expect(str(36, 4)).toBe('data');
    expect(v.getUint32(40, true)).toBe(14);
    const samples = Array.from({ length: 7 }, (_, i) => v.getInt16(44 + 2 * i, true));
    expect(samples).toEqual([0, 16384, -16383, 32767, -32767, 32767, 0]);
  });

  it('an empty recording is a valid header with no data', () => {
    const buf = encodeWav([]);
    expect(buf.byteLength).toBe(44);
    expect(new DataView(buf).getUint32(40, true)).toBe(0);
  });

  it('names recordings by local date and time', () => {
    expect(recordingName(new Date(2026, 10, 25, 9, 4, 7))).toBe('live-2026-11-25-090407.wav');
  });
});
