import { describe, expect, it } from 'vitest';
import { Sha256, sha256Hex, toHex } from './sha256';

async function subtleHex(data: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>)));
}

function random(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('incremental SHA-256', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(new TextEncoder().encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('matches crypto.subtle on random data of every length around the block and padding edges', async () => {
    for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096 + 13]) {
      const data = random(n, n);
      expect(sha256Hex(data), `length ${n}`).toBe(await subtleHex(data));
    }
  });

  it('gives the same digest however the data is cut', async () => {
    const data = random(3 * 1024 * 1024 + 77, 42);
    const want = await subtleHex(data);
    for (const cut of [1, 7, 63, 64, 65, 1000, 65536, 1 << 20]) {
      const h = new Sha256();
      for (let i = 0; i < data.length; i += cut) h.update(data.subarray(i, i + cut));
      expect(h.hex(), `pieces of ${cut}`).toBe(want);
    }
    // Uneven random pieces.
    const h = new Sha256();
    let i = 0;
    let s = 9;
    while (i < data.length) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const n = 1 + (s % 50000);
      h.update(data.subarray(i, i + n));
      i += n;
    }
    expect(h.hex()).toBe(want);
  });

  it('saves and restores its state at a 64-byte boundary (resume after reload)', async () => {
    const data = random(5 * 65536 + 123, 7);
    const first = new Sha256().update(data.subarray(0, 2 * 65536));
    const saved = JSON.parse(JSON.stringify(first.state()));
    expect(saved.bytes).toBe(2 * 65536);
    const resumed = Sha256.fromState(saved).update(data.subarray(2 * 65536));
    expect(resumed.hex()).toBe(await subtleHex(data));
  });

  it('refuses to save a state in the middle of a block, and a bad state', () => {
    const h = new Sha256().update(new Uint8Array(10));
    expect(() => h.state()).toThrow(/64-byte boundary/);
    expect(() => Sha256.fromState({ h: [1, 2, 3], bytes: 0 })).toThrow();
    expect(() => Sha256.fromState({ h: [0, 0, 0, 0, 0, 0, 0, 0], bytes: 10 })).toThrow();
  });

  it('cannot be used after digest', () => {
    const h = new Sha256().update(new Uint8Array(3));
    h.digest();
    expect(() => h.update(new Uint8Array(1))).toThrow();
    expect(() => h.digest()).toThrow();
  });
});
