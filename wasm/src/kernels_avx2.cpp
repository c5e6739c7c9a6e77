// AVX2 kernel family for native builds (compiled only with __AVX2__).
// Implements kint::fam (kernels_internal.h); it exists to compare the WASM kernels against
// native speed, and it computes bit for bit what the SIMD128 family computes, so the native and
// WASM builds give identical logits and tokens (test_engine_tokens.cpp). Scalar references are
// in kernels_scalar.cpp: prepare_act_row / quantize_row_q8_0 <-> quantize_row_q8_0_ref
// (bit-exact), q8_gemm <-> matmul_ref's integer path (same integers; f32 accumulation order
// differs), f32_gemm / dot_f32 <-> dot_f32_ref, axpy_f32, to_f32_row <-> dequant_row_scalar.
//
// Integer path, same structure as the SIMD128 family: blocks in groups of 4, interleaved by
// 32-bit word. A 256-bit vector j of a group holds, for each of the 4 blocks, elements 4j..4j+3
// (low 128 bits, block l in word l) and 16+4j..19+4j (high 128 bits, block l in word 4+l). Then
// _mm256_maddubs_epi16 (u8 × i8 pairs) + _mm256_madd_epi16 (·1) put block l's partial sums in
// i32 lanes l and 4+l only, so vector adds give exact per-block sums with no horizontal work.
// q4 weights are used as unsigned nibbles (the q4_0 "-8" is subtracted as 8·Σq_x per block, in
// integers); q8_0 weights go through the sign trick |w| · sign(x, w). No overflow: a u8 × i8 pair
// sum is at most 2 · 128 · 127 = 32512.
// Floating point follows the SIMD128 family operation for operation (integers may be summed in
// any order, floats may not): per group the two halves' i32 sums are added into lane l = block
// 4g+l, converted, multiplied by d_w·d_x and added to a 4-lane accumulator (multiply, then add:
// no FMA; the build passes -ffp-contract=off); lanes are summed (l0+l2)+(l1+l3). The f32 GEMM
// and dot product use the same 4-lane order, two rows or two half-sums per 256-bit register.
#if defined(__AVX2__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels.h"
#include "kernels_internal.h"

