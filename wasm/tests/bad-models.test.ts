// Bad model files given to the engine as the worker gives them (EngineBinding.loadModel on the
// single-thread WASM build): each must throw an EngineError whose message names the problem; right
// after every failure a good model still loads and transcribes (the module stays usable), and 50
// failed loads in a row do not grow the WASM heap (the buffer handed to qasr_model_load is freed
// on failure, and so is everything built before the error).
// The bad files are made from the real tiny model (.cache/models/tiny-q4_0-s1.bin: full
// vocabulary, 26 MB), so every check runs on a file of the real size and layout.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureModel } from '../../tools/model-gen/index';
import { ggmlNBytes, parseGgmm } from '../../tools/reference/ggmm';
import { EngineError, type EngineBinding } from '../../src/lib/engine-binding';
import { loadEngine, variantAvailable } from './load-engine';
import { speech } from './test-audio';

interface Record { name: string; at: number; dims: number[]; dimsAt: number; typeAt: number; nameAt: number; payload: number; nbytes: number }

/** The tensor records of a GGMM file, in file order (field offsets for the corruptions). */
function records(bytes: Uint8Array): { records: Record[]; offsetConfig: number; offsetTokenizer: number; offsetTensors: number } {
  const f = parseGgmm(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record[] = [];
  let pos = f.offsetTensors;
  while (pos < bytes.byteLength) {
    const at = pos;
    const nameLen = dv.getInt32(pos, true);
    const nameAt = pos + 4;
    const name = new TextDecoder().decode(bytes.subarray(nameAt, nameAt + nameLen));
    pos = nameAt + nameLen;
    const ndim = dv.getInt32(pos, true);
    const dimsAt = pos + 4;
    const dims = Array.from({ length: ndim }, (_, i) => dv.getInt32(dimsAt + 4 * i, true));
    const typeAt = dimsAt + 4 * ndim;
    const type = dv.getInt32(typeAt, true);
    const payload = Math.ceil((typeAt + 4) / 16) * 16;
    const nbytes = ggmlNBytes(type, dims);
    expect(payload).toBe(f.tensors.get(name)!.offset);
    out.push({ name, at, dims, dimsAt, typeAt, nameAt, payload, nbytes });
    pos = payload + nbytes;
  }
  return { records: out, offsetConfig: f.offsetConfig, offsetTokenizer: f.offsetTokenizer, offsetTensors: f.offsetTensors };
}

describe.skipIf(!variantAvailable('st'))('bad model files in the WASM engine (st)', () => {
  let engine: EngineBinding;
  let good: Uint8Array;
  let layout: ReturnType<typeof records>;
  const pcm = speech(1, 1.2);

  const edit = (f: (b: Uint8Array, dv: DataView) => void) => () => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  const rec = (name: string) => layout.records.find((r) => r.name === name)!;

  beforeAll(async () => {
    engine = await loadEngine('st');
    good = new Uint8Array(readFileSync(await ensureModel('tiny', { seed: 1 }))); // a copy: Buffer.slice would share
    layout = records(good);
  });
  /** The good model loads and transcribes: the module is still usable. */
  function goodModelStillWorks(): void {
    const m = engine.loadModel(good, 1);
    try {
      const r = m.transcribe(pcm, { maxNewTokens: 3, repetitionGuard: false });
      expect(r.tokens.length).toBe(3);
    } finally {
      m.free();
    }
  }

  function expectLoadError(bytes: Uint8Array, message: RegExp): string {
    let caught: unknown;
    try {
      engine.loadModel(bytes, 1).free();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(EngineError);
    const msg = (caught as Error).message;
    expect(msg).toMatch(message);
    return msg;
  }

  it('the good model loads (the baseline)', () => {
    goodModelStillWorks();
    expect(layout.records.length).toBeGreaterThan(50);
  });

  const cases: [string, (g: Uint8Array) => Uint8Array, RegExp][] = [
    ['truncated to 10 bytes', (g) => g.slice(0, 10), /truncated: the header needs 20 bytes at offset 0, the file ends at 10/],
    ['truncated inside the header', (g) => g.slice(0, 18), /truncated.*header|too small/],
    ['truncated inside the metadata', (g) => g.slice(0, 200), /truncated: the metadata needs/],
    ['truncated inside the vocabulary', () => good.slice(0, layout.offsetTokenizer + 100_000), /truncated.*vocabulary|truncated/],
    ['truncated half-way through the tensors', () => good.slice(0, Math.floor((layout.offsetTensors + good.length) / 2)), /truncated: tensor '[^']+' needs \d+ bytes/],
    ['truncated by one byte', (g) => g.slice(0, g.length - 1), /truncated: tensor 'lm_head\.weight' needs \d+ bytes/],
    ['wrong magic', () => edit((b) => b.set([0x78, 0x78, 0x78, 0x78], 0))(), /Not a GGMM model file \(bad magic\)/],
    ['a GGUF file', () => edit((b) => b.set([0x47, 0x47, 0x55, 0x46], 0))(), /GGUF/],
    ['GGMM version 2', () => edit((_, dv) => dv.setUint32(4, 2, true))(), /Unsupported GGMM version 2 \(this app reads version 1\)/],
    ['another model type id', () => edit((_, dv) => dv.setUint32(layout.offsetConfig, 0x00000100, true))(), /Model type 0x00000100 is not Qwen3-ASR/],
    ['a missing tensor (renamed)', () => edit((b) => { const r = rec('model.norm.weight'); b[r.nameAt + r.name.length - 1] = 0x58; })(), /Missing tensor 'model\.norm\.weight'/],
    ['a tensor of the wrong shape', () => edit((_, dv) => {
      const r = rec('model.layers.0.mlp.gate_proj.weight'); // [256, 128] -> [128, 256]: same size, wrong shape
      dv.setInt32(r.dimsAt, r.dims[1], true);
      dv.setInt32(r.dimsAt + 4, r.dims[0], true);
    })(), /Tensor 'model\.layers\.0\.mlp\.gate_proj\.weight' has shape \[128,256\] but the config says \[256,128\]/],
    // q4_0 blocks are 18 bytes, the fp16 scale first: 0x7c00 is +inf, 0x7e00 a NaN.
    ['an infinite block scale in a q4_0 matrix', () => edit((_, dv) => dv.setUint16(rec('model.layers.1.self_attn.v_proj.weight').payload + 18 * 3, 0x7c00, true))(),
      /Tensor 'model\.layers\.1\.self_attn\.v_proj\.weight' has an infinite or NaN block scale: the model file is corrupt/],
    ['a NaN block scale in the tied embedding / head', () => edit((_, dv) => dv.setUint16(rec('model.embed_tokens.weight').payload + 18 * 1000, 0x7e00, true))(),
      /Tensor 'model\.embed_tokens\.weight' has an infinite or NaN block scale/],
    ['an unknown type id', () => edit((_, dv) => dv.setInt32(rec('audio.ln_post.bias').typeAt, 99, true))(), /Tensor 'audio\.ln_post\.bias' has type 99/],
    ['absurd dims', () => edit((_, dv) => {
      const r = rec('model.layers.0.mlp.up_proj.weight');
      dv.setInt32(r.dimsAt, 0x7fffffff, true);
      dv.setInt32(r.dimsAt + 4, 0x7fffffe0, true);
    })(), /'model\.layers\.0\.mlp\.up_proj\.weight' is impossibly large|truncated: tensor 'model\.layers\.0\.mlp\.up_proj\.weight'/],
    ['a negative dim', () => edit((_, dv) => dv.setInt32(rec('model.norm.weight').dimsAt, -128, true))(), /tensor 'model\.norm\.weight' has dimension 0 = -128/],
    ['a non-UTF-8 byte in a JSON key', () => edit((b) => {
      const text = new TextDecoder().decode(b.subarray(20, layout.offsetConfig));
      const at = 20 + new TextEncoder().encode(text.slice(0, text.indexOf('"thinker_config"'))).length;
      b[at + 1] = 0xc3; // "Ã" + "h": a lead byte followed by ASCII
    })(), /metadata is not valid JSON .*invalid UTF-8/],
  ];

  for (const [name, make, message] of cases) {
    it(`${name}: an EngineError that says so, then a good model still works`, () => {
      const msg = expectLoadError(make(good), message);
      expect(msg.length).toBeGreaterThan(10);
      goodModelStillWorks();
    });
  }

  // JSON text must be UTF-8: a non-UTF-8 byte inside a string of the metadata is refused by name.
  it('a non-UTF-8 byte inside a JSON string of the metadata: an EngineError that says so', () => {
    const b = good.slice();
    const text = new TextDecoder().decode(b.subarray(20, layout.offsetConfig));
    const at = 20 + new TextEncoder().encode(text.slice(0, text.indexOf('Qwen3-ASR-tiny'))).length;
    b[at + 3] = 0xff; // inside the model_name string
    try {
      expectLoadError(b, /metadata.*UTF-8/i);
    } finally {
      goodModelStillWorks();
    }
  });


  it('50 failed loads do not grow the WASM heap', () => {
    const bad = cases.map(([, make]) => make(good));
    // Where a 40 MiB block lands: the allocator is deterministic, so with nothing leaked the same
    // free space is found again (a leak would push the block up or grow the heap).
    const M = engine.M;
    const probe = () => {
      const p = M._malloc(40 << 20) >>> 0;
      M._free(p);
      return p;
    };
    // Warm up: one of each, then a good load, so the allocator has seen every size.
    for (const b of bad) expect(() => engine.loadModel(b, 1)).toThrow(EngineError);
    goodModelStillWorks();
    // Probe first, then read the size: the probe itself may grow a small heap once.
    const beforeBlock = probe();
    const before = { heap: M.HEAPU8.length, block: beforeBlock };
    for (let i = 0; i < 50; i++) expect(() => engine.loadModel(bad[i % bad.length], 1)).toThrow(EngineError);
    const afterBlock = probe();
    const after = { heap: M.HEAPU8.length, block: afterBlock };
    goodModelStillWorks();
    console.log(`WASM heap ${(before.heap / 2 ** 20).toFixed(0)} MiB before and ${(after.heap / 2 ** 20).toFixed(0)} MiB after 50 failed loads; a 40 MiB probe block at ${before.block} before, ${after.block} after`);
    expect(after.heap).toBe(before.heap);
    expect(after.block).toBe(before.block);
  });
});
