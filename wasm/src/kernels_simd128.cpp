// WebAssembly SIMD128 kernel family (compiled only with -msimd128, i.e. __wasm_simd128__).
// Implements kint::fam (kernels_internal.h). Scalar references for every kernel here are in
// kernels_scalar.cpp: prepare_act_row / quantize_row_q8_0 <-> quantize_row_q8_0_ref (bit-exact),
// q8_gemm <-> matmul_ref's integer path (same integers; f32 accumulation order differs),
// f32_gemm / dot_f32 <-> dot_f32_ref, axpy_f32 (bit-exact), to_f32_row <-> dequant_row_scalar.
//
// Integer path. SIMD128 has no i8 dot product (no relaxed SIMD in clang 14), so operands are
// widened to i16 and multiplied with i32x4.dot_i16x8_s (8 MACs per instruction). Blocks are
// handled in groups of 4, *interleaved*: every i16x8 vector holds 2 elements of each of the 4
// blocks, so a dot product's lane k only ever sees block k and the 16 dot products of a group add
// up to [Σblock0, Σblock1, Σblock2, Σblock3] with no horizontal reduction. For word j (bytes
// 4j..4j+3 of each block's 16 nibble bytes, gathered from the 4 blocks by a 4×4 transpose of
// 32-bit words) the four vectors are, per block, the element pairs
//   A = (4j, 4j+2)   B = (4j+1, 4j+3)   C = (16+4j, 18+4j)   D = (17+4j, 19+4j)
// which is what the nibbles give with one mask and/or one shift per vector when the bytes are
// read as u16 lanes (q8_0 weights: an arithmetic shift pair). Activations are stored in exactly
// this order when they are quantised (prepare_act_row).
// Per group: exact i32 block sums, the q4_0 "-8" offset subtracted in integers (8·Σq_x, kept
// with the activations), conversion to f32, times d_w·d_x per lane (4 fp16 scales converted at
// once), added to an f32x4 accumulator (q4_1 adds m_w · d_x·Σq_x per lane). Lane k therefore
// accumulates blocks 4g+k in order of g and the lanes are summed (l0+l2)+(l1+l3) at the end:
// the order depends only on k, whichever path computed the output.
// Two paths: direct (fewer than 8 activation rows, i.e. GEMV: weights unpacked on the fly, one
// weight row per tile for one activation row; 2 rows from 2 separate segments for 2), and panel (8+ rows: the chunk's weights are widened once into an i16 panel with the
// offset folded in and 4 scales per group in f32; the inner loop is then only loads, dot
// products and adds, 2 activation rows × 4 weight rows). Both give bit-identical results.
// The hot tiles are noinline: V8 allocates registers per function, and the panel tile inlined
// into its caller ran at half speed.
// Relaxed-SIMD build (QASR_RELAXED_SIMD, engine-mt-relaxed): q4_0 weights use
// i16x8.relaxed_dot_i8x16_i7x16_s instead (16 MACs per instruction; V8 lowers it to pmaddubsw),
// the AVX2 family's scheme: the word-transposed code bytes are split into low and high nibble
// vectors (unsigned 0..15, so the i7 operand is in the deterministic range), activations are
// kept a second time as i8 in the matching order, and a group's 8 dot products are summed in
// i16 (at most 8 · 2 · 15 · 128 = 30720) before one widening add. The integers are the same, so
// the floating-point part, and every result, is bit for bit that of the plain build.
// Packed q4_0 (GgmlType::Q4_0_X4, ggml_types.h): the loader stores each group of 4 blocks as its 4
// scales followed by the already word-transposed codes, so load_words is 4 plain loads and the
// scales 4 operations (load_half4_packed); the integers and floats are those of plain q4_0.
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"
#include "kernels_internal.h"

