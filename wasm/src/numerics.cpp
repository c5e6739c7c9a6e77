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

// std::tanh differs in the last bit between glibc (native build) and musl (WASM build); expf is
// the same code in both. So the tanh of chatllm's table is built from + - * / and expf only. The
// exact GELU, softmax and SiLU use the kernels' own exp (kernels.h), vectorised and identical in
// every build (test_engine_tokens.cpp).

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

void gelu_inplace(float* x, int64_t n, bool tanh_f16, ThreadPool* pool) {
  if (!tanh_f16) {
    gelu_erf_inplace(x, n, pool);
    return;
  }
  const auto& t = gelu_f16_table();
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v <= -10.0f) x[i] = 0.0f;
    else if (v >= 10.0f) x[i] = v;
    else x[i] = fp16_to_f32(t[f32_to_fp16(v)]);
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
  exp_shifted_inplace(x, n, mx);
  for (int i = 0; i < n; ++i) sum += x[i];
  const float inv = static_cast<float>(1.0 / sum);
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu(const float* gate, const float* up, float* out, int64_t n, ThreadPool* pool) {
  silu_mul(gate, up, out, n, pool);
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
