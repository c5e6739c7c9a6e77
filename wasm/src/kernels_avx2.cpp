// AVX2 kernel family for native builds (compiled only with __AVX2__; FMA used when __FMA__).
// Implements kint::fam (kernels_internal.h); it exists to compare the WASM kernels against
// native speed. Scalar references are in kernels_scalar.cpp: prepare_act_row / quantize_row_q8_0
// <-> quantize_row_q8_0_ref (bit-exact), q8_gemm <-> matmul_ref's integer path (same integers;
// f32 accumulation order differs), f32_gemm / dot_f32 <-> dot_f32_ref, axpy_f32,
// to_f32_row <-> dequant_row_scalar.
//
// Integer path: weights unpacked to 32 i8 per block, multiplied with the q8 activations by
// _mm256_maddubs_epi16 (u8 × i8 -> i16 pairs; signed weights go through the sign trick
// |w| · sign(x, w)), then _mm256_madd_epi16 with ones -> i32x8 per block, converted to f32,
// scaled by d_w·d_x and accumulated in f32x8. No overflow: |w| <= 128, |x| <= 127, so a pair
// sum is at most 32512.
#if defined(__AVX2__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "kernels_internal.h"

namespace qasr {
namespace kint {
namespace fam {

namespace {

// Prepared activation row layout (nb = k/32): int8 q[nb][32] | float d[nb] | float s[nb].
inline size_t off_d(int64_t nb) { return static_cast<size_t>(nb) * 32; }
inline size_t off_s(int64_t nb) { return static_cast<size_t>(nb) * 36; }

inline __m256 madd_ps(__m256 a, __m256 b, __m256 c) {
#if defined(__FMA__)
  return _mm256_fmadd_ps(a, b, c);
#else
  return _mm256_add_ps(_mm256_mul_ps(a, b), c);
#endif
}

inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
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

template <GgmlType T>
struct QTraits;
template <>
struct QTraits<GgmlType::Q4_0> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_0);
  static constexpr bool kSigned = true, kMin = false;
};
template <>
struct QTraits<GgmlType::Q4_1> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ4_1);
  static constexpr bool kSigned = false, kMin = true;
};
template <>
struct QTraits<GgmlType::Q8_0> {
  static constexpr size_t kBlockBytes = sizeof(BlockQ8_0);
  static constexpr bool kSigned = true, kMin = false;
};

inline __m256i unpack_q4(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(raw, m4);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), m4);
  return _mm256_set_m128i(hi, lo);
}

// The C weight rows are ws bytes apart and their outputs ycs floats apart.
template <GgmlType T, int R, int C>
void q_tile(const uint8_t* w, size_t ws, const uint8_t* act, size_t as, int64_t nb, float* y,
            int64_t ldy, int64_t ycs) {
  using Tr = QTraits<T>;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[R][C];
  float macc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      acc[r][c] = _mm256_setzero_ps();
      macc[r][c] = 0.0f;
    }
  for (int64_t b = 0; b < nb; ++b) {
    __m256i wv[C], wa[C];
    float dw[C], mw[C];
    for (int c = 0; c < C; ++c) {
      const uint8_t* blk = w + c * ws + b * Tr::kBlockBytes;
      dw[c] = half_to_float(load_u16(blk));
      if (T == GgmlType::Q4_0) {
        wv[c] = _mm256_sub_epi8(unpack_q4(blk + 2), _mm256_set1_epi8(8));
      } else if (T == GgmlType::Q4_1) {
        mw[c] = half_to_float(load_u16(blk + 2));
        wv[c] = unpack_q4(blk + 4);
      } else {
        wv[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
      }
      wa[c] = Tr::kSigned ? _mm256_sign_epi8(wv[c], wv[c]) : wv[c];
    }
    for (int r = 0; r < R; ++r) {
      const uint8_t* ar = act + r * as;
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + b * 32));
      float dx;
      std::memcpy(&dx, ar + off_d(nb) + b * 4, 4);
      for (int c = 0; c < C; ++c) {
        const __m256i sx = Tr::kSigned ? _mm256_sign_epi8(x, wv[c]) : x;
        const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(wa[c], sx), ones);
        acc[r][c] = madd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(dw[c] * dx), acc[r][c]);
        if (Tr::kMin) {
          float sx_min;
          std::memcpy(&sx_min, ar + off_s(nb) + b * 4, 4);
          macc[r][c] += mw[c] * sx_min;
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float v = hsum_ps(acc[r][c]);
      if (Tr::kMin) v += macc[r][c];
      y[r * ldy + c * ycs] = v;
    }
}

