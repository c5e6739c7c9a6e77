// Typed binding over the raw emscripten module of our engine (wasm/include/qasr.h). Used by the
// engine worker in the browser and directly by the Node tests, so both exercise the same code.
// All pointers are unsigned (`>>> 0`): the heap may pass 2 GiB (research/toolchain-notes.md §1).

export interface EngineModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPF32: Float32Array;
  _malloc(n: number): number;
  _free(p: number): void;
  UTF8ToString(p: number): string;
  stringToUTF8(s: string, p: number, max: number): void;
  lengthBytesUTF8(s: string): number;
  [fn: `_qasr_${string}`]: (...args: number[]) => number;
  PThread?: { unusedWorkers: unknown[]; terminateAllThreads?: () => void };
}

export interface ModelInfo {
  kind: 'asr' | 'aligner';
  model_type: number;
  quant: string;
  file_bytes: number;
  audio: { d_model: number; layers: number; heads: number; ffn: number; conv_channels: number; n_window: number; n_window_infer: number; output_dim: number };
  text: { hidden: number; layers: number; heads: number; kv_heads: number; head_dim: number; intermediate: number; vocab: number; head_rows: number; rope_theta: number; rms_norm_eps: number };
  classify_num: number;
  timestamp_segment_ms: number;
  threads: number;
  memory: { weights_bytes: number; kv_bytes_per_position: number; decode_weight_bytes: number };
  languages: string[];
}

export interface AlignResult {
  start_ms: number[];
  end_ms: number[];
  classes: number[];
  audio_tokens: number;
  input_tokens: number;
  timings: { encoder_ms: number; decoder_ms: number };
}

export interface TranscribeOptions {
  language?: string;       // '' or undefined = detect
  context?: string;
  maxNewTokens?: number;
  numerics?: number;       // NUMERICS flags
  repetitionGuard?: boolean;
  /** Benchmarks: decode exactly maxNewTokens, past <|im_end|>. */
  ignoreEos?: boolean;
}

export interface TranscribeResult {
  language: string;
  text: string;
  raw: string;
  tokens: number[];
  audio_tokens: number;
  prompt_tokens: number;
  audio_sec: number;
  stopped_by_repetition_guard: boolean;
  timings: { mel_ms: number; encoder_ms: number; prefill_ms: number; decode_ms: number; decode_tokens: number };
}

/** qasr_numerics_flags of qasr.h. */
export const NUMERICS = {
  chatllmFullAttention: 1 << 0,
  chatllmGeluTanhF16: 1 << 1,
  chatllmRmsEps1e5: 1 << 2,
  chatllmAudioQuant: 1 << 3,
  exactF32Matmul: 1 << 8,
  chatllmAll: 0b1111,
} as const;

export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

// sizeof(qasr_options): n_threads, numerics, language*, context*, max_new_tokens, repetition_guard, ignore_eos
const OPTIONS_BYTES = 28;

export class EngineBinding {
  constructor(readonly M: EngineModule) {}

  get buildInfo(): { kernels: string; max_threads: number; api: number } {
    return JSON.parse(this.M.UTF8ToString(this.M._qasr_build_info()));
  }

  lastError(): string {
    return this.M.UTF8ToString(this.M._qasr_last_error()) || 'Unknown engine error';
  }

  /** Starts a streamed load: returns a writer that copies parts into one engine-owned buffer. */
  beginLoad(totalBytes: number): ModelLoad {
    const ptr = this.M._qasr_buffer_alloc(totalBytes) >>> 0;
    if (!ptr) throw new EngineError(this.lastError());
    return new ModelLoad(this, ptr, totalBytes);
  }

  /** Loads a whole model held in memory (tests). */
  loadModel(bytes: Uint8Array, threads = 0): EngineModel {
    const load = this.beginLoad(bytes.byteLength);
    load.write(bytes);
    return load.finish(threads);
  }

  withF32<T>(data: Float32Array, fn: (ptr: number) => T): T {
    const ptr = this.M._malloc(Math.max(4, data.byteLength)) >>> 0;
    if (!ptr) throw new EngineError('Out of memory');
    try {
      this.M.HEAPF32.set(data, ptr >>> 2);
      return fn(ptr);
    } finally {
      this.M._free(ptr);
    }
  }

