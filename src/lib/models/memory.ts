// How many models this device can hold: the recogniser and the aligner both resident, one at a time, or
// a model too big to load at all. Weights stay in the engine's WASM heap (the file's bytes); each request
// adds a working set (KV cache for the prompt, encoder activations, decoder scratch). All the numbers are
// in MEMORY below; the decision is a pure function of them and of what the browser tells about the device.
//
// One model at a time can also be asked for, to save memory or to test that plan on any machine: add
// `?memory=one-at-a-time` to the page address (read by `readDeviceMemory`, applied by `decideMemory`). It
// only ever lowers the plan: a model too big for the device stays too big.

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

/** Prompt positions of one ≤30 s request: 13 audio tokens/s × 30 s + 15 template + 32 context + 15 text tokens/s × 30 s. */
export const PROMPT_POSITIONS = 13 * 30 + 15 + 32 + 15 * 30;

export const MEMORY = {
  /** wasm32 addresses at most 4 GiB (the engine is built with MAXIMUM_MEMORY=4GB). */
  wasm32LimitBytes: 4 * GiB,
  /** The runtime, stacks, thread pool and the initial heap. */
  engineOverheadBytes: 96 * MiB,
  /** Log-mel + encoder activations of a 30 s chunk (104-token windows, f32). */
  encoderActivationBytes: 50 * MiB,
  /** Decoder scratch per prompt position: hidden, q/k/v, gate/up of the MLP (f32), 0.6B/aligner shapes. */
  decoderScratchBytesPerPosition: 4 * (1024 * 4 + 3072 * 2 + 16 * 128 * 2),
  /** The same for the wider 1.7B decoder (hidden 2048, MLP 6144). */
  decoderScratchBytesPerPositionLarge: 4 * (2048 * 4 + 6144 * 2 + 16 * 128 * 2),
  /** Logits of one step (151,936 × f32) and the token buffers. */
  decoderFixedBytes: 4 * MiB,
  /** f32 K and V × 28 layers × 8 KV heads × 128 (all three published models share these shapes). */
  kvBytesPerPosition: 2 * 4 * 28 * 8 * 128,
  /** Share of the device memory (navigator.deviceMemory) one tab can reasonably use. */
  deviceShare: 0.5,
  /** When the browser does not say (Safari, Firefox) on a phone or tablet: iOS tabs die near 1.5 GB, and the
   *  rest of the page (media decoder, VAD, audio) needs some of that. */
  mobileFallbackBytes: 1.2 * GiB,
} as const;

export type MemoryPlan = 'both-resident' | 'one-at-a-time' | 'too-big';

export interface ModelMemoryInput {
  name: string;
  /** File size: the weights stay resident as they are. */
  bytes: number;
  /** From the engine's ModelInfo once known (`memory.kv_bytes_per_position`). */
  kvBytesPerPosition?: number;
  /** Wider decoder (1.7B) → more scratch per position. */
  large?: boolean;
}

export interface DeviceMemoryInput {
  /** navigator.deviceMemory in GB (rounded down by the browser, capped at 8); undefined when not exposed. */
  deviceMemoryGB?: number;
  /** performance.memory.jsHeapSizeLimit (Chromium only). */
  jsHeapSizeLimit?: number;
  /** A phone or tablet (when deviceMemory is not exposed, a smaller budget is assumed). */
  mobile?: boolean;
  /** The page address asks for one model at a time (`?memory=one-at-a-time`). */
  oneAtATime?: boolean;
}

/** The query parameter that asks for one model at a time, and its value. */
export const MEMORY_PARAM = 'memory';
export const ONE_AT_A_TIME = 'one-at-a-time';

export interface MemoryDecision {
  plan: MemoryPlan;
  /** Bytes this page may plan to use. */
  budgetBytes: number;
  /** What the budget is based on, for the explanation. */
  budgetSource: string;
  /** Peak with both models resident / with the larger one alone. */
  bothBytes: number;
  oneBytes: number;
  /** Per model: resident weights + the working set of one request. */
  models: { name: string; weightsBytes: number; workingBytes: number; peakBytes: number }[];
  explanation: string;
}

/** Working set of one request (≤ 30 s of audio) on top of the weights. */
export function workingSetBytes(m: ModelMemoryInput): number {
  const kv = (m.kvBytesPerPosition ?? MEMORY.kvBytesPerPosition) * PROMPT_POSITIONS;
  const scratch = (m.large ? MEMORY.decoderScratchBytesPerPositionLarge : MEMORY.decoderScratchBytesPerPosition) * PROMPT_POSITIONS;
  return kv + MEMORY.encoderActivationBytes + scratch + MEMORY.decoderFixedBytes;
}