namespace qasr {
namespace kint {
namespace fam {

namespace {

// Prepared activation row layout (nb = k/32 blocks, nbp = nb rounded up to a multiple of 4,
// padding blocks are zero):
//   int16 q[nbp/4][16][8]  groups of 4 blocks, 16 interleaved vectors each     at 0
//   int32 corr[nbp]        8 · Σq (the q4_0 offset)                            at nbp*64
//   float d[nbp]                                                                at nbp*68
//   float s[nbp]           d · Σq (the q4_1 min term)                           at nbp*72
inline int64_t pad4(int64_t nb) { return (nb + 3) & ~int64_t{3}; }
inline size_t off_corr(int64_t nb) { return static_cast<size_t>(pad4(nb) * 64); }
inline size_t off_d(int64_t nb) { return static_cast<size_t>(pad4(nb) * 68); }
inline size_t off_s(int64_t nb) { return static_cast<size_t>(pad4(nb) * 72); }
#if defined(QASR_RELAXED_SIMD)
// Relaxed build only: int8 q[nbp/4][4 words][lo 16 | hi 16] at nbp*76 (the AVX2 family's order).
inline size_t off_i8(int64_t nb) { return static_cast<size_t>(pad4(nb) * 76); }
constexpr int64_t kActBytesPerBlock = 108;
// i16x8.relaxed_dot_i8x16_i7x16_s(a, b): lane i = a[2i]·b[2i] + a[2i+1]·b[2i+1], exact when every
// b lane is in 0..127. clang 14 has no builtin for it, so i8x16.swizzle (same signature, used
// nowhere else in the engine) stands in and tools/patch-relaxed-simd.mjs rewrites each one in the
// linked module (it checks that the plain build has none).
inline v128_t relaxed_dot_i8_i7(v128_t a, v128_t b) { return wasm_i8x16_swizzle(a, b); }
#else
constexpr int64_t kActBytesPerBlock = 76;
#endif

// Position (in i16 units inside its group) of element e of block l of a group.
inline int interleaved_pos(int l, int e) {
  const int hi = e >= 16 ? 1 : 0;
  const int e2 = e - 16 * hi;
  const int j = e2 >> 2, r = e2 & 3;
  const int kind = 2 * hi + (r & 1);  // A, B, C, D
  return (j * 4 + kind) * 8 + 2 * l + (r >> 1);
}

// u32 lanes holding IEEE halves in their low 16 bits -> f32x4, exactly as half_to_float.
inline v128_t half_bits_to_f32(v128_t h) {
  const v128_t em = wasm_v128_and(h, wasm_i32x4_splat(0x7fff));
  const v128_t sh = wasm_i32x4_shl(em, 13);
  const v128_t normal = wasm_f32x4_mul(sh, wasm_i32x4_splat(0x77800000));
  const v128_t special = wasm_v128_or(sh, wasm_i32x4_splat(0x7f800000));
  const v128_t is_special = wasm_i32x4_ge(em, wasm_i32x4_splat(0x7c00));
  const v128_t f = wasm_v128_bitselect(special, normal, is_special);
  return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

// The fp16 values at p, p + stride, p + 2·stride, p + 3·stride (the first N; other lanes 0).
template <int N>
inline v128_t load_half4(const uint8_t* p, size_t stride) {
  v128_t h = wasm_i32x4_splat(0);
  h = wasm_v128_load16_lane(p, h, 0);
  if (N > 1) h = wasm_v128_load16_lane(p + stride, h, 2);
  if (N > 2) h = wasm_v128_load16_lane(p + 2 * stride, h, 4);
  if (N > 3) h = wasm_v128_load16_lane(p + 3 * stride, h, 6);
  return half_bits_to_f32(h);
}

// load_half4 for weight scales, which the loader guarantees finite (model.cpp
// block_scales_finite): with the halves in the high 16 bits of each lane, an arithmetic shift by
// 3 and a mask put sign | exponent·mantissa << 13 in place, and the multiply by 2^112 rebiases
// (exact for subnormals too). 4 loads and 8 operations instead of 4 lane inserts and 10: +15% GEMV.
template <int N>
inline v128_t load_half4_finite(const uint8_t* p, size_t stride) {
  if (N < 4) return load_half4<N>(p, stride);  // the row's last group: no reads past its blocks
  const v128_t a = wasm_i16x8_shuffle(wasm_v128_load64_zero(p), wasm_v128_load64_zero(p + stride),
                                      0, 8, 1, 9, 2, 10, 3, 11);
  const v128_t b = wasm_i16x8_shuffle(wasm_v128_load64_zero(p + 2 * stride),
                                      wasm_v128_load64_zero(p + 3 * stride), 0, 8, 1, 9, 2, 10, 3, 11);
  const v128_t h = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5);  // the 4 halves in i16 lanes 0..3
  const v128_t x = wasm_i16x8_shuffle(wasm_i32x4_splat(0), h, 0, 8, 1, 9, 2, 10, 3, 11);
  const v128_t bits = wasm_v128_and(wasm_i32x4_shr(x, 3), wasm_i32x4_splat(static_cast<int32_t>(0x8fffffffu)));
  return wasm_f32x4_mul(bits, wasm_i32x4_splat(0x77800000));
}

// The 4 adjacent fp16 scales of a packed q4_0 group (finite, as load_half4_finite): 4 operations.
inline v128_t load_half4_packed(const uint8_t* p) {
  const v128_t x = wasm_i16x8_shuffle(wasm_i32x4_splat(0), wasm_v128_load64_zero(p), 0, 8, 1, 9, 2, 10, 3, 11);
  const v128_t bits = wasm_v128_and(wasm_i32x4_shr(x, 3), wasm_i32x4_splat(static_cast<int32_t>(0x8fffffffu)));
  return wasm_f32x4_mul(bits, wasm_i32x4_splat(0x77800000));
}

// 4×4 transpose of 32-bit words: t[j] = word j of r0, r1, r2, r3.
inline void transpose4(v128_t r0, v128_t r1, v128_t r2, v128_t r3, v128_t t[4]) {
  const v128_t a = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);
  const v128_t b = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
  const v128_t c = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
  const v128_t d = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
  t[0] = wasm_i64x2_shuffle(a, b, 0, 2);
  t[1] = wasm_i64x2_shuffle(a, b, 1, 3);
  t[2] = wasm_i64x2_shuffle(c, d, 0, 2);
  t[3] = wasm_i64x2_shuffle(c, d, 1, 3);
}

inline float hsum_f32x4(v128_t v) {
  const v128_t t = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  return wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1);
}

inline float hmax_f32x4(v128_t v) {
  v128_t t = wasm_f32x4_max(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  t = wasm_f32x4_max(t, wasm_i32x4_shuffle(t, t, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(t, 0);
}

// Quantises one block of 32 floats like quantize_row_q8_0_ref; returns the 32 values as four
// i16x8 in natural order (n[0] = elements 0..7, ...) and d (as stored: fp16).
inline uint16_t quant_block(const float* x, v128_t n[4]) {
  v128_t v[8];
  v128_t amax = wasm_f32x4_splat(0.0f);
  for (int i = 0; i < 8; ++i) {
    v[i] = wasm_v128_load(x + 4 * i);
    amax = wasm_f32x4_max(amax, wasm_f32x4_abs(v[i]));
  }
  const float am = hmax_f32x4(amax);
  const float d = am / 127.0f;
  const uint16_t dh = float_to_half(d);
  const float id = dh != 0 ? 1.0f / d : 0.0f;
  const v128_t vid = wasm_f32x4_splat(id);
  v128_t q[8];
  for (int i = 0; i < 8; ++i)
    q[i] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(v[i], vid)));
  for (int i = 0; i < 4; ++i) n[i] = wasm_i16x8_narrow_i32x4(q[2 * i], q[2 * i + 1]);
  return dh;
}

template <GgmlType T>
struct QTraits;
template <>
struct QTraits<GgmlType::Q4_0> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_0), kQsOffset = 2;
  static constexpr bool kCorr = true, kMin = false, kPacked = false;
};
// q4_0 packed at load (ggml_types.h): a group's words are already transposed and its 4 scales
// adjacent; whole groups only (rows of a multiple of 128 elements).
template <>
struct QTraits<GgmlType::Q4_0_X4> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_0), kQsOffset = 8;
  static constexpr bool kCorr = true, kMin = false, kPacked = true;
};
template <>
struct QTraits<GgmlType::Q4_1> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_1), kQsOffset = 4;
  static constexpr bool kCorr = false, kMin = true, kPacked = false;
};
template <>
struct QTraits<GgmlType::Q8_0> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ8_0), kQsOffset = 2;
  static constexpr bool kCorr = false, kMin = false, kPacked = false;
};

