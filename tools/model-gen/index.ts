/**
 * Random-weight model files in chatllm.cpp's GGMM v1 format (Qwen3-ASR / Qwen3-ForcedAligner).
 *
 *   generateModel({ preset: 'tiny', seed: 1, out: '/tmp/tiny.bin' })
 *   ensureModel('tiny', { seed: 1 })  // -> <repo>/.cache/models/tiny-q4_0-s1.bin (cached)
 *   planModel({ preset: 'full-0.6b', seed: 1 }).totalBytes  // size without writing
 *
 * Layout, tensor names, types and quantisers follow chatllm's convert.py (see
 * research note chatllm-qwen3-asr.md §1 and §6). Weight scales: see INIT_SCALES in tensors.ts.
 * Tensors are generated and written chunk by chunk (at most ~1M floats in memory at a time).
 */

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GgmlType, QUANT_NAMES, QUANT_TYPE, tensorBytes, type QuantName } from './ggml-types';
import {
  encodeConfigSection,
  encodeHeader,
  encodeMetadata,
  encodeTensorHeader,
  encodeTokenizer,
  HashingFileSink,
  HEADER_BYTES,
} from './ggmm-writer';
import { buildMetadata } from './metadata';
import { getPreset, resolveConfig, type ConfigOverrides, type ModelConfig, type PresetName } from './presets';
import { convertF16, convertF32, quantizeQ4_0, quantizeQ4_1, quantizeQ8_0 } from './quantize';
import { loadQwenVocab } from './qwen-vocab';
import { Rng } from './rng';
import { listTensors, numElements, type TensorSpec } from './tensors';

export { PRESETS, PRESET_NAMES, OVERRIDABLE_KEYS, resolveConfig } from './presets';
export type { ConfigOverrides, ModelConfig, PresetName } from './presets';
export { INIT_SCALES, listTensors } from './tensors';
export type { TensorSpec } from './tensors';
export { GgmlType, QUANT_NAMES, typeName } from './ggml-types';
export type { QuantName } from './ggml-types';

/** Bump whenever the bytes produced for a given (preset, quant, seed) change: invalidates ensureModel's cache. */
export const GENERATOR_VERSION = 1;

/** Floats generated per chunk (whole rows; a single longer row is generated in one go). */
const CHUNK_ELEMS = 1 << 20;

export interface ModelSpecOptions {
  preset: PresetName | string;
  seed: number;
  quant?: QuantName;
  overrides?: ConfigOverrides;
}

export interface GenerateOptions extends ModelSpecOptions {
  out: string;
  /** compute the layout and size only; nothing is written (sha256 is '') */
  dryRun?: boolean;
  onProgress?: (bytesWritten: number, totalBytes: number) => void;
}

export interface GenerateResult {
  path: string;
  bytes: number;
  tensors: number;
  sha256: string;
}

export interface PlannedTensor {
  spec: TensorSpec;
  /** absolute offset of the record (name length field) */
  recordOffset: number;
  /** record header incl. padding */
  header: Buffer;
  /** absolute offset of the payload (multiple of 16) */
  dataOffset: number;
  dataBytes: number;
}

export interface ModelPlan {
  config: ModelConfig;
  quant: QuantName;
  seed: number;
  sections: { header: Buffer; metadata: Buffer; config: Buffer; tokenizer: Buffer };
  offsets: { config: number; tokenizer: number; tensors: number };
  tensors: PlannedTensor[];
  totalBytes: number;
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`seed must be an integer in 0..2^32-1 (got ${seed})`);
}

/** Everything about the file except the weight payloads. */
export function planModel(opts: ModelSpecOptions): ModelPlan {
  checkSeed(opts.seed);
  const config = resolveConfig(opts.preset as PresetName, opts.overrides);
  const quant = opts.quant ?? getPreset(opts.preset).defaultQuant;
  if (!QUANT_NAMES.includes(quant)) throw new Error(`unknown quant "${quant}" (known: ${QUANT_NAMES.join(', ')})`);

  const metadata = encodeMetadata(buildMetadata(config, opts.seed));
  const configSection = encodeConfigSection(config, QUANT_TYPE[quant]);
  const tokenizer = encodeTokenizer(loadQwenVocab());
  const offConfig = HEADER_BYTES + metadata.length;
  const offTokenizer = offConfig + configSection.length;
  const offTensors = offTokenizer + tokenizer.length;
  const header = encodeHeader(offConfig, offTokenizer, offTensors);

  let pos = offTensors;
  const tensors: PlannedTensor[] = [];
  for (const spec of listTensors(config, quant)) {
    const h = encodeTensorHeader(spec.name, spec.shape, spec.type, pos);
    const dataOffset = pos + h.length;
    const dataBytes = tensorBytes(spec.type, numElements(spec.shape));
    tensors.push({ spec, recordOffset: pos, header: h, dataOffset, dataBytes });
    pos = dataOffset + dataBytes;
  }
  return {
    config,
    quant,
    seed: opts.seed,
    sections: { header, metadata, config: configSection, tokenizer },
    offsets: { config: offConfig, tokenizer: offTokenizer, tensors: offTensors },
    tensors,
    totalBytes: pos,
  };
}

type Encoder = (src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number) => number;