namespace qasr {
namespace kint {
namespace fam {

namespace {

// Prepared activation row layout (nbp = nb rounded up to 4, padding blocks zero):
//   int8 q[nbp/4][4][32] (interleaved groups) | int32 corr[nbp] (8·Σq) | float d[nbp]
//   | float s[nbp] (d·Σq)
inline int64_t pad4(int64_t nb) { return (nb + 3) & ~int64_t{3}; }
inline size_t off_corr(int64_t nb) { return static_cast<size_t>(pad4(nb) * 32); }
inline size_t off_d(int64_t nb) { return static_cast<size_t>(pad4(nb) * 36); }
inline size_t off_s(int64_t nb) { return static_cast<size_t>(pad4(nb) * 40); }

// (l0 + l2) + (l1 + l3): the SIMD128 family's hsum_f32x4, so both families round alike.
inline float hsum4(__m128 v) {
  const __m128 t = _mm_add_ps(v, _mm_movehl_ps(v, v));
  return _mm_cvtss_f32(t) + _mm_cvtss_f32(_mm_shuffle_ps(t, t, 1));
}

inline float hmax_ps(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Quantises 32 floats like quantize_row_q8_0_ref: 32 i8 in natural order, returns fp16 d.
inline uint16_t quant_block(const float* x, __m256i* q) {
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm256_loadu_ps(x + 8 * i);
    amax = _mm256_max_ps(amax, _mm256_and_ps(v[i], absmask));
  }
  const float d = hmax_ps(amax) / 127.0f;
  const uint16_t dh = float_to_half(d);
  const float id = dh != 0 ? 1.0f / d : 0.0f;
  const __m256 vid = _mm256_set1_ps(id);
  __m256i i32[4];
  for (int i = 0; i < 4; ++i)
    i32[i] = _mm256_cvtps_epi32(
        _mm256_round_ps(_mm256_mul_ps(v[i], vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  // packs work per 128-bit lane: fix the order with a final dword permute.
  const __m256i p01 = _mm256_packs_epi32(i32[0], i32[1]);
  const __m256i p23 = _mm256_packs_epi32(i32[2], i32[3]);
  const __m256i p = _mm256_packs_epi16(p01, p23);
  *q = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  return dh;
}

// 4 IEEE halves at p, p + stride, ... (first N; others 0) -> f32x4, exactly as half_to_float.
template <int N>
inline __m128 load_half4(const uint8_t* p, size_t stride) {
  const __m128i h = _mm_setr_epi32(load_u16(p), N > 1 ? load_u16(p + stride) : 0,
                                   N > 2 ? load_u16(p + 2 * stride) : 0,
                                   N > 3 ? load_u16(p + 3 * stride) : 0);
  const __m128i em = _mm_and_si128(h, _mm_set1_epi32(0x7fff));
  const __m128i sh = _mm_slli_epi32(em, 13);
  const __m128 magic = _mm_castsi128_ps(_mm_set1_epi32(0x77800000));
  const __m128 normal = _mm_mul_ps(_mm_castsi128_ps(sh), magic);
  const __m128 special = _mm_castsi128_ps(_mm_or_si128(sh, _mm_set1_epi32(0x7f800000)));
  const __m128 is_special = _mm_castsi128_ps(_mm_cmpgt_epi32(em, _mm_set1_epi32(0x7bff)));
  const __m128 f = _mm_blendv_ps(normal, special, is_special);
  const __m128i sign = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16);
  return _mm_or_ps(f, _mm_castsi128_ps(sign));
}


template <GgmlType T>
struct QTraits;
template <>
struct QTraits<GgmlType::Q4_0> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_0), kQsOffset = 2;
  static constexpr bool kCorr = true, kMin = false, kSigned = false;
};
template <>
struct QTraits<GgmlType::Q4_1> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_1), kQsOffset = 4;
  static constexpr bool kCorr = false, kMin = true, kSigned = false;
};
template <>
struct QTraits<GgmlType::Q8_0> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ8_0), kQsOffset = 2;
  static constexpr bool kCorr = false, kMin = false, kSigned = true;
};

// 4×4 transpose of 32-bit words: t[j] = word j of r0..r3.
inline void transpose4(__m128i r0, __m128i r1, __m128i r2, __m128i r3, __m128i t[4]) {
  const __m128i a = _mm_unpacklo_epi32(r0, r1), b = _mm_unpacklo_epi32(r2, r3);
  const __m128i c = _mm_unpackhi_epi32(r0, r1), d = _mm_unpackhi_epi32(r2, r3);
  t[0] = _mm_unpacklo_epi64(a, b);
  t[1] = _mm_unpackhi_epi64(a, b);
  t[2] = _mm_unpacklo_epi64(c, d);
  t[3] = _mm_unpackhi_epi64(c, d);
}

// The 4 interleaved weight vectors of group (b0, N blocks) of one row (q4: u8 nibbles; q8_0: i8).
template <GgmlType T, int N>
inline void unpack_group(const uint8_t* row, int64_t b0, __m256i wv[4]) {
  using Tr = QTraits<T>;
  const uint8_t* qs = row + b0 * Tr::kBlockBytes + Tr::kQsOffset;
  const __m128i z = _mm_setzero_si128();
  auto ld = [&](int k, int off) {
    const uint8_t* p = qs + k * Tr::kBlockBytes + off;
    return k < N ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)) : z;
  };
  __m128i t[4];
  transpose4(ld(0, 0), ld(1, 0), ld(2, 0), ld(3, 0), t);
  if (T == GgmlType::Q8_0) {
    __m128i u[4];
    transpose4(ld(0, 16), ld(1, 16), ld(2, 16), ld(3, 16), u);
    for (int j = 0; j < 4; ++j) wv[j] = _mm256_set_m128i(u[j], t[j]);
  } else {
    const __m128i m4 = _mm_set1_epi8(0x0F);
    for (int j = 0; j < 4; ++j)
      wv[j] = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(t[j], 4), m4), _mm_and_si128(t[j], m4));
  }
}