// Word-transposed raw bytes of group (b0, N blocks) of one row: t[j] = bytes 4j..4j+3 of each
// block's first 16 code bytes, u[j] the same for bytes 16..31 (q8_0 only). Missing blocks = 0.
template <GgmlType T, int N>
inline void load_words(const uint8_t* row, int64_t b0, v128_t t[4], v128_t u[4]) {
  using Tr = QTraits<T>;
  const uint8_t* qs = row + b0 * Tr::kBlockBytes + Tr::kQsOffset;
  if constexpr (Tr::kPacked) {  // whole groups only: N is always 4 here
    for (int j = 0; j < 4; ++j) t[j] = wasm_v128_load(qs + 16 * j);
    return;
  }
  const v128_t z = wasm_i32x4_splat(0);
  transpose4(wasm_v128_load(qs), N > 1 ? wasm_v128_load(qs + Tr::kBlockBytes) : z,
             N > 2 ? wasm_v128_load(qs + 2 * Tr::kBlockBytes) : z,
             N > 3 ? wasm_v128_load(qs + 3 * Tr::kBlockBytes) : z, t);
  if (T == GgmlType::Q8_0) {
    transpose4(wasm_v128_load(qs + 16), N > 1 ? wasm_v128_load(qs + Tr::kBlockBytes + 16) : z,
               N > 2 ? wasm_v128_load(qs + 2 * Tr::kBlockBytes + 16) : z,
               N > 3 ? wasm_v128_load(qs + 3 * Tr::kBlockBytes + 16) : z, u);
  }
}

// The 4 interleaved vectors A, B, C, D of word j (q4: nibbles 0..15, q8_0: -128..127).
template <GgmlType T>
inline void unpack_word(v128_t t, v128_t u, v128_t wv[4]) {
  if (T == GgmlType::Q8_0) {
    wv[0] = wasm_i16x8_shr(wasm_i16x8_shl(t, 8), 8);
    wv[1] = wasm_i16x8_shr(t, 8);
    wv[2] = wasm_i16x8_shr(wasm_i16x8_shl(u, 8), 8);
    wv[3] = wasm_i16x8_shr(u, 8);
  } else {
    const v128_t m4 = wasm_i16x8_splat(0x000F);
    wv[0] = wasm_v128_and(t, m4);
    wv[1] = wasm_v128_and(wasm_u16x8_shr(t, 8), m4);
    wv[2] = wasm_v128_and(wasm_u16x8_shr(t, 4), m4);
    wv[3] = wasm_u16x8_shr(t, 12);
  }
}

// All 16 interleaved weight vectors of a group (used to widen the panel).
template <GgmlType T, int N>
inline void unpack_group(const uint8_t* row, int64_t b0, v128_t wv[16]) {
  v128_t t[4], u[4];
  load_words<T, N>(row, b0, t, u);
  for (int j = 0; j < 4; ++j) unpack_word<T>(t[j], u[j], wv + 4 * j);
}

// f32 update of one output with a group's exact integer block sums.
template <GgmlType T>
inline v128_t group_update(v128_t acc, v128_t isum, v128_t corr, v128_t dw, v128_t mw,
                           const uint8_t* act_row, int64_t nb, int64_t b0) {
  using Tr = QTraits<T>;
  if (Tr::kCorr) isum = wasm_i32x4_sub(isum, corr);
  const v128_t dx = wasm_v128_load(act_row + off_d(nb) + b0 * 4);
  acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum), wasm_f32x4_mul(dw, dx)));
  if (Tr::kMin) {
    const v128_t sx = wasm_v128_load(act_row + off_s(nb) + b0 * 4);
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(mw, sx));
  }
  return acc;
}

// ---- direct path: R activation rows × C weight rows, weights unpacked on the fly ----

// Exact i32 block sums of group b0 (N blocks) for an R × C tile, from i16 dot products.
template <GgmlType T, int R, int C, int N>
inline void direct_group(const uint8_t* w, size_t ws, const uint8_t* act, size_t as, int64_t nb,
                         int64_t b0, v128_t isum[R][C]) {
  for (int c = 0; c < C; ++c) {
    v128_t t[4], u[4];
    load_words<T, N>(w + c * ws, b0, t, u);
    if (T == GgmlType::Q8_0) {
      v128_t wv[16];
      for (int j = 0; j < 4; ++j) unpack_word<T>(t[j], u[j], wv + 4 * j);
      for (int r = 0; r < R; ++r) {
        const uint8_t* xq = act + r * as + b0 * 64;
        v128_t s0 = wasm_i32x4_dot_i16x8(wv[0], wasm_v128_load(xq));
        v128_t s1 = wasm_i32x4_dot_i16x8(wv[1], wasm_v128_load(xq + 16));
        for (int v = 2; v < 16; v += 2) {
          s0 = wasm_i32x4_add(s0, wasm_i32x4_dot_i16x8(wv[v], wasm_v128_load(xq + 16 * v)));
          const v128_t x1 = wasm_v128_load(xq + 16 * v + 16);
          s1 = wasm_i32x4_add(s1, wasm_i32x4_dot_i16x8(wv[v + 1], x1));
        }
        isum[r][c] = wasm_i32x4_add(s0, s1);
      }
    } else {
      // Nibbles B and C are used in place (masked, not shifted down: 256·n and 16·n, at most
      // 3840 and 240 as i16); their dot products are exact multiples of 256 and 16 and are
      // shifted down once per group. Saves 2 of 6 unpacking operations per word.
      v128_t wa[4], wb[4], wc[4], wd[4];
      for (int j = 0; j < 4; ++j) {
        wa[j] = wasm_v128_and(t[j], wasm_i16x8_splat(0x000F));
        wb[j] = wasm_v128_and(t[j], wasm_i16x8_splat(0x0F00));
        wc[j] = wasm_v128_and(t[j], wasm_i16x8_splat(0x00F0));
        wd[j] = wasm_u16x8_shr(t[j], 12);
      }
      for (int r = 0; r < R; ++r) {
        const uint8_t* xq = act + r * as + b0 * 64;
        v128_t sad = wasm_i32x4_splat(0), sb = sad, sc = sad;
        for (int j = 0; j < 4; ++j) {
          const uint8_t* xj = xq + 64 * j;
          const v128_t pa = wasm_i32x4_dot_i16x8(wa[j], wasm_v128_load(xj));
          const v128_t pd = wasm_i32x4_dot_i16x8(wd[j], wasm_v128_load(xj + 48));
          sad = wasm_i32x4_add(sad, wasm_i32x4_add(pa, pd));
          sb = wasm_i32x4_add(sb, wasm_i32x4_dot_i16x8(wb[j], wasm_v128_load(xj + 16)));
          sc = wasm_i32x4_add(sc, wasm_i32x4_dot_i16x8(wc[j], wasm_v128_load(xj + 32)));
        }
        const v128_t bc = wasm_i32x4_add(wasm_i32x4_shr(sb, 8), wasm_i32x4_shr(sc, 4));
        isum[r][c] = wasm_i32x4_add(sad, bc);
      }
    }
  }
}

