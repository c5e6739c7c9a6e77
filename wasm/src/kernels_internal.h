// Private interface between the kernel driver (kernels.cpp: threading, cache blocking, public
// API), the scalar references (kernels_scalar.cpp) and the one compiled-in kernel family
// (kernels_simd128.cpp with __wasm_simd128__, kernels_avx2.cpp with __AVX2__, else the scalar
// family at the end of kernels_scalar.cpp). Not part of the engine's contract: only kernels*.cpp
// include it.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "ggml_types.h"

namespace qasr {
namespace kint {

// ---- fp16 / bf16 (private copies so the kernels do not depend on ggml_types.cpp) ----

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Exact IEEE half -> float (normals, subnormals, inf, nan).
inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t em = h & 0x7fffu;
  float f;
  if (em >= 0x7c00u) {
    f = bits_f32(0x7f800000u | ((em & 0x3ffu) << 13));  // inf / nan (payload kept)
  } else {
    // Shift exponent+mantissa into place; scaling by 2^112 rebiases (also exact for subnormals).
    f = bits_f32(em << 13) * bits_f32(0x77800000u);
  }
  return bits_f32(f32_bits(f) | sign);
}

// float -> IEEE half, round to nearest even; overflow -> inf; nan stays nan.
inline uint16_t float_to_half(float f) {
  const uint32_t x = f32_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u)  // inf stays inf, nan becomes a quiet nan
    return static_cast<uint16_t>(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520
  if (ax < 0x38800000u) {
    // Result is subnormal (or zero): value / 2^-24 rounded to nearest even.
    if (ax < 0x33000000u) return sign;  // < 2^-25: rounds to zero
    const uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
    const int shift = 126 - static_cast<int>(ax >> 23);  // 14..24
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  // Normal: rebias exponent, round the 13 dropped bits to nearest even (carry may bump exponent).
  uint32_t h = ((ax - 0x38000000u) >> 13);
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

inline float bf16_to_float(uint16_t h) { return bits_f32(static_cast<uint32_t>(h) << 16); }

inline uint16_t load_u16(const void* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

inline bool is_quant(GgmlType t) {
  return t == GgmlType::Q4_0 || t == GgmlType::Q4_0_X4 || t == GgmlType::Q4_1 || t == GgmlType::Q8_0;
}
// Bytes of one weight row (private so kernels do not need ggml_types.cpp).
size_t weight_row_bytes(GgmlType t, int64_t n);

// Scalar dequantisation / widening of one row of n elements (any supported type).
void dequant_row_scalar(GgmlType t, const void* src, float* dst, int64_t n);

// ---- exp and the activations built on it (scalar forms; every family computes these bit for bit) ----

// exp(x) from + - * and round-to-nearest only: Cephes' expf (Cody-Waite reduction by ln 2, a
// degree-6 polynomial; about 1 ulp). libm's expf is a call per element that no family can
// vectorise, and glibc and musl need not round alike; this one is the same in every build.
// Below kExpLo the result is 0, above kExpHi it saturates at exp(kExpHi); NaN stays NaN.
constexpr float kExpLo = -87.0f, kExpHi = 88.0f;
constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kExpPoly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                               4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
inline float exp_f32(float x) {
  if (x != x) return x;
  if (x < kExpLo) return 0.0f;
  x = kExpHi < x ? kExpHi : x;
  const float n = std::nearbyint(x * kLog2e);  // -126..127: 2^n is a normal float
  float r = x - n * kLn2Hi;
  r = r - n * kLn2Lo;
  float p = kExpPoly[0];
  for (int i = 1; i < 6; ++i) p = p * r + kExpPoly[i];
  const float y = (p * (r * r) + r) + 1.0f;
  return y * bits_f32(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
}

// erfc(z) for z >= 0: Numerical Recipes' Chebyshev fit (relative error below 1.2e-7), Horner
// from the innermost coefficient.
constexpr float kErfcPoly[10] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                                 -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
inline float erfc_nonneg_f32(float z) {
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = kErfcPoly[0];
  for (int i = 1; i < 10; ++i) p = kErfcPoly[i] + t * p;
  return t * exp_f32(-z * z + p);
}

// Exact GELU 0.5·x·(1+erf(x/√2)) = 0.5·x·(2 - erfc(x/√2)) for x >= 0, 0.5·x·erfc(|x|/√2) below
// 0 (no cancellation on the negative side).
constexpr float kInvSqrt2 = 0.70710678118654752f;
inline float gelu_erf_f32(float v) {
  const float e = erfc_nonneg_f32(std::fabs(v) * kInvSqrt2);
  return v >= 0.0f ? 0.5f * v * (2.0f - e) : 0.5f * v * e;
}

// SiLU(g) · u.
inline float silu_mul_f32(float g, float u) { return g / (1.0f + exp_f32(-g)) * u; }

// ---- the compiled-in family (exactly one definition of each, selected by macros) ----
namespace fam {

const char* name();
// Whether q8_gemm reads GgmlType::Q4_0_X4 (the loader packs q4_0 matrices only then).
bool reads_q4_0_x4();

// Activations prepared for the integer path: each row is quantised to q8_0 blocks exactly as
// quantize_row_q8_0_ref does (same q, same fp16-rounded d), stored in a family-specific layout.
// Rows are act_row_bytes(k) apart (a multiple of 64); the buffer must be 64-byte aligned.
size_t act_row_bytes(int64_t k);
void prepare_act_row(const float* x, int64_t k, uint8_t* dst);

// y[i*ldy + j] = sum over k of act_i · w_j for i < na activation rows and j < nw weight rows of
// type t (Q4_0 / Q4_1 / Q8_0), w rows `w_stride` bytes apart. Per output element the order of the
// floating-point accumulation depends only on k (not on na, nw or their offsets).
void q8_gemm(GgmlType t, const uint8_t* w, size_t w_stride, int64_t nw, const uint8_t* act,
             size_t a_stride, int64_t na, int64_t k, float* y, int64_t ldy);

// y[i*ldy + j] = dot(x_i, w_j), f32; same determinism guarantee as q8_gemm.
void f32_gemm(const float* w, int64_t ldw, int64_t nw, const float* x, int64_t ldx, int64_t na,
              int64_t k, float* y, int64_t ldy);

// Widen / dequantise a row to f32 (SIMD where the family has it, else the scalar routine).
void to_f32_row(GgmlType t, const void* src, float* dst, int64_t n);

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
float dot_f32(const float* a, const float* b, int64_t n);
void axpy_f32(float a, const float* x, float* y, int64_t n);

// Elementwise, bit for bit the scalar forms above: x = gelu_erf_f32(x); out = silu_mul_f32(g, u);
// x = exp_f32(x - shift).
void gelu_erf(float* x, int64_t n);
void silu_mul(const float* g, const float* u, float* out, int64_t n);
void exp_shifted(float* x, int64_t n, float shift);

}  // namespace fam
}  // namespace kint
}  // namespace qasr
