// Qwen3 decoder forward (research/qwen3-asr-official.md §4.1): RMSNorm, q/k/v without bias,
// per-head q_norm/k_norm before NeoX RoPE, GQA causal attention, SwiGLU MLP, final norm.
#include "decoder.h"

#include <algorithm>
#include <cmath>
#include <new>

#include "attention.h"

namespace qasr {

bool KvCache::reserve(const Model& m, int capacity, std::string* error) {
  const TextConfig& t = m.file.text;
  kv_dim_ = t.num_kv_heads * t.head_dim;
  head_dim_ = t.head_dim;
  vt_stride_ = attention_pad(capacity);
  const size_t n = static_cast<size_t>(t.num_layers) * capacity * kv_dim_;
  try {
    k_.assign(n, 0.0f);
    v_.assign(static_cast<size_t>(t.num_layers) * kv_dim_ * vt_stride_, 0.0f);
  } catch (const std::bad_alloc&) {
    k_.clear();
    v_.clear();
    *error = "Not enough memory for the decoder's cache (" + std::to_string(capacity) + " positions)";
    return false;
  }
  capacity_ = capacity;
  n_past_ = 0;
  return true;
}

void KvCache::put_v(int layer, int pos, const float* row) {
  float* base = v_.data() + static_cast<size_t>(layer) * kv_dim_ * vt_stride_ + pos;
  for (int c = 0; c < kv_dim_; ++c) base[static_cast<size_t>(c) * vt_stride_] = row[c];
}

namespace {
// y[i] = RMSNorm(x[i]) for n rows of width H (y may be x), rows split over the pool.
void rms_norm_rows(ThreadPool* pool, const float* x, const float* w, float* y, int n, int H, float eps) {
  pool->parallel_range(n, [&](int r0, int r1, int) {
    for (int i = r0; i < r1; ++i) rms_norm(x + static_cast<size_t>(i) * H, w, y + static_cast<size_t>(i) * H, H, eps);
  });
}
}  // namespace

void embed_tokens(const Model& m, const int* ids, int n, float* out) {
  const WeightMatrix& e = m.dec.embed;
  for (int i = 0; i < n; ++i) {
    const int id = std::min<int64_t>(std::max(ids[i], 0), e.rows - 1);
    weight_row_f32(e, id, out + static_cast<size_t>(i) * e.cols);
  }
}

bool decoder_forward(const Model& m, float* x, int n, KvCache* cache, const Numerics& nx, std::string* error,
                     const std::vector<int>* keep) {
  const TextConfig& t = m.file.text;
  const DecoderWeights& w = m.dec;
  ThreadPool* pool = m.pool.get();
  const int H = t.hidden_size, hd = t.head_dim, nq = t.num_heads, nkv = t.num_kv_heads;
  const int qdim = nq * hd, kvdim = nkv * hd, I = t.intermediate_size;
  const int p0 = cache->n_past();
  if (p0 + n > cache->capacity()) {
    *error = "The decoder's cache is full";
    return false;
  }
  const float eps = nx.rms_eps_1e5 ? 1e-5f : t.rms_norm_eps;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t rows = static_cast<size_t>(n);
  std::vector<float> h(rows * H), q(rows * qdim), k(rows * kvdim), v(rows * kvdim), att(rows * qdim);
  std::vector<float> gate(rows * I), up(rows * I);
  std::vector<float> cos_t(rows * hd / 2), sin_t(rows * hd / 2);
  rope_table(w.rope_inv_freq.data(), hd, p0, n, cos_t.data(), sin_t.data());

  // The last layer computes queries, attention, o and the MLP only for the rows the caller reads
  // (`keep`); every row's K and V still go to the cache. Per row, the results are the same bits.
  const bool subset = keep && static_cast<int>(keep->size()) < n;
  const int nk = subset ? static_cast<int>(keep->size()) : n;
  std::vector<float> xs, hs;  // the kept rows of x and h (subset only)
  for (size_t li = 0; li < w.layers.size(); ++li) {
    const DecoderLayer& l = w.layers[li];
    const int layer = static_cast<int>(li);
    const bool sel = subset && li + 1 == w.layers.size();
    const int nr = sel ? nk : n;  // query rows of this layer
    auto row_of = [&](int j) { return sel ? (*keep)[j] : j; };
    rms_norm_rows(pool, x, l.in_norm.weight.data(), h.data(), n, H, eps);
    if (!sel) {
      const MatmulOut qkv[3] = {{&l.q.w, q.data(), nullptr}, {&l.k.w, k.data(), nullptr}, {&l.v.w, v.data(), nullptr}};
      matmul_shared_input(qkv, 3, h.data(), n, pool, nx.precision);
    } else {
      const MatmulOut kv[2] = {{&l.k.w, k.data(), nullptr}, {&l.v.w, v.data(), nullptr}};
      matmul_shared_input(kv, 2, h.data(), n, pool, nx.precision);
      hs.resize(static_cast<size_t>(nr) * H);
      for (int j = 0; j < nr; ++j) std::copy_n(h.data() + static_cast<size_t>(row_of(j)) * H, H, hs.data() + static_cast<size_t>(j) * H);
      matmul(l.q.w, hs.data(), nr, q.data(), nullptr, pool, nx.precision);
    }
    // q/k norms and RoPE (query row j is input row row_of(j)); every row's K and V into the cache.
    pool->parallel_range(nr, [&](int j0, int j1, int) {
      for (int j = j0; j < j1; ++j) {
        const size_t i = static_cast<size_t>(row_of(j));
        for (int hh = 0; hh < nq; ++hh) {
          float* qh = q.data() + static_cast<size_t>(j) * qdim + hh * hd;
          rms_norm(qh, l.q_norm.weight.data(), qh, hd, eps);
          rope_neox(qh, hd, cos_t.data() + i * hd / 2, sin_t.data() + i * hd / 2);
        }
      }
    });
    pool->parallel_range(n, [&](int r0, int r1, int) {
      for (int i = r0; i < r1; ++i) {
        for (int hh = 0; hh < nkv; ++hh) {
          float* kh = k.data() + static_cast<size_t>(i) * kvdim + hh * hd;
          rms_norm(kh, l.k_norm.weight.data(), kh, hd, eps);
          rope_neox(kh, hd, cos_t.data() + static_cast<size_t>(i) * hd / 2, sin_t.data() + static_cast<size_t>(i) * hd / 2);
        }
        std::copy_n(k.data() + static_cast<size_t>(i) * kvdim, kvdim, cache->k(layer, p0 + i));
        cache->put_v(layer, p0 + i, v.data() + static_cast<size_t>(i) * kvdim);
      }
    });
    // Causal GQA attention (query head hh reads kv head hh / (nq / nkv)), blocks of query rows;
    // a block sees the keys up to its last row, each row its own causal prefix (so a kept row
    // alone gives the same bits, attention.h).
    const int group = nq / nkv;
    const int query_block = sel ? 1 : 16;
    const int n_blocks = (nr + query_block - 1) / query_block;
    pool->parallel_for(nq * n_blocks, [&](int task, int) {
      thread_local std::vector<float> scratch;
      const int hh = task % nq, g = hh / group;
      const int j0 = (task / nq) * query_block, m_rows = std::min(query_block, nr - j0);
      const int i0 = row_of(j0);
      const size_t off = static_cast<size_t>(j0) * qdim + hh * hd;
      attend_head(q.data() + off, qdim, m_rows, cache->k(layer, 0) + g * hd, kvdim, cache->vt(layer, g),
                  cache->vt_stride(), p0 + i0 + m_rows, hd, scale, p0 + i0, att.data() + off, qdim, &scratch);
    });
    matmul(l.o.w, att.data(), nr, h.data(), nullptr, pool, nx.precision);
    float* xr = x;
    if (sel) {
      xs.resize(static_cast<size_t>(nr) * H);
      for (int j = 0; j < nr; ++j) std::copy_n(x + static_cast<size_t>(row_of(j)) * H, H, xs.data() + static_cast<size_t>(j) * H);
      xr = xs.data();
    }
    const size_t nrH = static_cast<size_t>(nr) * H;
    for (size_t i = 0; i < nrH; ++i) xr[i] += h[i];
    rms_norm_rows(pool, xr, l.post_norm.weight.data(), h.data(), nr, H, eps);
    const MatmulOut gate_up[2] = {{&l.gate.w, gate.data(), nullptr}, {&l.up.w, up.data(), nullptr}};
    matmul_shared_input(gate_up, 2, h.data(), nr, pool, nx.precision);
    swiglu(gate.data(), up.data(), gate.data(), static_cast<int64_t>(nr) * I, pool);
    matmul(l.down.w, gate.data(), nr, h.data(), nullptr, pool, nx.precision);
    for (size_t i = 0; i < nrH; ++i) xr[i] += h[i];
  }
  if (subset) {
    rms_norm_rows(pool, xs.data(), w.final_norm.weight.data(), xs.data(), nk, H, eps);
    for (int j = 0; j < nk; ++j) std::copy_n(xs.data() + static_cast<size_t>(j) * H, H, x + static_cast<size_t>((*keep)[j]) * H);
  } else {
    rms_norm_rows(pool, x, w.final_norm.weight.data(), x, n, H, eps);
  }
  cache->advance(n);
  return true;
}

void decoder_head(const Model& m, const float* hidden, int rows, float* logits, const Numerics& nx) {
  matmul(m.dec.head.w, hidden, rows, logits, nullptr, m.pool.get(), nx.precision);
}

}  // namespace qasr
