/**
 * Minimal GGMM v1 reader for tests and tools: header, metadata, config struct, tokenizer
 * counts, tensor directory, and dequantisation of a tensor to f32.
 * (Reads the whole file into memory; fine for test models.)
 */

import { readFileSync } from 'node:fs';

import { GgmlType, tensorBytes } from './ggml-types';
import { dequantizeF16, dequantizeF32, dequantizeQ4_0, dequantizeQ4_1, dequantizeQ8_0 } from './quantize';

export interface GgmmTensorInfo {
  name: string;
  /** PyTorch order */
  shape: number[];
  type: number;
  /** absolute offset of the payload */
  offset: number;
  bytes: number;
}

export interface GgmmConfigStruct {
  dtype: number;
  vocabSize: number;
  hiddenSize: number;
  numHeads: number;
  numLayers: number;
  intermediateSize: number;
  maxLength: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number;
  sepTokenId: number;
  numKvHeads: number;
  headDim: number;
  ropeTheta: number;
  yarnFactor: number;
  yarnOriginalMaxPos: number;
  decoderSparseStep: number;
  moeIntermediateSize: number;
  numExpertsPerTok: number;
  numExperts: number;
  normTopkProb: number;
  tieWordEmbeddings: number;
  mropeSection: number[];
  /** aligner files only */
  classifyNum?: number;
}

export interface GgmmFile {
  data: Buffer;
  version: number;
  offsets: { config: number; tokenizer: number; tensors: number };
  metadata: Record<string, unknown>;
  modelType: number;
  loaderVersion: number;
  config: GgmmConfigStruct;
  vocab: string[];
  merges: string[];
  tensors: Map<string, GgmmTensorInfo>;
}

export const ASR_MODEL_TYPE = 0x1000010f;
export const ALIGNER_MODEL_TYPE = 0x04000002;

export function readGgmm(pathOrData: string | Buffer): GgmmFile {
  const data = typeof pathOrData === 'string' ? readFileSync(pathOrData) : pathOrData;
  if (data.toString('ascii', 0, 4) !== 'ggmm') throw new Error('not a GGMM file');
  const version = data.readUInt32LE(4);
  const offsets = { config: data.readUInt32LE(8), tokenizer: data.readUInt32LE(12), tensors: data.readUInt32LE(16) };
  let metaEnd = offsets.config;
  while (metaEnd > 20 && data[metaEnd - 1] === 0) metaEnd--;
  const metadata = JSON.parse(data.toString('utf8', 20, metaEnd)) as Record<string, unknown>;

  let o = offsets.config;
  const i32 = () => {
    const v = data.readInt32LE(o);
    o += 4;
    return v;
  };
  const f32 = () => {
    const v = data.readFloatLE(o);
    o += 4;
    return v;
  };
  const modelType = i32();
  const loaderVersion = i32();
  const config: GgmmConfigStruct = {
    dtype: i32(),
    vocabSize: i32(),
    hiddenSize: i32(),
    numHeads: i32(),
    numLayers: i32(),
    intermediateSize: i32(),
    maxLength: i32(),
    bosTokenId: i32(),
    eosTokenId: i32(),
    padTokenId: i32(),
    sepTokenId: i32(),
    numKvHeads: i32(),
    headDim: i32(),
    ropeTheta: f32(),
    yarnFactor: f32(),
    yarnOriginalMaxPos: i32(),
    decoderSparseStep: i32(),
    moeIntermediateSize: i32(),
    numExpertsPerTok: i32(),
    numExperts: i32(),
    normTopkProb: i32(),
    tieWordEmbeddings: i32(),
    mropeSection: [],
  };
  o += 128 * 4; // layer_is_sparse
  config.mropeSection = [i32(), i32(), i32(), i32()];
  if (modelType === ALIGNER_MODEL_TYPE) config.classifyNum = i32();

  // tokenizer: parsed from the current position, like chatllm does
  const vocab: string[] = [];
  for (;;) {
    const len = i32();
    if (len < 0) break;
    vocab.push(data.toString('utf8', o, o + len));
    o += len + 1; // + type byte
  }
  const merges: string[] = [];
  for (;;) {
    const len = i32();
    if (len < 0) break;
    merges.push(data.toString('utf8', o, o + len));
    o += len;
  }

  const tensors = new Map<string, GgmmTensorInfo>();
  while (o < data.length) {
    const nameLen = i32();
    const name = data.toString('utf8', o, o + nameLen);
    o += nameLen;
    const ndim = i32();
    const shape: number[] = [];
    for (let k = 0; k < ndim; k++) shape.push(i32());
    const type = i32();
    o = Math.ceil(o / 16) * 16;
    const bytes = tensorBytes(type, shape.reduce((a, b) => a * b, 1));
    tensors.set(name, { name, shape, type, offset: o, bytes });
    o += bytes;
  }
  if (o !== data.length) throw new Error(`truncated tensor data (${o} > ${data.length})`);
  return { data, version, offsets, metadata, modelType, loaderVersion, config, vocab, merges, tensors };
}

/** Dequantise a tensor to f32 (row-major, PyTorch order). */
export function tensorToF32(file: GgmmFile, name: string): Float32Array {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`no tensor ${name}`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  switch (t.type) {
    case GgmlType.F32:
      return dequantizeF32(file.data, t.offset, n);
    case GgmlType.F16:
      return dequantizeF16(file.data, t.offset, n);
    case GgmlType.Q4_0:
      return dequantizeQ4_0(file.data, t.offset, n);
    case GgmlType.Q4_1:
      return dequantizeQ4_1(file.data, t.offset, n);
    case GgmlType.Q8_0:
      return dequantizeQ8_0(file.data, t.offset, n);
    default:
      throw new Error(`unsupported type ${t.type}`);
  }
}
