// Arithmetic kernels. They know nothing of models: plain row-major matrices and vectors.
// Every optimised kernel has a scalar reference (`*_ref`) kept for tests.
//
// Matrix products use the weight layout of the GGMM file: W has `rows` rows of `cols` elements
// (PyTorch [out, in]), each row stored contiguously in the weight's type.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ggml_types.h"

namespace qasr {

class ThreadPool;

struct WeightMatrix {
  GgmlType type = GgmlType::F32;
  // rows * row_bytes(type, cols). Any address for F16/BF16/quantised types; F32 data must be
  // 4-byte aligned.
  const void* data = nullptr;
  int64_t rows = 0;            // output features
  int64_t cols = 0;            // input features
};

enum class MatmulPrecision {
  // Activations are quantised to q8_0 blocks on the fly for q4_0/q4_1/q8_0 weights and the
  // product is computed in integers (the fast path; chatllm.cpp does the same).
  kActivationsQ8,
  // Activations stay f32; weights are dequantised block by block (slow, for exactness tests).
  kF32,
};

// Y[m][rows] = X[m][cols] · Wᵀ (+ bias[rows] if bias != nullptr). Q4_0_X4 weights on a family
// that does not read them go through matmul_ref (slow; the loader only packs for families that do).
// X rows are contiguous with stride `cols`; Y rows with stride `rows`.
void matmul(const WeightMatrix& w, const float* x, int64_t m, float* y, const float* bias,
            ThreadPool* pool, MatmulPrecision precision = MatmulPrecision::kActivationsQ8);

// Several products of one X (q/k/v, gate/up): Y_o = X · W_oᵀ (+ bias_o). On the q8 path X is
// quantised once and all products run as one job of the pool (one dispatch, not one per matrix);
// results are those of separate matmul calls, bit for bit. At most 4 products.
struct MatmulOut {
  const WeightMatrix* w;
  float* y;
  const float* bias;  // or nullptr
};
void matmul_shared_input(const MatmulOut* outs, int n_outs, const float* x, int64_t m, ThreadPool* pool,
                         MatmulPrecision precision = MatmulPrecision::kActivationsQ8);

// Scalar reference of matmul (same signature minus the pool); used by tests.
void matmul_ref(const WeightMatrix& w, const float* x, int64_t m, float* y, const float* bias,
                MatmulPrecision precision);

// Quantise n floats (n % 32 == 0) to q8_0 blocks (d = amax/127, q = round(x/d)).
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n);
// Quantise n floats to q4_0 blocks the way ggml's reference does (d = signed max / -8,
// q = min(15, trunc(x/d + 8.5))): used by the "chatllm-compatible numerics" switch.
void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n);

// Dot products of two f32 vectors and y += a*x (SIMD with scalar reference).
float dot_f32(const float* a, const float* b, int64_t n);
float dot_f32_ref(const float* a, const float* b, int64_t n);
void axpy_f32(float a, const float* x, float* y, int64_t n);

// C[m][n] = A[m][k] · B[n][k]ᵀ, all f32 row-major (attention scores, conv as GEMM).
void gemm_f32_nt(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                 ThreadPool* pool);
void gemm_f32_nt_ref(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);

// C[i*ldc + j] = Σ_k A[i*lda + k] · B[j*ldb + k] for i < m, j < n (f32, strided, calling thread
// only). Per element the summation order depends only on k (4 lanes, any k; no small-k special
// case), so it is the same for any m, n and any offsets (attention.h relies on it).
void gemm_f32_nt_strided(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc,
                         int64_t m, int64_t n, int64_t k);

// Elementwise functions on the family's SIMD, with an exp of our own (kernels_internal.h
// exp_f32: + - * and exact rounding only) so that every build and every thread count computes
// the same bits. Long arrays are split over the pool (nullptr: the calling thread).
//   gelu_erf_inplace: x = 0.5·x·(1 + erf(x/√2))     silu_mul: out = SiLU(gate) · up
//   exp_shifted_inplace: x = exp(x - shift) (one thread; softmax rows)
void gelu_erf_inplace(float* x, int64_t n, ThreadPool* pool);
void silu_mul(const float* gate, const float* up, float* out, int64_t n, ThreadPool* pool);
void exp_shifted_inplace(float* x, int64_t n, float shift);
// Scalar references of the three (one element at a time).
void gelu_erf_ref(float* x, int64_t n);
void silu_mul_ref(const float* gate, const float* up, float* out, int64_t n);
void exp_shifted_ref(float* x, int64_t n, float shift);

// Whether this build's kernels prefer q4_0 matrices packed as GgmlType::Q4_0_X4 (the WASM
// family: the 4 × 4 word transpose and the scale gathering are then done once, at load).
bool kernels_prefer_q4_0_x4();
// Rearranges `rows` rows of `cols` q4_0 elements (cols % 128 == 0) into Q4_0_X4, in place.
void pack_q4_0_x4(void* data, int64_t rows, int64_t cols, ThreadPool* pool);
// Row r of w (any type, packed included) as cols floats.
void weight_row_f32(const WeightMatrix& w, int64_t r, float* dst);

// Name of the compiled kernel family, e.g. "wasm-simd128", "avx2", "scalar".
const char* kernel_family();

}  // namespace qasr
