/**
 * WAV writer for live recordings: RIFF/WAVE, PCM format 1, 16-bit little-endian, mono by default.
 * Float samples are clipped to [-1, 1] and scaled by 32767 (rounded), so ±1 never wraps around.
 */
export function encodeWav(chunks: readonly Float32Array[], sampleRate = 16000, channels = 1): ArrayBuffer {
  const samples = chunks.reduce((n, c) => n + c.length, 0);
  const dataBytes = samples * 2;
  const buf = new ArrayBuffer(44 + dataBytes);
  const v = new DataView(buf);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * channels * 2, true); // byte rate
  v.setUint16(32, channels * 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  v.setUint32(40, dataBytes, true);
  let at = 44;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) {
      const s = c[i];
      const x = s > 1 ? 1 : s < -1 ? -1 : s || 0; // NaN → 0
      v.setInt16(at, Math.round(x * 32767), true);
      at += 2;
    }
  }
  return buf;
}

/** A file name for a recording made at `date`: "live-2026-11-25-0914.wav" (local time). */
export function recordingName(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `live-${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}.wav`;
}
