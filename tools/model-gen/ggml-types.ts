/**
 * ggml tensor type ids and their storage sizes, as used in chatllm.cpp GGMM files.
 * Only the types this generator can write are listed.
 */

export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 8,
} as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** Names accepted for the requested default quantisation (`--quant`). */
export type QuantName = 'f32' | 'f16' | 'q4_0' | 'q4_1' | 'q8_0';

export const QUANT_NAMES: readonly QuantName[] = ['f32', 'f16', 'q4_0', 'q4_1', 'q8_0'];

export const QUANT_TYPE: Record<QuantName, GgmlType> = {
  f32: GgmlType.F32,
  f16: GgmlType.F16,
  q4_0: GgmlType.Q4_0,
  q4_1: GgmlType.Q4_1,
  q8_0: GgmlType.Q8_0,
};

interface TypeTraits {
  name: string;
  /** elements per block */
  blockElems: number;
  /** bytes per block */
  blockBytes: number;
}

const TRAITS: Record<number, TypeTraits> = {
  [GgmlType.F32]: { name: 'f32', blockElems: 1, blockBytes: 4 },
  [GgmlType.F16]: { name: 'f16', blockElems: 1, blockBytes: 2 },
  [GgmlType.Q4_0]: { name: 'q4_0', blockElems: 32, blockBytes: 18 },
  [GgmlType.Q4_1]: { name: 'q4_1', blockElems: 32, blockBytes: 20 },
  [GgmlType.Q8_0]: { name: 'q8_0', blockElems: 32, blockBytes: 34 },
};

function traits(type: number): TypeTraits {
  const t = TRAITS[type];
  if (!t) throw new Error(`unsupported ggml type ${type}`);
  return t;
}

export function typeName(type: number): string {
  return traits(type).name;
}

export function blockElems(type: number): number {
  return traits(type).blockElems;
}

/** ggml_nbytes for a contiguous tensor of `n` elements (n must be a multiple of the block size). */
export function tensorBytes(type: number, n: number): number {
  const t = traits(type);
  if (n % t.blockElems !== 0) {
    throw new Error(`${n} elements is not a multiple of the ${t.name} block size ${t.blockElems}`);
  }
  return (n / t.blockElems) * t.blockBytes;
}

/** Bytes produced by `rows` rows of `rowLen` elements. */
export function rowBytes(type: number, rowLen: number): number {
  return tensorBytes(type, rowLen);
}
