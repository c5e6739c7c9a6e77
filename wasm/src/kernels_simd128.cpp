// WebAssembly SIMD128 kernel family (compiled only with -msimd128, i.e. __wasm_simd128__).
// Implements kint::fam (kernels_internal.h). Scalar references for every kernel here are in
// kernels_scalar.cpp: prepare_act_row / quantize_row_q8_0 <-> quantize_row_q8_0_ref (bit-exact),
// q8_gemm <-> matmul_ref's integer path (same integers; f32 accumulation order differs),
// f32_gemm / dot_f32 <-> dot_f32_ref, axpy_f32 (bit-exact), to_f32_row <-> dequant_row_scalar.
//
// Integer path. No i8 dot product exists in SIMD128 (no relaxed SIMD in clang 14), so operands
// are widened to i16 and multiplied with i32x4.dot_i16x8_s (8 MACs per instruction). To make the
// weight unpacking cheap, each prepared activation block keeps its 32 q8 values as i16 in the
// order the weights unpack most cheaply when their bytes are read as u16 lanes:
//   v0 = elements 0,2,..,14   v1 = 1,3,..,15   v2 = 16,18,..,30   v3 = 17,19,..,31
// q4 nibbles then come out with one shift and/or one mask per vector, and q8_0 weights with an
// arithmetic shift pair. The q4_0 "-8" offset is applied once per block pair as an i32x4
// correction precomputed with the activations (8 · pairwise sums of the q values).
// Per block and output, the i32x4 partial sums are converted to f32, scaled by d_w·d_x and added
// to an f32x4 accumulator; the 4 lanes are summed at the end ((l0+l2)+(l1+l3)).
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "kernels_internal.h"

namespace qasr {
namespace kint {
namespace fam {

namespace {

// Prepared activation row layout (nb = k/32 blocks, nbp = nb rounded up to a multiple of 4;
// the per-block arrays are zero-padded to nbp so groups of 4 blocks load whole vectors):
//   int16 q[nb][32]   (permuted as above)           at 0
//   int32 corr[nbp]   (8 · Σq: the q4_0 offset)      at nb*64
//   float d[nbp]                                    at nb*64 + nbp*4
//   float s[nbp]      (d · Σq: the q4_1 min term)    at nb*64 + nbp*8
inline int64_t pad4(int64_t nb) { return (nb + 3) & ~int64_t{3}; }
inline size_t off_corr(int64_t nb) { return static_cast<size_t>(nb) * 64; }
inline size_t off_d(int64_t nb) { return static_cast<size_t>(nb * 64 + pad4(nb) * 4); }
inline size_t off_s(int64_t nb) { return static_cast<size_t>(nb * 64 + pad4(nb) * 8); }

// u32 lanes holding IEEE halves in their low 16 bits -> f32x4, exactly as half_to_float.
inline v128_t half_bits_to_f32(v128_t h) {
  const v128_t em = wasm_v128_and(h, wasm_i32x4_splat(0x7fff));
  const v128_t sh = wasm_i32x4_shl(em, 13);
  const v128_t normal = wasm_f32x4_mul(sh, wasm_i32x4_splat(0x77800000));
  const v128_t special = wasm_v128_or(sh, wasm_i32x4_splat(0x7f800000));
  const v128_t f = wasm_v128_bitselect(special, normal, wasm_i32x4_ge(em, wasm_i32x4_splat(0x7c00)));
  return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

// The fp16 values at p, p + stride, p + 2·stride, p + 3·stride (the first n; other lanes 0).
template <int N>
inline v128_t load_half4(const uint8_t* p, size_t stride) {
  v128_t h = wasm_i32x4_splat(0);
  h = wasm_v128_load16_lane(p, h, 0);
  if (N > 1) h = wasm_v128_load16_lane(p + stride, h, 2);
  if (N > 2) h = wasm_v128_load16_lane(p + 2 * stride, h, 4);
  if (N > 3) h = wasm_v128_load16_lane(p + 3 * stride, h, 6);
  return half_bits_to_f32(h);
}

// Horizontal reduction of four i32x4 block sums into one vector [Σs0, Σs1, Σs2, Σs3], in two
// steps so only one partial vector per output is live between block pairs.
inline v128_t pair_reduce(v128_t s0, v128_t s1) {
  return wasm_i32x4_add(wasm_i32x4_shuffle(s0, s1, 0, 4, 1, 5), wasm_i32x4_shuffle(s0, s1, 2, 6, 3, 7));
}
inline v128_t final_reduce(v128_t a, v128_t b) {
  return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5), wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
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

// ---- weight unpacking into the permuted i16 order ----

// q4 (q4_0 and q4_1): 16 bytes of nibbles -> four u16x8 in 0..15.
inline void unpack_q4(const uint8_t* qs, v128_t w[4]) {
  const v128_t raw = wasm_v128_load(qs);
  const v128_t m4 = wasm_i16x8_splat(0x000F);
  w[0] = wasm_v128_and(raw, m4);
  w[1] = wasm_v128_and(wasm_u16x8_shr(raw, 8), m4);
  w[2] = wasm_v128_and(wasm_u16x8_shr(raw, 4), m4);
  w[3] = wasm_u16x8_shr(raw, 12);
}

// q8_0: 32 signed bytes -> four i16x8.
inline void unpack_q8(const uint8_t* qs, v128_t w[4]) {
  const v128_t a = wasm_v128_load(qs);
  const v128_t b = wasm_v128_load(qs + 16);
  w[0] = wasm_i16x8_shr(wasm_i16x8_shl(a, 8), 8);
  w[1] = wasm_i16x8_shr(a, 8);
  w[2] = wasm_i16x8_shr(wasm_i16x8_shl(b, 8), 8);
  w[3] = wasm_i16x8_shr(b, 8);
}

template <GgmlType T>
struct QTraits;
template <>
struct QTraits<GgmlType::Q4_0> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_0);
  static constexpr bool kCorr = true, kMin = false;
};
template <>
struct QTraits<GgmlType::Q4_1> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_1);
  static constexpr bool kCorr = false, kMin = true;
};
template <>
struct QTraits<GgmlType::Q8_0> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ8_0);
  static constexpr bool kCorr = false, kMin = false;
};