#if defined(QASR_RELAXED_SIMD)
// ---- relaxed-SIMD direct path for q4_0 (see the header comment) ----

// Low and high nibbles of the 4 transposed words of a group: vector 2j = elements 4j..4j+3,
// vector 2j+1 = elements 16+4j..19+4j of each block (block l in bytes 4l..4l+3).
template <GgmlType T, int N>
inline void nibble_group(const uint8_t* row, int64_t b0, v128_t nv[8]) {
  v128_t t[4], u[4];
  load_words<T, N>(row, b0, t, u);
  const v128_t m4 = wasm_i8x16_splat(0x0F);
  for (int j = 0; j < 4; ++j) {
    nv[2 * j] = wasm_v128_and(t[j], m4);
    nv[2 * j + 1] = wasm_v128_and(wasm_u16x8_shr(t[j], 4), m4);
  }
}

// The same sums from relaxed i8 dot products (8 summed in i16, then widened once).
template <GgmlType T, int R, int C, int N>
inline void rx_direct_group(const uint8_t* w, size_t ws, const uint8_t* act, size_t as, int64_t nb,
                            int64_t b0, v128_t isum[R][C]) {
  for (int c = 0; c < C; ++c) {
    v128_t nv[8];
    nibble_group<T, N>(w + c * ws, b0, nv);
    for (int r = 0; r < R; ++r) {
      const uint8_t* x8 = act + r * as + off_i8(nb) + b0 * 32;
      v128_t s = relaxed_dot_i8_i7(wasm_v128_load(x8), nv[0]);
      for (int v = 1; v < 8; ++v) s = wasm_i16x8_add(s, relaxed_dot_i8_i7(wasm_v128_load(x8 + 16 * v), nv[v]));
      isum[r][c] = wasm_i32x4_extadd_pairwise_i16x8(s);
    }
  }
}

#endif  // QASR_RELAXED_SIMD

// One group of a direct tile: exact block sums from the relaxed dot product (RX, q4_0 in the
// relaxed build) or i16 dots, then the f32 update.
template <GgmlType T, int R, int C, int N, bool RX>
inline void any_direct_group(const uint8_t* w, size_t ws, const uint8_t* act, size_t as, int64_t nb,
                             int64_t b0, v128_t acc[R][C]) {
  v128_t isum[R][C];
#if defined(QASR_RELAXED_SIMD)
  if constexpr (RX) rx_direct_group<T, R, C, N>(w, ws, act, as, nb, b0, isum);
  else
#endif
    direct_group<T, R, C, N>(w, ws, act, as, nb, b0, isum);
  using Tr = QTraits<T>;
  const v128_t z = wasm_i32x4_splat(0);
  for (int c = 0; c < C; ++c) {
    const uint8_t* blk = w + c * ws + b0 * Tr::kBlockBytes;
    const v128_t dw = Tr::kPacked ? load_half4_packed(blk) : load_half4_finite<N>(blk, Tr::kBlockBytes);
    const v128_t mw = Tr::kMin ? load_half4_finite<N>(blk + 2, Tr::kBlockBytes) : z;
    for (int r = 0; r < R; ++r) {
      const uint8_t* ar = act + r * as;
      const v128_t corr = Tr::kCorr ? wasm_v128_load(ar + off_corr(nb) + b0 * 4) : z;
      acc[r][c] = group_update<T>(acc[r][c], isum[r][c], corr, dw, mw, ar, nb, b0);
    }
  }
}

// The C weight rows are ws bytes apart and their outputs ycs floats apart.
template <GgmlType T, int R, int C, bool RX>
__attribute__((noinline)) void direct_tile(const uint8_t* w, size_t ws, const uint8_t* act,
                                           size_t as, int64_t nb,
                 float* y, int64_t ldy, int64_t ycs) {
  v128_t acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = wasm_f32x4_splat(0.0f);
  int64_t b0 = 0;
  for (; b0 + 4 <= nb; b0 += 4) any_direct_group<T, R, C, 4, RX>(w, ws, act, as, nb, b0, acc);
  switch (nb - b0) {
    case 3: any_direct_group<T, R, C, 3, RX>(w, ws, act, as, nb, b0, acc); break;
    case 2: any_direct_group<T, R, C, 2, RX>(w, ws, act, as, nb, b0, acc); break;
    case 1: any_direct_group<T, R, C, 1, RX>(w, ws, act, as, nb, b0, acc); break;
    default: break;
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) y[r * ldy + c * ycs] = hsum_f32x4(acc[r][c]);
}

