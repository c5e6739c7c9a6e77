// Norms, activations, RoPE and softmax (research/qwen3-asr-official.md §3.4, §4.1;
// chatllm.cpp's variants from research/chatllm-qwen3-asr.md §3.5 and §4.1).
#include "numerics.h"

#include <cmath>
#include <vector>

#include "ggml_types.h"

namespace qasr {

Numerics Numerics::from_flags(uint32_t flags) {
  Numerics n;
  n.full_attention = flags & (1u << 0);
  n.gelu_tanh_f16 = flags & (1u << 1);
  n.rms_eps_1e5 = flags & (1u << 2);
  n.audio_quant = flags & (1u << 3);
  n.precision = (flags & (1u << 8)) ? MatmulPrecision::kF32 : MatmulPrecision::kActivationsQ8;
  return n;
}

namespace {

// std::erf and std::tanh differ in the last bit between glibc (native build) and musl (WASM
// build); expf is the same code in both (identical on 30 million arguments). So erfc and tanh are
// built here from + - * / and expf only, and both builds round alike (test_engine_tokens.cpp).

// erfc(z) for z >= 0: Numerical Recipes' Chebyshev fit, relative error below 1.2e-7 (well under
// the float rounding of the GELU that uses it).
inline float erfc_nonneg(float z) {
  const float t = 1.0f / (1.0f + 0.5f * z);
  const float p =
      -1.26551223f +
      t * (1.00002368f +
           t * (0.37409196f +
                t * (0.09678418f +
                     t * (-0.18628806f +
                          t * (0.27886807f +
                               t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
  return t * std::exp(-z * z + p);
}

// tanh(u) = sign(u) · (1 - 2 / (e^{2|u|} + 1)).
inline float tanh_expf(float u) {
  const float a = 1.0f - 2.0f / (std::exp(2.0f * std::fabs(u)) + 1.0f);
  return u < 0.0f ? -a : a;
}

// chatllm.cpp (ggml CPU) GELU: tanh approximation evaluated at fp16(x) and stored as fp16.
const std::vector<uint16_t>& gelu_f16_table() {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(65536);
    for (uint32_t i = 0; i < 65536; ++i) {
      const float x = fp16_to_f32(static_cast<uint16_t>(i));
      const float y = 0.5f * x * (1.0f + tanh_expf(0.7978845608f * x * (1.0f + 0.044715f * x * x)));
      t[i] = f32_to_fp16(y);
    }
    return t;
  }();
  return table;
}

}  // namespace

void gelu_inplace(float* x, int64_t n, bool tanh_f16) {
  if (tanh_f16) {
    const auto& t = gelu_f16_table();
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      if (v <= -10.0f) x[i] = 0.0f;
      else if (v >= 10.0f) x[i] = v;
      else x[i] = fp16_to_f32(t[f32_to_fp16(v)]);
    }
    return;
  }
  // 0.5·x·(1 + erf(x/√2)) = 0.5·x·(2 - erfc(x/√2)) for x >= 0, 0.5·x·erfc(|x|/√2) below 0 (no
  // cancellation on the negative side).
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float e = erfc_nonneg(std::fabs(v) * 0.70710678118654752f);
    x[i] = v >= 0.0f ? 0.5f * v * (2.0f - e) : 0.5f * v * e;
  }
}

void layer_norm(const float* x, const float* w, const float* b, float* y, int n, float eps) {
  double mean = 0;
  for (int i = 0; i < n; ++i) mean += x[i];
  mean /= n;
  double var = 0;
  for (int i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= n;
  const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
  const float m = static_cast<float>(mean);
  for (int i = 0; i < n; ++i) y[i] = (x[i] - m) * inv * w[i] + (b ? b[i] : 0.0f);
}

void rms_norm(const float* x, const float* w, float* y, int n, float eps) {
  double ss = 0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
  for (int i = 0; i < n; ++i) y[i] = x[i] * inv * w[i];
}

void softmax_inplace(float* x, int n) {
  float mx = x[0];
  for (int i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  double sum = 0;
  for (int i = 0; i < n; ++i) { x[i] = std::exp(x[i] - mx); sum += x[i]; }
  const float inv = static_cast<float>(1.0 / sum);
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void rope_neox(float* head, int hd, const float* cos, const float* sin) {
  const int half = hd / 2;
  for (int i = 0; i < half; ++i) {
    const float a = head[i], b = head[i + half];
    head[i] = a * cos[i] - b * sin[i];
    head[i + half] = b * cos[i] + a * sin[i];
  }
}

void rope_table(const double* inv_freq, int hd, int first, int n_pos, float* cos, float* sin) {
  const int half = hd / 2;
  for (int p = 0; p < n_pos; ++p)
    for (int i = 0; i < half; ++i) {
      const double angle = static_cast<double>(first + p) * inv_freq[i];
      cos[static_cast<size_t>(p) * half + i] = static_cast<float>(std::cos(angle));
      sin[static_cast<size_t>(p) * half + i] = static_cast<float>(std::sin(angle));
    }
}

}  // namespace qasr