// Unpacks block b of C weight rows into the permuted i16 order.
template <GgmlType T, int C>
inline void unpack_blocks(const uint8_t* w, size_t ws, int64_t b, v128_t wv[C][4]) {
  for (int c = 0; c < C; ++c) {
    const uint8_t* blk = w + c * ws + b * QTraits<T>::kBlockBytes;
    if (T == GgmlType::Q4_0) {
      unpack_q4(blk + 2, wv[c]);
    } else if (T == GgmlType::Q4_1) {
      unpack_q4(blk + 4, wv[c]);
    } else {
      unpack_q8(blk + 2, wv[c]);
    }
  }
}

// Integer sums (i32x4 partials) of block b for R activation rows × C weight rows.
template <GgmlType T, int R, int C>
inline void block_sums(const uint8_t* w, size_t ws, const uint8_t* act, size_t as, int64_t b,
                       v128_t out[R][C]) {
  v128_t wv[C][4];
  unpack_blocks<T, C>(w, ws, b, wv);
  for (int r = 0; r < R; ++r) {
    const uint8_t* q = act + r * as + b * 64;
    const v128_t x0 = wasm_v128_load(q);
    const v128_t x1 = wasm_v128_load(q + 16);
    const v128_t x2 = wasm_v128_load(q + 32);
    const v128_t x3 = wasm_v128_load(q + 48);
    for (int c = 0; c < C; ++c)
      out[r][c] = wasm_i32x4_add(
          wasm_i32x4_add(wasm_i32x4_dot_i16x8(wv[c][0], x0), wasm_i32x4_dot_i16x8(wv[c][1], x1)),
          wasm_i32x4_add(wasm_i32x4_dot_i16x8(wv[c][2], x2), wasm_i32x4_dot_i16x8(wv[c][3], x3)));
  }
}