// i32 partial sums of one (weight vector, activation vector) pair.
template <GgmlType T>
inline __m256i pair_dot(__m256i w, __m256i aw, __m256i x) {
  const __m256i ones = _mm256_set1_epi16(1);
  if (QTraits<T>::kSigned)
    return _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(x, w)), ones);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), ones);
}

// f32 part of one group, in the SIMD128 family's exact operation order (kernels_simd128.cpp
// group_update): 128-bit, multiply then add (no FMA), lane l = block 4g+l.
template <GgmlType T>
inline __m128 group_update(__m128 acc, __m256i isum256, __m128 dw, __m128 mw, const uint8_t* ar,
                           int64_t nb, int64_t b0) {
  using Tr = QTraits<T>;
  // Block l's partial sums sit in i32 lanes l and 4+l: add them (exact) into one lane.
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(isum256), _mm256_extracti128_si256(isum256, 1));
  if (Tr::kCorr)
    s = _mm_sub_epi32(s, _mm_loadu_si128(reinterpret_cast<const __m128i*>(ar + off_corr(nb) + b0 * 4)));
  const __m128 dx = _mm_loadu_ps(reinterpret_cast<const float*>(ar + off_d(nb) + b0 * 4));
  acc = _mm_add_ps(acc, _mm_mul_ps(_mm_cvtepi32_ps(s), _mm_mul_ps(dw, dx)));
  if (Tr::kMin) {
    const __m128 sx = _mm_loadu_ps(reinterpret_cast<const float*>(ar + off_s(nb) + b0 * 4));
    acc = _mm_add_ps(acc, _mm_mul_ps(mw, sx));
  }
  return acc;
}

// R activation rows × C weight rows (ws bytes apart, outputs ycs floats apart).
template <GgmlType T, int R, int C>
__attribute__((noinline)) void q_tile(const uint8_t* w, size_t ws, const uint8_t* act, size_t as,
                                      int64_t nb, float* y, int64_t ldy, int64_t ycs) {
  using Tr = QTraits<T>;
  __m128 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm_setzero_ps();
  auto group = [&](auto n_blocks, int64_t b0) {
    constexpr int N = decltype(n_blocks)::value;
    __m256i isum[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) isum[r][c] = _mm256_setzero_si256();
    __m256i wv[C][4];
    for (int c = 0; c < C; ++c) unpack_group<T, N>(w + c * ws, b0, wv[c]);
    for (int j = 0; j < 4; ++j) {
      __m256i aw[C];
      for (int c = 0; c < C; ++c)
        aw[c] = Tr::kSigned ? _mm256_sign_epi8(wv[c][j], wv[c][j]) : wv[c][j];
      for (int r = 0; r < R; ++r) {
        const uint8_t* xp = act + r * as + b0 * 32 + j * 32;
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xp));
        for (int c = 0; c < C; ++c)
          isum[r][c] = _mm256_add_epi32(isum[r][c], pair_dot<T>(wv[c][j], aw[c], x));
      }
    }
    for (int c = 0; c < C; ++c) {
      const uint8_t* blk = w + c * ws + b0 * Tr::kBlockBytes;
      const __m128 dw = load_half4<N>(blk, Tr::kBlockBytes);
      const __m128 mw = Tr::kMin ? load_half4<N>(blk + 2, Tr::kBlockBytes) : _mm_setzero_ps();
      for (int r = 0; r < R; ++r)
        acc[r][c] = group_update<T>(acc[r][c], isum[r][c], dw, mw, act + r * as, nb, b0);
    }
  };
  int64_t b0 = 0;
  for (; b0 + 4 <= nb; b0 += 4) group(std::integral_constant<int, 4>(), b0);
  switch (nb - b0) {
    case 3: group(std::integral_constant<int, 3>(), b0); break;
    case 2: group(std::integral_constant<int, 2>(), b0); break;
    case 1: group(std::integral_constant<int, 1>(), b0); break;
    default: break;
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) y[r * ldy + c * ycs] = hsum4(acc[r][c]);
}

