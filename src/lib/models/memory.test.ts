import { describe, expect, it } from 'vitest';
import { BUNDLED_MANIFEST } from './manifest';
import { decideMemory, GiB, MEMORY, memoryBudget, PROMPT_POSITIONS, readDeviceMemory, readOneAtATime, workingSetBytes } from './memory';

const byId = Object.fromEntries(BUNDLED_MANIFEST.models.map((e) => [e.id, e]));
const asr06 = { name: 'Qwen3-ASR 0.6B', bytes: byId['qwen3-asr-0.6b-q4_0'].bytes };
const asr17 = { name: 'Qwen3-ASR 1.7B', bytes: byId['qwen3-asr-1.7b-q4_0'].bytes, large: true };
const aligner = { name: 'Qwen3-ForcedAligner 0.6B', bytes: byId['qwen3-forced-aligner-0.6b-q4_0'].bytes };

describe('memory policy', () => {
  it('sizes a request from the prompt of a 30 s chunk', () => {
    expect(PROMPT_POSITIONS).toBe(887);
    const w = workingSetBytes(asr06);
    // KV ≈ 229,376 B × 887 ≈ 203 MB, plus encoder activations and decoder scratch.
    expect(MEMORY.kvBytesPerPosition * PROMPT_POSITIONS).toBeCloseTo(203.5e6, -6);
    expect(w).toBeGreaterThan(250e6);
    expect(w).toBeLessThan(400e6);
    expect(workingSetBytes(asr17)).toBeGreaterThan(w);
    // A measured KV size from the engine replaces the table's.
    expect(workingSetBytes({ ...asr06, kvBytesPerPosition: 1000 })).toBeLessThan(w);
  });

  it('keeps both models resident on a desktop (8 GB reported, or nothing reported)', () => {
    expect(decideMemory(asr06, aligner, { deviceMemoryGB: 8 }).plan).toBe('both-resident');
    expect(decideMemory(asr17, aligner, { deviceMemoryGB: 8 }).plan).toBe('both-resident');
    const d = decideMemory(asr06, aligner, {});
    expect(d.plan).toBe('both-resident');
    expect(d.budgetBytes).toBe(4 * GiB);
    expect(d.explanation).toMatch(/Both models fit together/);
  });

  it('holds one model at a time on a 2 GB device with the 0.6B pair, and on 4 GB with the 1.7B', () => {
    const two = decideMemory(asr06, aligner, { deviceMemoryGB: 2 });
    expect(two.plan).toBe('one-at-a-time');
    expect(two.explanation).toMatch(/only one is kept loaded at a time/);
    expect(decideMemory(asr06, aligner, { deviceMemoryGB: 4 }).plan).toBe('both-resident');
    expect(decideMemory(asr17, aligner, { deviceMemoryGB: 4 }).plan).toBe('one-at-a-time');
  });

  it('explains (does not crash on) the 1.7B on a device that reports 2 GB', () => {
    const d = decideMemory(asr17, aligner, { deviceMemoryGB: 2 });
    expect(d.plan).toBe('too-big');
    expect(d.explanation).toMatch(/Qwen3-ASR 1\.7B needs about 1\.\d GB/);
    expect(d.explanation).toMatch(/this device reports 2 GB of memory/);
    expect(decideMemory(asr17, null, { deviceMemoryGB: 2 }).plan).toBe('too-big');
  });

  it('never plans past the 4 GiB of wasm32', () => {
    const huge = { name: 'Huge', bytes: 4.5 * GiB };
    const d = decideMemory(huge, null, { deviceMemoryGB: 8 });
    expect(d.plan).toBe('too-big');
    expect(d.explanation).toMatch(/4 GB a WebAssembly page can address/);
    // Two models that fit alone but not together in 4 GiB.
    const big = { name: 'Big', bytes: 2.2 * GiB };
    expect(decideMemory(big, { name: 'Big aligner', bytes: 2 * GiB }, {}).plan).toBe('one-at-a-time');
  });

  it('falls back on the browser heap limit, or a phone budget, when the device memory is unknown', () => {
    expect(memoryBudget({ jsHeapSizeLimit: 1 * GiB }).bytes).toBe(1 * GiB);
    expect(memoryBudget({ mobile: true }).bytes).toBe(MEMORY.mobileFallbackBytes);
    expect(decideMemory(asr06, aligner, { mobile: true }).plan).toBe('one-at-a-time');
    expect(decideMemory(asr06, null, { jsHeapSizeLimit: 0.5 * GiB }).plan).toBe('too-big');
  });

  it('one model at a time when the page address asks for it (?memory=one-at-a-time), never more than fits', () => {
    expect(readOneAtATime('https://x.test/?memory=one-at-a-time')).toBe(true);
    expect(readOneAtATime('https://x.test/?models=http://m/&memory=one-at-a-time#top')).toBe(true);
    expect(readOneAtATime('https://x.test/?memory=both')).toBe(false);
    expect(readOneAtATime('https://x.test/')).toBe(false);
    expect(readOneAtATime(undefined)).toBe(false);
    expect(readDeviceMemory('https://x.test/?memory=one-at-a-time').oneAtATime).toBe(true);
    const d = decideMemory(asr06, aligner, { deviceMemoryGB: 8, oneAtATime: true });
    expect(d.plan).toBe('one-at-a-time');
    expect(d.explanation).toMatch(/page address asks for one model at a time/);
    // Nothing to swap with a recogniser alone, and a model too big stays too big.
    expect(decideMemory(asr06, null, { deviceMemoryGB: 8, oneAtATime: true }).plan).toBe('both-resident');
    expect(decideMemory(asr17, aligner, { deviceMemoryGB: 2, oneAtATime: true }).plan).toBe('too-big');
  });

  it('reads what the browser exposes, whatever is missing', () => {
    expect(() => readDeviceMemory()).not.toThrow();
    const d = readDeviceMemory();
    expect(d.deviceMemoryGB === undefined || typeof d.deviceMemoryGB === 'number').toBe(true);
  });
});