template <GgmlType T, int R>
void q_rows(const uint8_t* w, size_t ws, int64_t nw, const uint8_t* act, size_t as, int64_t nb,
            float* y, int64_t ldy) {
  constexpr int C = R >= 3 ? 2 : 4;
  // The C rows of a tile come from C separate segments of the chunk, so the weights are read as
  // C long sequential streams (adjacent rows read in lockstep defeat the hardware prefetchers).
  int64_t j = 0;
  if (nw >= 2 * C) {
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
  switch (na - i) {
    case 3: q_rows<T, 3>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy); break;
    case 2: q_rows<T, 2>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy); break;
    case 1: q_rows<T, 1>(w, ws, nw, act + i * as, as, nb, y + i * ldy, ldy); break;
    default: break;
  }
}

template <int R, int C>
void f32_tile(const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t k, float* y,
              int64_t ldy) {
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  int64_t kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    __m256 wv[C];
    for (int c = 0; c < C; ++c) wv[c] = _mm256_loadu_ps(w + c * ldw + kk);
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_loadu_ps(x + r * ldx + kk);
      for (int c = 0; c < C; ++c) acc[r][c] = madd_ps(xv, wv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float tail = 0.0f;
      for (int64_t t = kk; t < k; ++t) tail += x[r * ldx + t] * w[c * ldw + t];
      y[r * ldy + c] = hsum_ps(acc[r][c]) + tail;
    }
}

template <int R>
void f32_rows(const float* w, int64_t ldw, int64_t nw, const float* x, int64_t ldx, int64_t k,
              float* y, int64_t ldy) {
  constexpr int C = R >= 3 ? 3 : 4;
  int64_t j = 0;
  for (; j + C <= nw; j += C) f32_tile<R, C>(w + j * ldw, ldw, x, ldx, k, y + j, ldy);
  for (; j < nw; ++j) f32_tile<R, 1>(w + j * ldw, ldw, x, ldx, k, y + j, ldy);
}

}  // namespace

const char* name() { return "avx2"; }

size_t act_row_bytes(int64_t k) {
  const size_t nb = static_cast<size_t>(k / kQuantBlock);
  return (nb * 40 + 63) & ~static_cast<size_t>(63);
}

void prepare_act_row(const float* x, int64_t k, uint8_t* dst) {
  const int64_t nb = k / kQuantBlock;
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    __m256i q;
    const float dx = half_to_float(quant_block(x + b * kQuantBlock, &q));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + b * 32), q);
    const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16);
    const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    const int total = _mm_cvtsi128_si32(s4) + _mm_extract_epi32(s4, 1) + _mm_extract_epi32(s4, 2) +
                      _mm_extract_epi32(s4, 3);
    const float s = dx * static_cast<float>(total);
    std::memcpy(dst + off_d(nb) + b * 4, &dx, 4);
    std::memcpy(dst + off_s(nb) + b * 4, &s, 4);
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
  __m256 s0 = _mm256_setzero_ps(), s1 = s0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = madd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = madd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return hsum_ps(_mm256_add_ps(s0, s1)) + tail;
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
  // Separate multiply and add (no FMA) so the result matches the scalar y[i] += a * x[i].
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(va, _mm256_loadu_ps(x + i))));
  for (; i < n; ++i) y[i] += a * x[i];
}

}  // namespace fam
}  // namespace kint
}  // namespace qasr
#endif  // __AVX2__