template <GgmlType T, int R>
void q_rows(const uint8_t* w, size_t ws, int64_t nw, const uint8_t* act, size_t as, int64_t nb,
            float* y, int64_t ldy) {
  // 4 activation rows × 2 weight rows measured best for GEMM (67 GFLOP/s on one core, vs 58 for
  // 4×1 and 3×2, 52 for 2×2), 4 segmented rows for GEMV.
  constexpr int C = R >= 3 ? 2 : (R == 2 ? 2 : 4);
  // The C rows of a tile come from C separate segments of the chunk, so the weights are read as
  // C long sequential streams (adjacent rows read in lockstep defeat the hardware prefetchers).
  int64_t j = 0;
  if (C > 1 && nw >= 2 * C) {
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
  for (; i + 4 <= na; i += 4) q_rows<T, 4>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy);
  for (; i + 2 <= na; i += 2) q_rows<T, 2>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy);
  if (i < na) q_rows<T, 1>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy);
}

// f32 dot products in the SIMD128 family's order (kernels_simd128.cpp f32_tile): per output 4
// lanes, lane l sums the products k ≡ l (mod 4) in order, multiply then add; then hsum4 and the
// tail. A 256-bit register holds the 4 lanes of two weight rows (c in the low half, c+1 high).
template <int R, int C>
void f32_tile(const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t k, float* y,
              int64_t ldy) {
  static_assert(C % 2 == 0, "weight rows go in pairs");
  constexpr int P = C / 2;
  __m256 acc[R][P];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) acc[r][p] = _mm256_setzero_ps();
  int64_t kk = 0;
  for (; kk + 4 <= k; kk += 4) {
    __m256 wv[P];
    for (int p = 0; p < P; ++p)
      wv[p] = _mm256_loadu2_m128(w + (2 * p + 1) * ldw + kk, w + 2 * p * ldw + kk);
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(x + r * ldx + kk));
      for (int p = 0; p < P; ++p) acc[r][p] = _mm256_add_ps(acc[r][p], _mm256_mul_ps(xv, wv[p]));
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float tail = 0.0f;
      for (int64_t t = kk; t < k; ++t) tail += x[r * ldx + t] * w[c * ldw + t];
      const __m256 a = acc[r][c / 2];
      const __m128 h = (c & 1) ? _mm256_extractf128_ps(a, 1) : _mm256_castps256_ps128(a);
      y[r * ldy + c] = hsum4(h) + tail;
    }
}

// One output of f32_tile's arithmetic (the odd weight row left over).
inline float f32_dot1(const float* w, const float* x, int64_t k) {
  __m128 acc = _mm_setzero_ps();
  int64_t kk = 0;
  for (; kk + 4 <= k; kk += 4) acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(x + kk), _mm_loadu_ps(w + kk)));
  float tail = 0.0f;
  for (int64_t t = kk; t < k; ++t) tail += x[t] * w[t];
  return hsum4(acc) + tail;
}

template <int R>
void f32_rows(const float* w, int64_t ldw, int64_t nw, const float* x, int64_t ldx, int64_t k,
              float* y, int64_t ldy) {
  constexpr int C = R >= 3 ? 2 : 4;
  int64_t j = 0;
  for (; j + C <= nw; j += C) f32_tile<R, C>(w + j * ldw, ldw, x, ldx, k, y + j, ldy);
  for (; j < nw; ++j)
    for (int r = 0; r < R; ++r) y[r * ldy + j] = f32_dot1(w + j * ldw, x + r * ldx, k);
}

}  // namespace

const char* name() { return "avx2"; }

bool reads_q4_0_x4() { return false; }

size_t act_row_bytes(int64_t k) {
  const int64_t nb = k / kQuantBlock;
  return (static_cast<size_t>(pad4(nb) * 44) + 63) & ~static_cast<size_t>(63);
}

