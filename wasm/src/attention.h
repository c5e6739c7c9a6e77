// Scaled dot-product attention of one head for a block of query rows, as two f32 GEMMs (scores,
// then probabilities · V) on the kernel family's micro-kernels instead of one dot product per
// (query, key) pair. Used by the encoder (windows, bidirectional) and the decoder (causal, KV
// cache); the math is research/qwen3-asr-official.md §3.4 / §4.1.
//
// Summation order. Each score is one GEMM element over head_dim; each output element sums over
// the key count rounded up to a multiple of 4 (probabilities and V are zero past the valid keys,
// so every key lands in the same SIMD lane whatever the block), hence a query's result does not
// depend on how queries are blocked: prefill, one-token decode and a full replay agree bit for bit.
#pragma once
#include <cstdint>
#include <vector>

namespace qasr {

inline int attention_pad(int n) { return (n + 3) & ~3; }

// out[i*ldo + c] = Σ_j softmax_j(scale · q_i·k_j) · v_j[c] for i < m, c < hd, over the keys row i
// may see: all n_keys, or (causal_first >= 0) the first causal_first + i + 1 of them.
// q rows ldq apart, k rows ldk apart; vt is V transposed: hd rows of at least
// attention_pad(n_keys) values, ldvt apart, zero (or at least finite) past n_keys.
// scratch is reused between calls (m · attention_pad(n_keys) floats). One thread.
void attend_head(const float* q, int64_t ldq, int m, const float* k, int64_t ldk, const float* vt, int64_t ldvt,
                 int n_keys, int hd, float scale, int causal_first, float* out, int64_t ldo,
                 std::vector<float>* scratch);

}  // namespace qasr