template <GgmlType T, int R, bool RX>
void direct_rows(const uint8_t* w, size_t ws, int64_t nw, const uint8_t* act, size_t as,
                 int64_t nb, float* y, int64_t ldy) {
  // GEMV (R = 1): one row at a time, 31 GFLOP/s in Chromium vs 28-29 for 2 or 4 segmented rows
  // (since the scales are converted 4 at a time, the wider tiles no longer pay off); relaxed: 41
  // vs 37.
  constexpr int C = R >= 3 ? 1 : (R == 2 ? 2 : 1);
  int64_t j = 0;
  if (C > 1 && nw >= 2 * C) {
    // The C rows of a tile come from C separate segments of the chunk, so the weights are read
    // as C long sequential streams (4 adjacent rows read in lockstep defeat the hardware
    // prefetchers: 2-3x slower from DRAM in the GEMV benchmark).
    const int64_t len = nw / C;
    for (int64_t t = 0; t < len; ++t)
      direct_tile<T, R, C, RX>(w + t * ws, len * ws, act, as, nb, y + t, ldy, len);
    j = len * C;
  }
  for (; j < nw; ++j) direct_tile<T, R, 1, RX>(w + j * ws, ws, act, as, nb, y + j, ldy, 1);
}

template <GgmlType T, bool RX>
void direct_gemm(const uint8_t* w, size_t ws, int64_t nw, const uint8_t* act, size_t as,
                 int64_t na, int64_t nb, float* y, int64_t ldy) {
  int64_t i = 0;
  for (; i + 4 <= na; i += 4) direct_rows<T, 4, RX>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy);
  switch (na - i) {
    case 3: direct_rows<T, 3, RX>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy); break;
    case 2: direct_rows<T, 2, RX>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy); break;
    case 1: direct_rows<T, 1, RX>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy); break;
    default: break;
  }
}

// ---- panel path: weights widened once per call, then R × C tiles of loads/dots/adds ----

// Panel row layout (nbp blocks): the codes, then float dw[nbp] | float mw[nbp] (q4_1).
//   plain (RX false): int16 q[nbp/4][16][8], the q4_0 offset folded in (n - 8): 64 bytes a block
//   relaxed (RX):     u8 nibbles [nbp/4][8][16] in nibble_group's order: 32 bytes a block
template <bool RX>
constexpr int64_t kPanelCodeBytes = RX ? 32 : 64;
template <bool RX>
inline size_t panel_row_bytes(int64_t nb) { return static_cast<size_t>(pad4(nb) * (kPanelCodeBytes<RX> + 8)); }

// The codes of group b0 (N blocks present) of one row, at dst.
template <GgmlType T, int N, bool RX>
inline void widen_group(const uint8_t* row, int64_t b0, uint8_t* dst) {
#if defined(QASR_RELAXED_SIMD)
  if constexpr (RX) {
    v128_t nv[8];
    nibble_group<T, N>(row, b0, nv);
    for (int v = 0; v < 8; ++v) wasm_v128_store(dst + v * 16, nv[v]);
    return;
  }
#endif
  v128_t wv[16];
  unpack_group<T, N>(row, b0, wv);
  for (int v = 0; v < 16; ++v) {
    // Padding blocks must stay 0: their activations are 0 anyway, so n - 8 is harmless there.
    const v128_t q = QTraits<T>::kCorr ? wasm_i16x8_sub(wv[v], wasm_i16x8_splat(8)) : wv[v];
    wasm_v128_store(dst + v * 16, q);
  }
}

template <GgmlType T, bool RX>
void widen_row(const uint8_t* row, int64_t nb, uint8_t* dst) {
  using Tr = QTraits<T>;
  constexpr int64_t kCode = kPanelCodeBytes<RX>;
  const int64_t nbp = pad4(nb);
  float* dw = reinterpret_cast<float*>(dst + nbp * kCode);
  float* mw = dw + nbp;
  for (int64_t b0 = 0; b0 < nb; b0 += 4) {
    uint8_t* g = dst + b0 * kCode;
    switch (std::min<int64_t>(4, nb - b0)) {
      case 4: widen_group<T, 4, RX>(row, b0, g); break;
      case 3: widen_group<T, 3, RX>(row, b0, g); break;
      case 2: widen_group<T, 2, RX>(row, b0, g); break;
      default: widen_group<T, 1, RX>(row, b0, g); break;
    }
    for (int64_t b = b0; b < b0 + 4; ++b) {
      const uint8_t* blk = row + b * Tr::kBlockBytes;
      const uint8_t* dp = Tr::kPacked ? row + (b & ~int64_t{3}) * Tr::kBlockBytes + 2 * (b & 3) : blk;
      dw[b] = b < nb ? half_to_float(load_u16(dp)) : 0.0f;
      mw[b] = (Tr::kMin && b < nb) ? half_to_float(load_u16(blk + 2)) : 0.0f;
    }
  }
}

// Exact i32 block sums of group b0 for an R × C tile: i16 dot products (plain), or relaxed i8 dot
// products summed in i16 and widened once (RX).
template <GgmlType T, int R, int C, bool RX>
__attribute__((always_inline)) inline void panel_group_sums(const uint8_t* pw, size_t ps,
                                                            const uint8_t* act, size_t as,
                                                            int64_t nb, int64_t b0,
                                                            v128_t isum[R][C]) {
  const v128_t z = wasm_i32x4_splat(0);
#if defined(QASR_RELAXED_SIMD)
  if constexpr (RX) {
    v128_t s16[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) s16[r][c] = z;
    for (int v = 0; v < 8; ++v) {
      v128_t wv[C], xv[R];
      for (int c = 0; c < C; ++c) wv[c] = wasm_v128_load(pw + c * ps + b0 * 32 + v * 16);
      for (int r = 0; r < R; ++r) xv[r] = wasm_v128_load(act + r * as + off_i8(nb) + b0 * 32 + v * 16);
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
          s16[r][c] = wasm_i16x8_add(s16[r][c], relaxed_dot_i8_i7(xv[r], wv[c]));
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) isum[r][c] = wasm_i32x4_extadd_pairwise_i16x8(s16[r][c]);
    return;
  }
#endif
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) isum[r][c] = z;
  for (int v = 0; v < 16; ++v) {
    v128_t wv[C], xv[R];
    for (int c = 0; c < C; ++c) wv[c] = wasm_v128_load(pw + c * ps + b0 * 64 + v * 16);
    for (int r = 0; r < R; ++r) xv[r] = wasm_v128_load(act + r * as + b0 * 64 + v * 16);
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c)
        isum[r][c] = wasm_i32x4_add(isum[r][c], wasm_i32x4_dot_i16x8(wv[c], xv[r]));
  }
}