  /** Passes a NUL-terminated UTF-8 copy of s; undefined/'' give a null pointer unless `always`. */
  withString<T>(s: string | undefined, fn: (ptr: number) => T, always = false): T {
    if (!always && (s === undefined || s === '')) return fn(0);
    s ??= '';
    const n = this.M.lengthBytesUTF8(s) + 1;
    const ptr = this.M._malloc(n) >>> 0;
    try {
      this.M.stringToUTF8(s, ptr, n);
      return fn(ptr);
    } finally {
      this.M._free(ptr);
    }
  }

  /** Log-mel [128][T] (mel-major) of 16 kHz PCM. */
  mel(pcm: Float32Array, threads = 0): { T: number; data: Float32Array } {
    const cap = 128 * (Math.floor(Math.max(pcm.length, 8000) / 160) + 1);
    const out = this.M._malloc(cap * 4) >>> 0;
    try {
      const T = this.withF32(pcm, (p) => this.M._qasr_debug_mel(p, pcm.length, out, cap, threads));
      if (T < 0) throw new EngineError('mel failed');
      return { T, data: this.M.HEAPF32.slice(out >>> 2, (out >>> 2) + 128 * T) };
    } finally {
      this.M._free(out);
    }
  }
}

export class ModelLoad {
  private offset = 0;
  private done = false;
  constructor(private readonly b: EngineBinding, private readonly ptr: number, readonly totalBytes: number) {}

  get bytesWritten(): number {
    return this.offset;
  }

  write(part: Uint8Array): void {
    if (this.done) throw new EngineError('The model load is already finished');
    if (this.offset + part.byteLength > this.totalBytes) throw new EngineError('More model data than announced');
    this.b.M.HEAPU8.set(part, this.ptr + this.offset);
    this.offset += part.byteLength;
  }

  /** Parses and validates; the buffer is owned by the model (or freed on failure). */
  finish(threads = 0): EngineModel {
    this.done = true;
    const h = this.b.M._qasr_model_load(this.ptr, this.offset, threads) >>> 0;
    if (!h) throw new EngineError(this.b.lastError());
    return new EngineModel(this.b, h);
  }

  abort(): void {
    if (!this.done) this.b.M._qasr_buffer_free(this.ptr);
    this.done = true;
  }
}

export class EngineModel {
  readonly info: ModelInfo;
  private freed = false;
  constructor(private readonly b: EngineBinding, private readonly h: number) {
    this.info = JSON.parse(b.M.UTF8ToString(b.M._qasr_model_info(h)));
  }

  free(): void {
    if (!this.freed) this.b.M._qasr_model_free(this.h);
    this.freed = true;
  }

  /**
   * Starts a transcription of one chunk (mel + encoder + prefill run now). Step the returned
   * session to generate tokens; the caller may yield between steps to stay cancellable.
   */
  startTranscription(pcm: Float32Array, opts: TranscribeOptions = {}, threads = 0): TranscriptionSession {
    const M = this.b.M;
    return this.b.withString(opts.language, (lang) => this.b.withString(opts.context, (ctx) => {
      const o = M._malloc(OPTIONS_BYTES) >>> 0;
      try {
        const i32 = new Int32Array(M.HEAPU8.buffer, o, OPTIONS_BYTES / 4);
        i32.set([threads, opts.numerics ?? 0, lang, ctx, opts.maxNewTokens ?? 0, opts.repetitionGuard === false ? 0 : 1, opts.ignoreEos ? 1 : 0]);
        const s = this.b.withF32(pcm, (p) => M._qasr_session_start(this.h, p, pcm.length, o)) >>> 0;
        if (!s) throw new EngineError(this.b.lastError());
        return new TranscriptionSession(this.b, s);
      } finally {
        M._free(o);
      }
    }));
  }

  /** Convenience: the whole transcription in one call (Node tests, benchmarks). */
  transcribe(pcm: Float32Array, opts: TranscribeOptions = {}, onText?: (t: string) => void): TranscribeResult {
    const s = this.startTranscription(pcm, opts);
    try {
      while (s.step() >= 0) {
        const t = s.takeText();
        if (t && onText) onText(t);
      }
      const t = s.takeText();
      if (t && onText) onText(t);
      return s.result();
    } finally {
      s.free();
    }
  }

