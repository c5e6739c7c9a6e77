// Scalar kernels, always compiled:
//  - the references of kernels.h (matmul_ref, quantize_row_q8_0_ref, quantize_row_q4_0_ref,
//    dot_f32_ref, gemm_f32_nt_ref) that the tests compare the optimised kernels against;
//  - scalar dequantisation of weight rows (kint::dequant_row_scalar);
//  - the "scalar" kernel family (kint::fam), used when neither __wasm_simd128__ nor __AVX2__ is
//    defined. It computes exactly what the references compute, in the same order.
#include <cmath>
#include <vector>

#include "kernels.h"
#include "kernels_internal.h"

namespace qasr {

using kint::half_to_float;

namespace kint {

size_t weight_row_bytes(GgmlType t, int64_t n) {
  switch (t) {
    case GgmlType::F32: return static_cast<size_t>(n) * 4;
    case GgmlType::F16:
    case GgmlType::BF16: return static_cast<size_t>(n) * 2;
    case GgmlType::Q4_0:
    case GgmlType::Q4_0_X4: return static_cast<size_t>(n / kQuantBlock) * sizeof(BlockQ4_0);
    case GgmlType::Q4_1: return static_cast<size_t>(n / kQuantBlock) * sizeof(BlockQ4_1);
    case GgmlType::Q8_0: return static_cast<size_t>(n / kQuantBlock) * sizeof(BlockQ8_0);
  }
  return 0;
}

void dequant_row_scalar(GgmlType t, const void* src, float* dst, int64_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(src);
  switch (t) {
    case GgmlType::F32:
      std::memcpy(dst, p, static_cast<size_t>(n) * 4);
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = half_to_float(load_u16(p + 2 * i));
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_float(load_u16(p + 2 * i));
      return;
    case GgmlType::Q4_0:
      for (int64_t b = 0; b < n / kQuantBlock; ++b) {
        const uint8_t* blk = p + b * sizeof(BlockQ4_0);
        const float d = half_to_float(load_u16(blk));
        const uint8_t* qs = blk + 2;
        float* o = dst + b * kQuantBlock;
        for (int j = 0; j < 16; ++j) {
          o[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
          o[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
        }
      }
      return;
    case GgmlType::Q4_0_X4:
      for (int64_t b = 0; b < n / kQuantBlock; ++b) {
        const uint8_t* g = p + (b / 4) * kQ4_0X4GroupBytes;
        const int l = static_cast<int>(b % 4);
        const float d = half_to_float(load_u16(g + 2 * l));
        float* o = dst + b * kQuantBlock;
        for (int j = 0; j < 16; ++j) {
          const uint8_t q = g[q4_0_x4_code_offset(l, j)];
          o[j] = static_cast<float>((q & 0x0F) - 8) * d;
          o[j + 16] = static_cast<float>((q >> 4) - 8) * d;
        }
      }
      return;
    case GgmlType::Q4_1:
      for (int64_t b = 0; b < n / kQuantBlock; ++b) {
        const uint8_t* blk = p + b * sizeof(BlockQ4_1);
        const float d = half_to_float(load_u16(blk));
        const float m = half_to_float(load_u16(blk + 2));
        const uint8_t* qs = blk + 4;
        float* o = dst + b * kQuantBlock;
        for (int j = 0; j < 16; ++j) {
          o[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
          o[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
        }
      }
      return;
    case GgmlType::Q8_0:
      for (int64_t b = 0; b < n / kQuantBlock; ++b) {
        const uint8_t* blk = p + b * sizeof(BlockQ8_0);
        const float d = half_to_float(load_u16(blk));
        const int8_t* qs = reinterpret_cast<const int8_t*>(blk + 2);
        float* o = dst + b * kQuantBlock;
        for (int j = 0; j < 32; ++j) o[j] = static_cast<float>(qs[j]) * d;
      }
      return;
  }
}

}  // namespace kint

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    y[b].d = kint::float_to_half(d);
    // A d that rounds to fp16 zero dequantises the block to 0 whatever q is; q = 0 then (this
    // also keeps 1/d finite for tiny blocks).
    const float id = y[b].d != 0 ? 1.0f / d : 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) {
      // Round half to even (the default rounding mode), like the SIMD kernels.
      y[b].qs[j] = static_cast<int8_t>(std::nearbyint(xb[j] * id));
    }
  }
}

void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) {
      if (std::fabs(xb[j]) > amax) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = kint::float_to_half(d);
    for (int j = 0; j < 16; ++j) {
      const float v0 = xb[j] * id + 8.5f;
      const float v1 = xb[j + 16] * id + 8.5f;
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(v0)));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(v1)));
      y[b].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void gelu_erf_ref(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = kint::gelu_erf_f32(x[i]);
}

