// Qwen3 text decoder with a KV cache sized to the request (research/qwen3-asr-official.md §4.1;
// research/chatllm-qwen3-asr.md §4.1 for the chatllm eps switch).
#pragma once
#include <string>
#include <vector>

#include "model.h"
#include "numerics.h"

namespace qasr {

class KvCache {
 public:
  // Reserves room for `capacity` positions; false if memory is short.
  bool reserve(const Model& m, int capacity, std::string* error);
  int capacity() const { return capacity_; }
  int n_past() const { return n_past_; }
  void advance(int n) { n_past_ += n; }
  void reset() { n_past_ = 0; }
  // K rows [layer][pos][kv_dim].
  float* k(int layer, int pos) { return k_.data() + (static_cast<size_t>(layer) * capacity_ + pos) * kv_dim_; }
  // V transposed for the attention GEMM (attention.h): per layer and kv head, head_dim rows of
  // vt_stride() positions (capacity rounded up to 4), zero where nothing was written yet.
  const float* vt(int layer, int kv_head) const {
    return v_.data() + (static_cast<size_t>(layer) * kv_dim_ + static_cast<size_t>(kv_head) * head_dim_) * vt_stride_;
  }
  int vt_stride() const { return vt_stride_; }
  void put_v(int layer, int pos, const float* row);  // row [kv_dim]
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

 private:
  int capacity_ = 0, n_past_ = 0, kv_dim_ = 0, head_dim_ = 0, vt_stride_ = 0;
  std::vector<float> k_, v_;
};

// Embedding rows of ids into out [n][hidden].
void embed_tokens(const Model& m, const int* ids, int n, float* out);

// Runs the decoder over n new input rows x [n][hidden] at positions n_past..n_past+n−1, appending
// to the cache. On return x holds the final-normed hidden states: of every row, or, with `keep`
// (sorted distinct row indices), of those rows only (the others hold unfinished values; the last
// layer then skips the work of rows nobody reads). False if the cache is full.
bool decoder_forward(const Model& m, float* x, int n, KvCache* cache, const Numerics& nx, std::string* error,
                     const std::vector<int>* keep = nullptr);

// logits [m][head_rows] = head(hidden [m][hidden]).
void decoder_head(const Model& m, const float* hidden, int rows, float* logits, const Numerics& nx);

}  // namespace qasr