// noinline: V8 allocates registers per function; this hot loop inlined into its callers ran at
// half speed (30 vs 58 GFLOP/s).
template <GgmlType T, int R, int C, bool RX>
__attribute__((noinline)) void panel_tile(const uint8_t* pw, size_t ps, const uint8_t* act,
                                          size_t as, int64_t nb, float* y, int64_t ldy) {
  using Tr = QTraits<T>;
  constexpr int64_t kCode = kPanelCodeBytes<RX>;
  const int64_t nbp = pad4(nb);
  v128_t acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = wasm_f32x4_splat(0.0f);
  const v128_t z = wasm_i32x4_splat(0);
  for (int64_t b0 = 0; b0 < nbp; b0 += 4) {
    v128_t isum[R][C];
    panel_group_sums<T, R, C, RX>(pw, ps, act, as, nb, b0, isum);
    for (int c = 0; c < C; ++c) {
      const v128_t dw = wasm_v128_load(pw + c * ps + nbp * kCode + b0 * 4);
      const v128_t mw = Tr::kMin ? wasm_v128_load(pw + c * ps + nbp * (kCode + 4) + b0 * 4) : z;
      for (int r = 0; r < R; ++r) {
        const uint8_t* ar = act + r * as;
        // Plain panels hold n - 8; relaxed ones the nibbles, so the offset is subtracted here.
        const v128_t corr = RX && Tr::kCorr ? wasm_v128_load(ar + off_corr(nb) + b0 * 4) : z;
        acc[r][c] = group_update<T>(acc[r][c], isum[r][c], corr, dw, mw, ar, nb, b0);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) y[r * ldy + c] = hsum_f32x4(acc[r][c]);
}

template <GgmlType T, int R, bool RX>
void panel_rows(const uint8_t* pw, size_t ps, int64_t nw, const uint8_t* act, size_t as,
                int64_t nb, float* y, int64_t ldy) {
  // Plain: 2 activation rows × 4 weight rows measured fastest in V8 (58 GFLOP/s on one core vs
  // 35 for 2×2, 23 for 4×1, 48 for 2×6): 8 i32x4 sums, 8 f32x4 accumulators, 6 loads per 8 dots.
  // Relaxed: 2 × 2 (73 GFLOP/s in Chromium; 2 × 4 72, 3 × 3 75, 4 × 2 and 3 × 2 less).
  constexpr int C = R == 2 ? (RX ? 2 : 4) : 1;
  int64_t j = 0;
  for (; j + C <= nw; j += C) panel_tile<T, R, C, RX>(pw + j * ps, ps, act, as, nb, y + j, ldy);
  for (; j < nw; ++j) panel_tile<T, R, 1, RX>(pw + j * ps, ps, act, as, nb, y + j, ldy);
}

struct PanelScratch {
  std::vector<uint8_t> buf;
  uint8_t* get(size_t n) {
    if (buf.size() < n + 64) buf.resize(n + 64);
    const uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
    return reinterpret_cast<uint8_t*>((p + 63) & ~static_cast<uintptr_t>(63));
  }
};
thread_local PanelScratch t_panel;

template <GgmlType T, bool RX>
void panel_gemm(const uint8_t* w, size_t ws, int64_t nw, const uint8_t* act, size_t as,
                int64_t na, int64_t nb, float* y, int64_t ldy) {
  const size_t ps = panel_row_bytes<RX>(nb);
  uint8_t* pw = t_panel.get(ps * static_cast<size_t>(nw));
  for (int64_t j = 0; j < nw; ++j) widen_row<T, RX>(w + j * ws, nb, pw + j * ps);
  int64_t i = 0;
  for (; i + 2 <= na; i += 2) panel_rows<T, 2, RX>(pw, ps, nw, act + i * as, as, nb, y + i * ldy, ldy);
  if (i < na) panel_rows<T, 1, RX>(pw, ps, nw, act + i * as, as, nb, y + i * ldy, ldy);
}

template <GgmlType T>
void q_gemm_t(const uint8_t* w, size_t ws, int64_t nw, const uint8_t* act, size_t as, int64_t na,
              int64_t nb, float* y, int64_t ldy) {
#if defined(QASR_RELAXED_SIMD)
  // q4_0 only: q8_0 codes use the msb (outside the relaxed dot's exact range), and no model we
  // ship or test has q4_1 weights (those keep the plain path).
  if (QTraits<T>::kCorr) {
    if (na >= 8) {
      panel_gemm<T, true>(w, ws, nw, act, as, na, nb, y, ldy);
    } else {
      direct_gemm<T, true>(w, ws, nw, act, as, na, nb, y, ldy);
    }
    return;
  }
#endif
  if (na >= 8) {
    panel_gemm<T, false>(w, ws, nw, act, as, na, nb, y, ldy);
  } else {
    direct_gemm<T, false>(w, ws, nw, act, as, na, nb, y, ldy);
  }
}

// ---- f32 ----

template <int R, int C>
void f32_tile(const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t k, float* y,
              int64_t ldy) {
  v128_t acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = wasm_f32x4_splat(0.0f);
  int64_t kk = 0;
  for (; kk + 4 <= k; kk += 4) {
    v128_t wv[C];
    for (int c = 0; c < C; ++c) wv[c] = wasm_v128_load(w + c * ldw + kk);
    for (int r = 0; r < R; ++r) {
      const v128_t xv = wasm_v128_load(x + r * ldx + kk);
      for (int c = 0; c < C; ++c) acc[r][c] = wasm_f32x4_add(acc[r][c], wasm_f32x4_mul(xv, wv[c]));
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float tail = 0.0f;
      for (int64_t t = kk; t < k; ++t) tail += x[r * ldx + t] * w[c * ldw + t];
      y[r * ldy + c] = hsum_f32x4(acc[r][c]) + tail;
    }
}

template <int R>
void f32_rows(const float* w, int64_t ldw, int64_t nw, const float* x, int64_t ldx, int64_t k,
              float* y, int64_t ldy) {
  constexpr int C = R >= 3 ? 2 : 4;
  int64_t j = 0;
  for (; j + C <= nw; j += C) f32_tile<R, C>(w + j * ldw, ldw, x, ldx, k, y + j, ldy);
  for (; j < nw; ++j) f32_tile<R, 1>(w + j * ldw, ldw, x, ldx, k, y + j, ldy);
}

// ---- elementwise: exp_f32, erfc_nonneg_f32 and gelu_erf_f32 of kernels_internal.h, 4 lanes ----

inline v128_t exp_f32x4(v128_t x) {
  const v128_t below = wasm_f32x4_lt(x, wasm_f32x4_splat(kExpLo));
  x = wasm_f32x4_pmin(x, wasm_f32x4_splat(kExpHi));  // kExpHi < x ? kExpHi : x (NaN stays)
  const v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(kLog2e)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(kLn2Hi)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(kLn2Lo)));
  v128_t p = wasm_f32x4_splat(kExpPoly[0]);
  for (int i = 1; i < 6; ++i) p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(kExpPoly[i]));
  const v128_t y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r), wasm_f32x4_splat(1.0f));
  const v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(y, scale), below);
}