function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(bytes >= 10e9 ? 0 : 1)} GB`;
}

/** What this page may use: the wasm32 limit, the device's memory, or a browser heap hint. */
export function memoryBudget(d: DeviceMemoryInput): { bytes: number; source: string } {
  const limit = MEMORY.wasm32LimitBytes;
  if (typeof d.deviceMemoryGB === 'number' && d.deviceMemoryGB > 0) {
    const share = d.deviceMemoryGB * GiB * MEMORY.deviceShare;
    const capped = d.deviceMemoryGB >= 8; // the browser never reports more than 8
    return {
      bytes: Math.min(limit, capped ? Math.max(share, limit) : share),
      source: capped ? `this device reports ${d.deviceMemoryGB} GB of memory or more` : `this device reports ${d.deviceMemoryGB} GB of memory`,
    };
  }
  if (typeof d.jsHeapSizeLimit === 'number' && d.jsHeapSizeLimit > 0) {
    return { bytes: Math.min(limit, d.jsHeapSizeLimit), source: `the browser allows this page about ${gb(d.jsHeapSizeLimit)}` };
  }
  if (d.mobile) return { bytes: MEMORY.mobileFallbackBytes, source: 'this looks like a phone or tablet, which usually closes a tab that uses more than about 1.5 GB' };
  return { bytes: limit, source: 'the browser does not say how much memory this device has, so only the 4 GB limit of WebAssembly applies' };
}

/**
 * Decides how the recogniser and the aligner can be held. `aligner` may be missing (only a recogniser).
 * Too big = even alone the recogniser (or the aligner) would not fit: explained, never attempted silently.
 */
export function decideMemory(asr: ModelMemoryInput, aligner: ModelMemoryInput | null, device: DeviceMemoryInput): MemoryDecision {
  const budget = memoryBudget(device);
  const list = [asr, ...(aligner ? [aligner] : [])].map((m) => {
    const workingBytes = workingSetBytes(m);
    return { name: m.name, weightsBytes: m.bytes, workingBytes, peakBytes: m.bytes + workingBytes + MEMORY.engineOverheadBytes };
  });
  const oneBytes = Math.max(...list.map((m) => m.peakBytes));
  // Both resident: both weights, and one request at a time (the larger working set).
  const bothBytes = list.reduce((s, m) => s + m.weightsBytes, 0) + Math.max(...list.map((m) => m.workingBytes)) + MEMORY.engineOverheadBytes;
  const limit = Math.min(budget.bytes, MEMORY.wasm32LimitBytes);

  let plan: MemoryPlan;
  let explanation: string;
  const biggest = list.reduce((a, b) => (b.peakBytes > a.peakBytes ? b : a));
  if (oneBytes > MEMORY.wasm32LimitBytes) {
    plan = 'too-big';
    explanation = `${biggest.name} needs about ${gb(biggest.peakBytes)} while transcribing, more than the 4 GB a WebAssembly page can address. It cannot run in a browser; choose a smaller model.`;
  } else if (oneBytes > limit) {
    plan = 'too-big';
    explanation = `${biggest.name} needs about ${gb(biggest.peakBytes)} while transcribing (${gb(biggest.weightsBytes)} of weights + ${gb(biggest.workingBytes)} per chunk), but ${budget.source} (about ${gb(limit)} for this page). The browser would probably close the tab, so it is not loaded automatically; a smaller model is the safer choice.`;
  } else if (aligner && device.oneAtATime) {
    plan = 'one-at-a-time';
    explanation = `The page address asks for one model at a time (?${MEMORY_PARAM}=${ONE_AT_A_TIME}), so only one is kept loaded at a time (about ${gb(oneBytes)} at the peak): word timestamps are added after the whole file is recognised.`;
  } else if (!aligner || bothBytes <= limit) {
    plan = 'both-resident';
    explanation = aligner
      ? `Both models fit together: about ${gb(bothBytes)} at the peak, within ${gb(limit)} (${budget.source}).`
      : `${asr.name} fits: about ${gb(oneBytes)} at the peak, within ${gb(limit)} (${budget.source}).`;
  } else {
    plan = 'one-at-a-time';
    explanation = `Both models together would need about ${gb(bothBytes)}, more than the ${gb(limit)} available (${budget.source}), so only one is kept loaded at a time (about ${gb(oneBytes)} at the peak): word timestamps are added after the whole file is recognised.`;
  }
  return { plan, budgetBytes: limit, budgetSource: budget.source, bothBytes, oneBytes, models: list, explanation };
}

/** What the browser says about this device (every field may be missing), and the page address's `?memory=`. */
export function readDeviceMemory(href: string | undefined = globalThis.location?.href): DeviceMemoryInput {
  const nav = (globalThis.navigator ?? {}) as Navigator & { deviceMemory?: number; userAgentData?: { mobile?: boolean } };
  const perf = (globalThis.performance ?? {}) as Performance & { memory?: { jsHeapSizeLimit?: number } };
  const ua = typeof nav.userAgent === 'string' ? nav.userAgent : '';
  return {
    deviceMemoryGB: typeof nav.deviceMemory === 'number' ? nav.deviceMemory : undefined,
    jsHeapSizeLimit: typeof perf.memory?.jsHeapSizeLimit === 'number' ? perf.memory.jsHeapSizeLimit : undefined,
    mobile: nav.userAgentData?.mobile ?? /Android|iPhone|iPad|iPod|Mobile/i.test(ua),
    oneAtATime: readOneAtATime(href),
  };
}

/** True when the page address has `?memory=one-at-a-time`. */
export function readOneAtATime(href: string | undefined): boolean {
  if (!href) return false;
  try {
    return new URL(href).searchParams.get(MEMORY_PARAM) === ONE_AT_A_TIME;
  } catch {
    return false;
  }
}