// One group of N (1..4) blocks starting at b0: exact integer block sums, reduced to one i32x4
// (lane k = block b0 + k), q4_0 offset subtracted in integers, then scaled by d_w·d_x per lane
// and added to the f32x4 accumulators (q4_1 adds m_w · d_x·Σq_x per lane too).
template <GgmlType T, int R, int C, int N>
inline void q_group(const uint8_t* w, size_t ws, const uint8_t* act, size_t as, int64_t nb,
                    int64_t b0, v128_t acc[R][C]) {
  using Tr = QTraits<T>;
  const v128_t zero = wasm_i32x4_splat(0);
  v128_t s0[R][C], s1[R][C], half[R][C];
  block_sums<T, R, C>(w, ws, act, as, b0, s0);
  if (N > 1) {
    block_sums<T, R, C>(w, ws, act, as, b0 + 1, s1);
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) half[r][c] = pair_reduce(s0[r][c], N > 1 ? s1[r][c] : zero);
  if (N > 2) block_sums<T, R, C>(w, ws, act, as, b0 + 2, s0);
  if (N > 3) block_sums<T, R, C>(w, ws, act, as, b0 + 3, s1);
  v128_t dw[C], mw[C];
  for (int c = 0; c < C; ++c) {
    const uint8_t* blk = w + c * ws + b0 * Tr::kBlockBytes;
    dw[c] = load_half4<N>(blk, Tr::kBlockBytes);
    if (Tr::kMin) mw[c] = load_half4<N>(blk + 2, Tr::kBlockBytes);
  }
  for (int r = 0; r < R; ++r) {
    const uint8_t* ar = act + r * as;
    const v128_t dx = wasm_v128_load(ar + off_d(nb) + b0 * 4);
    const v128_t corr = Tr::kCorr ? wasm_v128_load(ar + off_corr(nb) + b0 * 4) : zero;
    const v128_t sx = Tr::kMin ? wasm_v128_load(ar + off_s(nb) + b0 * 4) : zero;
    for (int c = 0; c < C; ++c) {
      v128_t sum = final_reduce(half[r][c], pair_reduce(N > 2 ? s0[r][c] : zero,
                                                        N > 3 ? s1[r][c] : zero));
      if (Tr::kCorr) sum = wasm_i32x4_sub(sum, corr);
      acc[r][c] = wasm_f32x4_add(
          acc[r][c], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), wasm_f32x4_mul(dw[c], dx)));
      if (Tr::kMin) acc[r][c] = wasm_f32x4_add(acc[r][c], wasm_f32x4_mul(mw[c], sx));
    }
  }
}

// R activation rows × C weight rows over all nb blocks. Per output the f32 order is fixed:
// lane k accumulates blocks 4g + k in order of g; lanes are summed (l0+l2)+(l1+l3) at the end.
// The C weight rows are ws bytes apart and their outputs ycs floats apart.
template <GgmlType T, int R, int C>
void q_tile(const uint8_t* w, size_t ws, const uint8_t* act, size_t as, int64_t nb, float* y,
            int64_t ldy, int64_t ycs) {
  v128_t acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = wasm_f32x4_splat(0.0f);
  int64_t b0 = 0;
  for (; b0 + 4 <= nb; b0 += 4) q_group<T, R, C, 4>(w, ws, act, as, nb, b0, acc);
  switch (nb - b0) {
    case 3: q_group<T, R, C, 3>(w, ws, act, as, nb, b0, acc); break;
    case 2: q_group<T, R, C, 2>(w, ws, act, as, nb, b0, acc); break;
    case 1: q_group<T, R, C, 1>(w, ws, act, as, nb, b0, acc); break;
    default: break;
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) y[r * ldy + c * ycs] = hsum_f32x4(acc[r][c]);
}

template <GgmlType T, int R>
void q_rows(const uint8_t* w, size_t ws, int64_t nw, const uint8_t* act, size_t as, int64_t nb,
            float* y, int64_t ldy) {
  // Weight rows per tile: registers hold C unpacked weight blocks (4 vectors each) and R·C
  // partial sums; with 3-4 activation rows there is room for one weight row.
  constexpr int C = R >= 3 ? QASR_C4 : QASR_C1;
  int64_t j = 0;
  if (C > 1 && nw >= 2 * C) {
    // The C rows of a tile come from C separate segments of the chunk, so the weights are read
    // as C long sequential streams (4 adjacent rows read in lockstep defeat the hardware
    // prefetchers: 2-3x slower from DRAM in the GEMV benchmark).
    const int64_t len = nw / C;
    for (int64_t t = 0; t < len; ++t)
      q_tile<T, R, C>(w + t * ws, len * ws, act, as, nb, y + t, ldy, len);
    j = len * C;
  }
  for (; j < nw; ++j) q_tile<T, R, 1>(w + j * ws, ws, act, as, nb, y + j, ldy, 1);
}