void silu_mul_ref(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = kint::silu_mul_f32(gate[i], up[i]);
}

void exp_shifted_ref(float* x, int64_t n, float shift) {
  for (int64_t i = 0; i < n; ++i) x[i] = kint::exp_f32(x[i] - shift);
}

float dot_f32_ref(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void gemm_f32_nt_ref(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) c[i * n + j] = dot_f32_ref(a + i * k, b + j * k, k);
}

namespace {

// One q8_0 activation row as the references use it: blocks plus, per block, d as f32 and
// s = d · Σq (the q4_1 min term).
struct RefActRow {
  std::vector<BlockQ8_0> q;
  std::vector<float> d, s;
  void set(const float* x, int64_t k) {
    const int64_t nb = k / kQuantBlock;
    q.resize(static_cast<size_t>(nb));
    d.resize(static_cast<size_t>(nb));
    s.resize(static_cast<size_t>(nb));
    quantize_row_q8_0_ref(x, q.data(), k);
    for (int64_t b = 0; b < nb; ++b) {
      int sum = 0;
      for (int j = 0; j < kQuantBlock; ++j) sum += q[b].qs[j];
      d[b] = half_to_float(q[b].d);
      s[b] = d[b] * static_cast<float>(sum);
    }
  }
};

// The integer-path dot product of one weight row with one prepared activation row. The scalar
// family uses the same function, so it is bit-identical to the reference.
float ref_q8_dot(GgmlType t, const uint8_t* w, const int8_t* xq, size_t xq_stride, const float* xd,
                 const float* xs, int64_t nb) {
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    const int8_t* q = xq + b * xq_stride;
    int isum = 0;
    if (t == GgmlType::Q4_0) {
      const uint8_t* blk = w + b * sizeof(BlockQ4_0);
      const float dw = half_to_float(kint::load_u16(blk));
      for (int j = 0; j < 16; ++j) {
        isum += ((blk[2 + j] & 0x0F) - 8) * q[j];
        isum += ((blk[2 + j] >> 4) - 8) * q[j + 16];
      }
      acc += (dw * xd[b]) * static_cast<float>(isum);
    } else if (t == GgmlType::Q4_0_X4) {
      const uint8_t* g = w + (b / 4) * kQ4_0X4GroupBytes;
      const int l = static_cast<int>(b % 4);
      const float dw = half_to_float(kint::load_u16(g + 2 * l));
      for (int j = 0; j < 16; ++j) {
        const uint8_t c = g[q4_0_x4_code_offset(l, j)];
        isum += ((c & 0x0F) - 8) * q[j];
        isum += ((c >> 4) - 8) * q[j + 16];
      }
      acc += (dw * xd[b]) * static_cast<float>(isum);
    } else if (t == GgmlType::Q4_1) {
      const uint8_t* blk = w + b * sizeof(BlockQ4_1);
      const float dw = half_to_float(kint::load_u16(blk));
      const float mw = half_to_float(kint::load_u16(blk + 2));
      for (int j = 0; j < 16; ++j) {
        isum += (blk[4 + j] & 0x0F) * q[j];
        isum += (blk[4 + j] >> 4) * q[j + 16];
      }
      acc += (dw * xd[b]) * static_cast<float>(isum);
      acc += mw * xs[b];
    } else {  // Q8_0
      const uint8_t* blk = w + b * sizeof(BlockQ8_0);
      const float dw = half_to_float(kint::load_u16(blk));
      const int8_t* wq = reinterpret_cast<const int8_t*>(blk + 2);
      for (int j = 0; j < 32; ++j) isum += wq[j] * q[j];
      acc += (dw * xd[b]) * static_cast<float>(isum);
    }
  }
  return acc;
}

}  // namespace