inline v128_t gelu_erf_f32x4(v128_t v) {
  const v128_t one = wasm_f32x4_splat(1.0f), half = wasm_f32x4_splat(0.5f);
  const v128_t z = wasm_f32x4_mul(wasm_f32x4_abs(v), wasm_f32x4_splat(kInvSqrt2));
  const v128_t t = wasm_f32x4_div(one, wasm_f32x4_add(one, wasm_f32x4_mul(half, z)));
  v128_t p = wasm_f32x4_splat(kErfcPoly[0]);
  for (int i = 1; i < 10; ++i) p = wasm_f32x4_add(wasm_f32x4_splat(kErfcPoly[i]), wasm_f32x4_mul(t, p));
  const v128_t e = wasm_f32x4_mul(t, exp_f32x4(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_neg(z), z), p)));
  const v128_t hv = wasm_f32x4_mul(half, v);
  const v128_t pos = wasm_f32x4_mul(hv, wasm_f32x4_sub(wasm_f32x4_splat(2.0f), e));
  return wasm_v128_bitselect(pos, wasm_f32x4_mul(hv, e), wasm_f32x4_ge(v, wasm_f32x4_splat(0.0f)));
}

}  // namespace

bool reads_q4_0_x4() { return true; }

#if defined(QASR_RELAXED_SIMD)
const char* name() { return "wasm-simd128-relaxed"; }
#else
const char* name() { return "wasm-simd128"; }
#endif

size_t act_row_bytes(int64_t k) {
  const int64_t nb = k / kQuantBlock;
  return (static_cast<size_t>(pad4(nb) * kActBytesPerBlock) + 63) & ~static_cast<size_t>(63);
}

void prepare_act_row(const float* x, int64_t k, uint8_t* dst) {
  const int64_t nb = k / kQuantBlock, nbp = pad4(nb);
  int16_t* q = reinterpret_cast<int16_t*>(dst);
  int32_t* corr = reinterpret_cast<int32_t*>(dst + off_corr(nb));
  float* d = reinterpret_cast<float*>(dst + off_d(nb));
  float* s = reinterpret_cast<float*>(dst + off_s(nb));
  for (int64_t b = 0; b < nbp; ++b) {
    int16_t* grp = q + (b >> 2) * 128;
    const int l = static_cast<int>(b & 3);
    if (b >= nb) {
      for (int e = 0; e < 32; ++e) grp[interleaved_pos(l, e)] = 0;
      corr[b] = 0;
      d[b] = 0.0f;
      s[b] = 0.0f;
#if defined(QASR_RELAXED_SIMD)
      for (int v = 0; v < 8; ++v) std::memset(dst + off_i8(nb) + (b >> 2) * 128 + 16 * v + 4 * l, 0, 4);
#endif
      continue;
    }
    v128_t n[4];
    const float dx = half_to_float(quant_block(x + b * kQuantBlock, n));
    // Scatter into the interleaved group layout: word j of the block (elements 4j..4j+3 and
    // 16+4j..19+4j) goes to lanes 2l, 2l+1 of the group's vectors 4j..4j+3, as the pairs
    //   A = (4j, 4j+2)   B = (4j+1, 4j+3)   C = (16+4j, 18+4j)   D = (17+4j, 19+4j),
    // i.e. 32-bit lane j of the even / odd elements of each half, at bytes 64j + 16·kind + 4l.
    uint8_t* g = dst + (b >> 2) * 256 + 4 * l;
    const v128_t pa = wasm_i16x8_shuffle(n[0], n[1], 0, 2, 4, 6, 8, 10, 12, 14);
    const v128_t pb = wasm_i16x8_shuffle(n[0], n[1], 1, 3, 5, 7, 9, 11, 13, 15);
    const v128_t pc = wasm_i16x8_shuffle(n[2], n[3], 0, 2, 4, 6, 8, 10, 12, 14);
    const v128_t pd = wasm_i16x8_shuffle(n[2], n[3], 1, 3, 5, 7, 9, 11, 13, 15);
#define QASR_SCATTER_WORD(j)                        \
  wasm_v128_store32_lane(g + 64 * (j), pa, j);      \
  wasm_v128_store32_lane(g + 64 * (j) + 16, pb, j); \
  wasm_v128_store32_lane(g + 64 * (j) + 32, pc, j); \
  wasm_v128_store32_lane(g + 64 * (j) + 48, pd, j);
    QASR_SCATTER_WORD(0) QASR_SCATTER_WORD(1) QASR_SCATTER_WORD(2) QASR_SCATTER_WORD(3)
#undef QASR_SCATTER_WORD
#if defined(QASR_RELAXED_SIMD)
    // The same values as i8 in nibble_group's order: vector 2j holds elements 4j..4j+3 and
    // vector 2j+1 elements 16+4j..19+4j, block l in bytes 4l..4l+3.
    uint8_t* g8 = dst + off_i8(nb) + (b >> 2) * 128 + 4 * l;
    const v128_t lo8 = wasm_i8x16_narrow_i16x8(n[0], n[1]), hi8 = wasm_i8x16_narrow_i16x8(n[2], n[3]);
#define QASR_SCATTER_I8(j)                        \
  wasm_v128_store32_lane(g8 + 32 * (j), lo8, j); \
  wasm_v128_store32_lane(g8 + 32 * (j) + 16, hi8, j);
    QASR_SCATTER_I8(0) QASR_SCATTER_I8(1) QASR_SCATTER_I8(2) QASR_SCATTER_I8(3)
#undef QASR_SCATTER_I8
#endif
    // |q| <= 127, so the i16 sum of four stays small.
    const v128_t sum16 = wasm_i16x8_add(wasm_i16x8_add(n[0], n[1]), wasm_i16x8_add(n[2], n[3]));
    const v128_t sum32 = wasm_i32x4_extadd_pairwise_i16x8(sum16);
    const int total = wasm_i32x4_extract_lane(sum32, 0) + wasm_i32x4_extract_lane(sum32, 1) +
                      wasm_i32x4_extract_lane(sum32, 2) + wasm_i32x4_extract_lane(sum32, 3);
    corr[b] = 8 * total;
    d[b] = dx;
    s[b] = dx * static_cast<float>(total);
  }
}

