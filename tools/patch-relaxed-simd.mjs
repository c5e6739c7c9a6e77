#!/usr/bin/env node
// Rewrites the stand-in i8x16.swizzle of a QASR_RELAXED_SIMD build into
// i16x8.relaxed_dot_i8x16_i7x16_s (kernels_simd128.cpp: clang 14 cannot emit relaxed SIMD).
// Usage: patch-relaxed-simd.mjs <module.wasm> [plain build.wasm, which must contain no swizzle]
// The module goes through Binaryen's text form with an explicit feature set, so nothing newer than
// the engine needs is written (Binaryen's "all features" emits encodings older V8s reject).
import binaryen from 'binaryen';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const STAND_IN = 'i8x16.swizzle';
const RELAXED = 'i16x8.relaxed_dot_i8x16_i7x16_s';
const F = binaryen.Features;
const FEATURES = F.MVP | F.SIMD128 | F.RelaxedSIMD | F.Atomics | F.BulkMemory | (F.BulkMemoryOpt ?? 0) | F.MutableGlobals | F.SignExt | F.NontrappingFPToInt;

function text(path) {
  const m = binaryen.readBinary(readFileSync(path));
  m.setFeatures(FEATURES);
  const t = m.emitText();
  m.dispose();
  return t;
}
const count = (t, s) => t.split(s).length - 1;

const [target, plain] = process.argv.slice(2);
if (!target) throw new Error('usage: patch-relaxed-simd.mjs <module.wasm> [plain.wasm]');
if (plain && existsSync(plain) && count(text(plain), STAND_IN) !== 0) {
  throw new Error(`${plain} uses ${STAND_IN} itself: it cannot stand in for the relaxed dot product`);
}
const src = text(target);
const n = count(src, STAND_IN);
if (n === 0) throw new Error(`${target}: no ${STAND_IN} to rewrite (not a QASR_RELAXED_SIMD build?)`);
const out = binaryen.parseText(src.replaceAll(STAND_IN, RELAXED));
out.setFeatures(FEATURES);
if (!out.validate()) throw new Error(`${target}: the rewritten module does not validate`);
writeFileSync(target, out.emitBinary());
out.dispose();
console.log(`patch-relaxed-simd: ${n} relaxed dot products in ${target}`);