const ENCODERS: Record<number, Encoder> = {
  [GgmlType.F32]: convertF32,
  [GgmlType.F16]: convertF16,
  [GgmlType.Q4_0]: quantizeQ4_0,
  [GgmlType.Q4_1]: quantizeQ4_1,
  [GgmlType.Q8_0]: quantizeQ8_0,
};

/** Draws a tensor's values chunk by chunk and hands each encoded chunk to `emit`. */
export function generateTensorPayload(spec: TensorSpec, seed: number, emit: (bytes: Uint8Array) => void): void {
  const n = numElements(spec.shape);
  const rowLen = spec.shape[spec.shape.length - 1];
  const rows = n / rowLen;
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMS / rowLen));
  const chunkElems = Math.min(rows, rowsPerChunk) * rowLen;
  const floats = new Float32Array(chunkElems);
  const out = new Uint8Array(tensorBytes(spec.type, chunkElems));
  const encode = ENCODERS[spec.type];
  const rng = Rng.forTensor(seed, spec.name);
  const init = spec.init;
  for (let r = 0; r < rows; r += rowsPerChunk) {
    const m = Math.min(rowsPerChunk, rows - r) * rowLen;
    if (init.kind === 'normal') rng.fillNormal(floats, 0, m, 0, init.std);
    else if (init.kind === 'ones') rng.fillUniform(floats, 0, m, 1 - init.spread, 1 + init.spread);
    else rng.fillUniform(floats, 0, m, -init.spread, init.spread);
    const nb = encode(floats, 0, m, out, 0);
    emit(out.subarray(0, nb));
  }
}

function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export async function generateModel(opts: GenerateOptions): Promise<GenerateResult> {
  const plan = planModel(opts);
  const path = resolve(opts.out);
  if (opts.dryRun) return { path, bytes: plan.totalBytes, tensors: plan.tensors.length, sha256: '' };

  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  const sink = new HashingFileSink(tmp);
  let sha256: string;
  try {
    sink.write(plan.sections.header);
    sink.write(plan.sections.metadata);
    sink.write(plan.sections.config);
    sink.write(plan.sections.tokenizer);
    let lastReport = 0;
    for (const t of plan.tensors) {
      if (sink.position !== t.recordOffset) throw new Error(`internal: ${t.spec.name} at ${sink.position}, planned ${t.recordOffset}`);
      sink.write(t.header);
      generateTensorPayload(t.spec, plan.seed, (bytes) => sink.write(bytes));
      if (opts.onProgress && sink.position - lastReport > 32 << 20) {
        lastReport = sink.position;
        opts.onProgress(sink.position, plan.totalBytes);
      }
    }
    if (sink.position !== plan.totalBytes) throw new Error(`internal: wrote ${sink.position} bytes, planned ${plan.totalBytes}`);
    sha256 = sink.close();
    renameSync(tmp, path);
  } catch (e) {
    sink.abort();
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to remove */
    }
    throw e;
  }
  opts.onProgress?.(plan.totalBytes, plan.totalBytes);
  return { path, bytes: plan.totalBytes, tensors: plan.tensors.length, sha256 };
}

/** Repository root (this file is tools/model-gen/index.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MODEL_CACHE_DIR = resolve(REPO_ROOT, '.cache', 'models');

export function cachedModelPath(preset: PresetName | string, seed: number, quant: QuantName): string {
  return resolve(MODEL_CACHE_DIR, `${preset}-${quant}-s${seed}.bin`);
}

interface CacheStamp {
  generatorVersion: number;
  preset: string;
  quant: string;
  seed: number;
  bytes: number;
  sha256: string;
}

/**
 * Path of the cached model file, generating it first if it is missing (or was made by an
 * older generator version: a `<file>.json` stamp records the version, size and sha256).
 * Writes go to a temporary name and are renamed into place, so a partial file never appears.
 */
export async function ensureModel(preset: PresetName | string, opts: { seed?: number; quant?: QuantName } = {}): Promise<string> {
  const seed = opts.seed ?? 1;
  const quant = opts.quant ?? getPreset(preset).defaultQuant;
  const path = cachedModelPath(preset, seed, quant);
  const stampPath = `${path}.json`;
  if (existsSync(path) && existsSync(stampPath)) {
    try {
      const stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as CacheStamp;
      if (stamp.generatorVersion === GENERATOR_VERSION && statSync(path).size === stamp.bytes) return path;
    } catch {
      /* regenerate */
    }
  }
  await generateIntoCache(preset, { seed, quant });
  return path;
}

/** (Re)generates the cache file for (preset, quant, seed) unconditionally and stamps it. */
export async function generateIntoCache(
  preset: PresetName | string,
  opts: { seed?: number; quant?: QuantName; onProgress?: GenerateOptions['onProgress'] } = {},
): Promise<GenerateResult> {
  const seed = opts.seed ?? 1;
  const quant = opts.quant ?? getPreset(preset).defaultQuant;
  const path = cachedModelPath(preset, seed, quant);
  const stampPath = `${path}.json`;
  const res = await generateModel({ preset, seed, quant, out: path, onProgress: opts.onProgress });
  const stamp: CacheStamp = { generatorVersion: GENERATOR_VERSION, preset, quant, seed, bytes: res.bytes, sha256: res.sha256 };
  const tmpStamp = tempName(stampPath);
  writeFileSync(tmpStamp, JSON.stringify(stamp, null, 2) + '\n');
  renameSync(tmpStamp, stampPath);
  return res;
}