template <GgmlType T>
void q_gemm_t(const uint8_t* w, size_t ws, int64_t nw, const uint8_t* act, size_t as, int64_t na,
              int64_t nb, float* y, int64_t ldy) {
  int64_t i = 0;
  for (; i + QASR_R <= na; i += QASR_R) q_rows<T, QASR_R>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy);
  switch (na - i) {
    case 3: q_rows<T, 3>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy); break;
    case 2: q_rows<T, 2>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy); break;
    case 1: q_rows<T, 1>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy); break;
    default: break;
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

}  // namespace

const char* name() { return "wasm-simd128"; }

size_t act_row_bytes(int64_t k) {
  const int64_t nb = k / kQuantBlock;
  return (static_cast<size_t>(nb * 64 + pad4(nb) * 12) + 63) & ~static_cast<size_t>(63);
}

void prepare_act_row(const float* x, int64_t k, uint8_t* dst) {
  const int64_t nb = k / kQuantBlock;
  int32_t* corr = reinterpret_cast<int32_t*>(dst + off_corr(nb));
  float* d = reinterpret_cast<float*>(dst + off_d(nb));
  float* s = reinterpret_cast<float*>(dst + off_s(nb));
  for (int64_t b = 0; b < nb; ++b) {
    v128_t n[4];
    const float dx = half_to_float(quant_block(x + b * kQuantBlock, n));
    uint8_t* q = dst + b * 64;
    const v128_t v0 = wasm_i16x8_shuffle(n[0], n[1], 0, 2, 4, 6, 8, 10, 12, 14);
    const v128_t v1 = wasm_i16x8_shuffle(n[0], n[1], 1, 3, 5, 7, 9, 11, 13, 15);
    const v128_t v2 = wasm_i16x8_shuffle(n[2], n[3], 0, 2, 4, 6, 8, 10, 12, 14);
    const v128_t v3 = wasm_i16x8_shuffle(n[2], n[3], 1, 3, 5, 7, 9, 11, 13, 15);
    wasm_v128_store(q, v0);
    wasm_v128_store(q + 16, v1);
    wasm_v128_store(q + 32, v2);
    wasm_v128_store(q + 48, v3);
    // |q| <= 127, so the i16 sum of four stays small.
    const v128_t sum16 = wasm_i16x8_add(wasm_i16x8_add(v0, v1), wasm_i16x8_add(v2, v3));
    const v128_t sum32 = wasm_i32x4_extadd_pairwise_i16x8(sum16);
    const int total = wasm_i32x4_extract_lane(sum32, 0) + wasm_i32x4_extract_lane(sum32, 1) +
                      wasm_i32x4_extract_lane(sum32, 2) + wasm_i32x4_extract_lane(sum32, 3);
    corr[b] = 8 * total;
    d[b] = dx;
    s[b] = dx * static_cast<float>(total);
  }
  for (int64_t b = nb; b < pad4(nb); ++b) {
    corr[b] = 0;
    d[b] = 0.0f;
    s[b] = 0.0f;
  }
}

void q8_gemm(GgmlType t, const uint8_t* w, size_t w_stride, int64_t nw, const uint8_t* act,
             size_t a_stride, int64_t na, int64_t k, float* y, int64_t ldy) {
  const int64_t nb = k / kQuantBlock;
  switch (t) {
    case GgmlType::Q4_0:
      q_gemm_t<GgmlType::Q4_0>(w, w_stride, nw, act, a_stride, na, nb, y, ldy);
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
  for (; i + 4 <= n; i += 4)
    wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_f32x4_mul(va, wasm_v128_load(x + i))));
  for (; i < n; ++i) y[i] += a * x[i];
}

}  // namespace fam
}  // namespace kint
}  // namespace qasr
#endif  // __wasm_simd128__