  /**
   * ForcedAligner pass over one chunk: start/end in ms (relative to pcm[0]) for each unit. Units
   * are the aligner's text units (see src/lib/text/units.ts); they are NFC-normalised here.
   */
  align(pcm: Float32Array, units: string[], numerics = 0): AlignResult {
    const M = this.b.M;
    const json = JSON.stringify(units.map((u) => u.normalize('NFC')));
    return this.b.withString(json, (jp) => {
      const p = this.b.withF32(pcm, (pp) => M._qasr_align(this.h, pp, pcm.length, jp, numerics)) >>> 0;
      if (!p) throw new EngineError(this.b.lastError());
      return JSON.parse(M.UTF8ToString(p)) as AlignResult;
    }, true);
  }

  /** Encoder output [tokens][dim]. */
  encode(pcm: Float32Array, numerics = 0): { tokens: number; dim: number; data: Float32Array } {
    const M = this.b.M;
    const dim = this.info.text.hidden;
    const cap = (Math.ceil(Math.max(pcm.length, 8000) / 160 / 100) * 13 + 13) * dim;
    const out = M._malloc(cap * 4) >>> 0;
    try {
      const n = this.b.withF32(pcm, (p) => M._qasr_debug_encode(this.h, p, pcm.length, numerics, out, cap));
      if (n < 0) throw new EngineError(this.b.lastError());
      return { tokens: n, dim, data: M.HEAPF32.slice(out >>> 2, (out >>> 2) + n * dim) };
    } finally {
      M._free(out);
    }
  }

  /** Decoder logits at `positions` for prompt ids whose audio pads take `audio` rows. */
  logits(ids: number[], audio: Float32Array | null, positions: number[], numerics = 0): Float32Array {
    const M = this.b.M;
    const H = this.info.text.hidden;
    const rows = this.info.text.head_rows;
    const idp = M._malloc(ids.length * 4) >>> 0;
    const pp = M._malloc(positions.length * 4) >>> 0;
    const out = M._malloc(positions.length * rows * 4) >>> 0;
    try {
      M.HEAP32.set(ids, idp >>> 2);
      M.HEAP32.set(positions, pp >>> 2);
      const a = audio ?? new Float32Array(0);
      const st = this.b.withF32(a, (ap) =>
        M._qasr_debug_logits(this.h, idp, ids.length, ap, a.length / H, pp, positions.length, numerics, out));
      if (st !== 0) throw new EngineError(this.b.lastError());
      return M.HEAPF32.slice(out >>> 2, (out >>> 2) + positions.length * rows);
    } finally {
      M._free(idp);
      M._free(pp);
      M._free(out);
    }
  }

  tokenize(text: string, allowAdded = true): number[] {
    const M = this.b.M;
    return this.b.withString(text.normalize('NFC'), (tp) => {
      let cap = text.length * 2 + 16;
      for (;;) {
        const out = M._malloc(cap * 4) >>> 0;
        try {
          const n = M._qasr_tokenize(this.h, tp, allowAdded ? 1 : 0, out, cap);
          if (n < 0) throw new EngineError(this.b.lastError());
          if (n <= cap) return Array.from(M.HEAP32.subarray(out >>> 2, (out >>> 2) + n));
          cap = n;
        } finally {
          M._free(out);
        }
      }
    }, true);
  }

  detokenize(ids: number[], skipSpecial = true): string {
    const M = this.b.M;
    const p = M._malloc(Math.max(4, ids.length * 4)) >>> 0;
    try {
      M.HEAP32.set(ids, p >>> 2);
      return M.UTF8ToString(M._qasr_detokenize(this.h, p, ids.length, skipSpecial ? 1 : 0));
    } finally {
      M._free(p);
    }
  }
}

export class TranscriptionSession {
  private freed = false;
  constructor(private readonly b: EngineBinding, private readonly s: number) {}

  /** One decode step: the token id, or -1 when finished. Throws on engine errors. */
  step(): number {
    const r = this.b.M._qasr_session_next(this.s);
    if (r === -1) return -1;
    if (r < 0) throw new EngineError(this.b.lastError());
    return r;
  }

  takeText(): string {
    return this.b.M.UTF8ToString(this.b.M._qasr_session_take_text(this.s));
  }

  result(): TranscribeResult {
    return JSON.parse(this.b.M.UTF8ToString(this.b.M._qasr_session_result(this.s)));
  }

  free(): void {
    if (!this.freed) this.b.M._qasr_session_free(this.s);
    this.freed = true;
  }
}