void prepare_act_row(const float* x, int64_t k, uint8_t* dst) {
  const int64_t nb = k / kQuantBlock, nbp = pad4(nb);
  int32_t* corr = reinterpret_cast<int32_t*>(dst + off_corr(nb));
  float* d = reinterpret_cast<float*>(dst + off_d(nb));
  float* s = reinterpret_cast<float*>(dst + off_s(nb));
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nbp; ++b) {
    uint8_t* grp = dst + (b >> 2) * 128;
    const int l = static_cast<int>(b & 3);
    alignas(32) int8_t q[32] = {};
    float dx = 0.0f;
    int total = 0;
    if (b < nb) {
      __m256i v;
      dx = half_to_float(quant_block(x + b * kQuantBlock, &v));
      _mm256_store_si256(reinterpret_cast<__m256i*>(q), v);
      const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, v), ones16);
      const __m128i s4 =
          _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
      total = _mm_cvtsi128_si32(s4) + _mm_extract_epi32(s4, 1) + _mm_extract_epi32(s4, 2) +
              _mm_extract_epi32(s4, 3);
    }
    // Word j of the block: elements 4j..4j+3 -> vector j, word l; 16+4j.. -> vector j, word 4+l.
    for (int j = 0; j < 4; ++j) {
      std::memcpy(grp + j * 32 + l * 4, q + 4 * j, 4);
      std::memcpy(grp + j * 32 + 16 + l * 4, q + 16 + 4 * j, 4);
    }
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
  dequant_row_scalar(t, src, dst, n);
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    __m256i q;
    y[b].d = quant_block(x + b * kQuantBlock, &q);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), q);
  }
}

float dot_f32(const float* a, const float* b, int64_t n) {
  // The SIMD128 family's order: two 4-lane sums (elements 8i..8i+3 and 8i+4..8i+7) in one
  // 256-bit register, multiply then add; then low + high, hsum4, tail.
  __m256 s = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) s = _mm256_add_ps(s, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return hsum4(_mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1))) + tail;
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
  // Separate multiply and add (no FMA) so the result matches the scalar y[i] += a * x[i].
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 ax = _mm256_mul_ps(va, _mm256_loadu_ps(x + i));
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), ax));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

// ---- elementwise: exp_f32, erfc_nonneg_f32 and gelu_erf_f32 of kernels_internal.h, 8 lanes ----
// (lane-independent, so the width does not change a bit; multiply and add stay separate).
namespace {

inline __m256 exp_ps(__m256 x) {
  const __m256 below = _mm256_cmp_ps(x, _mm256_set1_ps(kExpLo), _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_set1_ps(kExpHi), x);  // kExpHi < x ? kExpHi : x (NaN stays)
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(kLn2Hi)));
  r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(kLn2Lo)));
  __m256 p = _mm256_set1_ps(kExpPoly[0]);
  for (int i = 1; i < 6; ++i) p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(kExpPoly[i]));
  const __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, _mm256_mul_ps(r, r)), r), _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(below, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

inline __m256 gelu_erf_ps(__m256 v) {
  const __m256 one = _mm256_set1_ps(1.0f), half = _mm256_set1_ps(0.5f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 z = _mm256_mul_ps(_mm256_andnot_ps(sign, v), _mm256_set1_ps(kInvSqrt2));
  const __m256 t = _mm256_div_ps(one, _mm256_add_ps(one, _mm256_mul_ps(half, z)));
  __m256 p = _mm256_set1_ps(kErfcPoly[0]);
  for (int i = 1; i < 10; ++i) p = _mm256_add_ps(_mm256_set1_ps(kErfcPoly[i]), _mm256_mul_ps(t, p));
  const __m256 e = _mm256_mul_ps(t, exp_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_xor_ps(z, sign), z), p)));
  const __m256 hv = _mm256_mul_ps(half, v);
  const __m256 pos = _mm256_mul_ps(hv, _mm256_sub_ps(_mm256_set1_ps(2.0f), e));
  return _mm256_blendv_ps(_mm256_mul_ps(hv, e), pos, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ));
}

}  // namespace

void gelu_erf(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu_erf_ps(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) x[i] = gelu_erf_f32(x[i]);
}

void silu_mul(const float* g, const float* u, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 gv = _mm256_loadu_ps(g + i);
    const __m256 s = _mm256_div_ps(gv, _mm256_add_ps(one, exp_ps(_mm256_xor_ps(gv, sign))));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
  }
  for (; i < n; ++i) out[i] = silu_mul_f32(g[i], u[i]);
}

void exp_shifted(float* x, int64_t n, float shift) {
  const __m256 sh = _mm256_set1_ps(shift);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh)));
  for (; i < n; ++i) x[i] = exp_f32(x[i] - shift);
}

}  // namespace fam
}  // namespace kint
}  // namespace qasr
#endif  // __AVX2__