void q8_gemm(GgmlType t, const uint8_t* w, size_t w_stride, int64_t nw, const uint8_t* act,
             size_t a_stride, int64_t na, int64_t k, float* y, int64_t ldy) {
  const int64_t nb = k / kQuantBlock;
  switch (t) {
    case GgmlType::Q4_0:
      q_gemm_t<GgmlType::Q4_0>(w, w_stride, nw, act, a_stride, na, nb, y, ldy);
      break;
    case GgmlType::Q4_0_X4:
      q_gemm_t<GgmlType::Q4_0_X4>(w, w_stride, nw, act, a_stride, na, nb, y, ldy);
      break;
    case GgmlType::Q4_1:
      q_gemm_t<GgmlType::Q4_1>(w, w_stride, nw, act, a_stride, na, nb, y, ldy);
      break;
    case GgmlType::Q8_0:
      q_gemm_t<GgmlType::Q8_0>(w, w_stride, nw, act, a_stride, na, nb, y, ldy);
      break;
    default: break;
  }
}

void f32_gemm(const float* w, int64_t ldw, int64_t nw, const float* x, int64_t ldx, int64_t na,
              int64_t k, float* y, int64_t ldy) {
  int64_t i = 0;
  for (; i + 4 <= na; i += 4) f32_rows<4>(w, ldw, nw, x + i * ldx, ldx, k, y + i * ldy, ldy);
  switch (na - i) {
    case 3: f32_rows<3>(w, ldw, nw, x + i * ldx, ldx, k, y + i * ldy, ldy); break;
    case 2: f32_rows<2>(w, ldw, nw, x + i * ldx, ldx, k, y + i * ldy, ldy); break;
    case 1: f32_rows<1>(w, ldw, nw, x + i * ldx, ldx, k, y + i * ldy, ldy); break;
    default: break;
  }
}

void to_f32_row(GgmlType t, const void* src, float* dst, int64_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(src);
  if (t == GgmlType::F16) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const v128_t h = wasm_v128_load(p + 2 * i);
      wasm_v128_store(dst + i, half_bits_to_f32(wasm_u32x4_extend_low_u16x8(h)));
      wasm_v128_store(dst + i + 4, half_bits_to_f32(wasm_u32x4_extend_high_u16x8(h)));
    }
    for (; i < n; ++i) dst[i] = half_to_float(load_u16(p + 2 * i));
    return;
  }
  if (t == GgmlType::BF16) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const v128_t h = wasm_v128_load(p + 2 * i);
      wasm_v128_store(dst + i, wasm_i32x4_shl(wasm_u32x4_extend_low_u16x8(h), 16));
      wasm_v128_store(dst + i + 4, wasm_i32x4_shl(wasm_u32x4_extend_high_u16x8(h), 16));
    }
    for (; i < n; ++i) dst[i] = bf16_to_float(load_u16(p + 2 * i));
    return;
  }
  dequant_row_scalar(t, src, dst, n);
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    v128_t q[4];
    y[b].d = quant_block(x + b * kQuantBlock, q);
    wasm_v128_store(y[b].qs, wasm_i8x16_narrow_i16x8(q[0], q[1]));
    wasm_v128_store(y[b].qs + 16, wasm_i8x16_narrow_i16x8(q[2], q[3]));
  }
}

float dot_f32(const float* a, const float* b, int64_t n) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return hsum_f32x4(wasm_f32x4_add(s0, s1)) + tail;
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
  const v128_t va = wasm_f32x4_splat(a);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t ax = wasm_f32x4_mul(va, wasm_v128_load(x + i));
    wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), ax));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

void gelu_erf(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(x + i, gelu_erf_f32x4(wasm_v128_load(x + i)));
  for (; i < n; ++i) x[i] = gelu_erf_f32(x[i]);
}

void silu_mul(const float* g, const float* u, float* out, int64_t n) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t gv = wasm_v128_load(g + i);
    const v128_t s = wasm_f32x4_div(gv, wasm_f32x4_add(one, exp_f32x4(wasm_f32x4_neg(gv))));
    wasm_v128_store(out + i, wasm_f32x4_mul(s, wasm_v128_load(u + i)));
  }
  for (; i < n; ++i) out[i] = silu_mul_f32(g[i], u[i]);
}

void exp_shifted(float* x, int64_t n, float shift) {
  const v128_t sh = wasm_f32x4_splat(shift);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(x + i, exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + i), sh)));
  for (; i < n; ++i) x[i] = exp_f32(x[i] - shift);
}

}  // namespace fam
}  // namespace kint
}  // namespace qasr
#endif  // __wasm_simd128__