void matmul_ref(const WeightMatrix& w, const float* x, int64_t m, float* y, const float* bias,
                MatmulPrecision precision) {
  const int64_t rows = w.rows, cols = w.cols;
  const size_t rb = kint::weight_row_bytes(w.type, cols);
  const uint8_t* wd = static_cast<const uint8_t*>(w.data);
  if (kint::is_quant(w.type) && precision == MatmulPrecision::kActivationsQ8) {
    RefActRow act;
    for (int64_t i = 0; i < m; ++i) {
      act.set(x + i * cols, cols);
      for (int64_t j = 0; j < rows; ++j) {
        const float acc = ref_q8_dot(w.type, wd + j * rb, act.q[0].qs, sizeof(BlockQ8_0),
                                     act.d.data(), act.s.data(), cols / kQuantBlock);
        y[i * rows + j] = bias ? acc + bias[j] : acc;
      }
    }
    return;
  }
  std::vector<float> wrow(static_cast<size_t>(cols));
  for (int64_t j = 0; j < rows; ++j) {
    kint::dequant_row_scalar(w.type, wd + j * rb, wrow.data(), cols);
    for (int64_t i = 0; i < m; ++i) {
      const float acc = dot_f32_ref(x + i * cols, wrow.data(), cols);
      y[i * rows + j] = bias ? acc + bias[j] : acc;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The scalar family (no SIMD): same arithmetic and order as the references.
// ---------------------------------------------------------------------------------------------
#if !defined(__wasm_simd128__) && !defined(__AVX2__)
namespace kint {
namespace fam {

const char* name() { return "scalar"; }
bool reads_q4_0_x4() { return false; }  // nothing to gain (matmul falls back to matmul_ref)

// Row layout: int8 q[k] | float d[nb] | float s[nb], padded to 64 bytes.
size_t act_row_bytes(int64_t k) {
  const size_t nb = static_cast<size_t>(k / kQuantBlock);
  return (static_cast<size_t>(k) + 8 * nb + 63) & ~static_cast<size_t>(63);
}

void prepare_act_row(const float* x, int64_t k, uint8_t* dst) {
  const int64_t nb = k / kQuantBlock;
  int8_t* q = reinterpret_cast<int8_t*>(dst);
  float* d = reinterpret_cast<float*>(dst + k);
  float* s = d + nb;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ8_0 blk;
    quantize_row_q8_0_ref(x + b * kQuantBlock, &blk, kQuantBlock);
    int sum = 0;
    for (int j = 0; j < kQuantBlock; ++j) {
      q[b * kQuantBlock + j] = blk.qs[j];
      sum += blk.qs[j];
    }
    d[b] = half_to_float(blk.d);
    s[b] = d[b] * static_cast<float>(sum);
  }
}

void q8_gemm(GgmlType t, const uint8_t* w, size_t w_stride, int64_t nw, const uint8_t* act,
             size_t a_stride, int64_t na, int64_t k, float* y, int64_t ldy) {
  const int64_t nb = k / kQuantBlock;
  for (int64_t i = 0; i < na; ++i) {
    const uint8_t* a = act + i * a_stride;
    const int8_t* q = reinterpret_cast<const int8_t*>(a);
    const float* d = reinterpret_cast<const float*>(a + k);
    for (int64_t j = 0; j < nw; ++j)
      y[i * ldy + j] = ref_q8_dot(t, w + j * w_stride, q, kQuantBlock, d, d + nb, nb);
  }
}

void f32_gemm(const float* w, int64_t ldw, int64_t nw, const float* x, int64_t ldx, int64_t na,
              int64_t k, float* y, int64_t ldy) {
  for (int64_t i = 0; i < na; ++i)
    for (int64_t j = 0; j < nw; ++j) y[i * ldy + j] = dot_f32_ref(x + i * ldx, w + j * ldw, k);
}

void to_f32_row(GgmlType t, const void* src, float* dst, int64_t n) {
  dequant_row_scalar(t, src, dst, n);
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) { quantize_row_q8_0_ref(x, y, n); }

float dot_f32(const float* a, const float* b, int64_t n) { return dot_f32_ref(a, b, n); }

void axpy_f32(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void gelu_erf(float* x, int64_t n) { gelu_erf_ref(x, n); }

void silu_mul(const float* g, const float* u, float* out, int64_t n) { silu_mul_ref(g, u, out, n); }

void exp_shifted(float* x, int64_t n, float shift) { exp_shifted_ref(x, n, shift); }

}  // namespace fam
}  // namespace kint
#endif

}  // namespace qasr
