// Small numeric building blocks shared by the encoder, decoder and aligner: norms, activations,
// RoPE, softmax. Switches between the official math and chatllm.cpp's (research/chatllm-qwen3-asr.md §9).
#pragma once
#include <cstdint>

#include "kernels.h"

namespace qasr {

struct Numerics {
  bool full_attention = false;   // encoder: whole clip instead of 8 s windows
  bool gelu_tanh_f16 = false;    // tanh GELU via an fp16 table instead of exact erf
  bool rms_eps_1e5 = false;      // decoder RMSNorm eps 1e-5 instead of the config's
  bool audio_quant = false;      // audio features round-tripped through the embedding type
  MatmulPrecision precision = MatmulPrecision::kActivationsQ8;

  static Numerics from_flags(uint32_t flags);
};

// In place on n values: exact GELU 0.5·x·(1+erf(x/√2)) (over the pool when given), or chatllm's
// table form.
void gelu_inplace(float* x, int64_t n, bool tanh_f16, ThreadPool* pool = nullptr);
// y = LayerNorm(x)·w + b over n values (eps inside the square root).
void layer_norm(const float* x, const float* w, const float* b, float* y, int n, float eps);
// y = x / sqrt(mean(x²) + eps) · w (weight used as is, research/qwen3-asr-official.md §4.1).
void rms_norm(const float* x, const float* w, float* y, int n, float eps);
// In place softmax over n values.
void softmax_inplace(float* x, int n);
// x·sigmoid(x) · g applied as silu(gate) * up into out.
void swiglu(const float* gate, const float* up, float* out, int64_t n, ThreadPool* pool = nullptr);
// NeoX (rotate-half) RoPE of one head of size hd, with cos/sin of this position's angles
// (hd/2 entries each, see rope_table).
void rope_neox(float* head, int hd, const float* cos, const float* sin);
// cos/sin tables [n_pos][hd/2] for positions [first, first + n_pos), angles in double.
void rope_table(const double* inv_freq, int hd, int first, int n_pos, float* cos, float* sin);

}  // namespace qasr
