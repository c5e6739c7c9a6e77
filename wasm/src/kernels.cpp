// Kernel driver (kernels.h): the public entry points. It quantises activations once per call,
// splits the work over the thread pool and blocks it for the caches; the arithmetic itself is
// in the compiled-in family (kernels_internal.h: kint::fam, one of kernels_simd128.cpp,
// kernels_avx2.cpp or the scalar family in kernels_scalar.cpp).
//
// Work split. Tasks form a grid of (activation-row block) × (weight-row chunk), weight chunks
// fastest, handed out by the pool's atomic counter; each task computes its whole block of
// outputs over the full k. GEMV (m == 1) therefore splits the rows of W across threads; GEMM
// reuses each chunk of weight rows (sized for L2) for every activation row of the block, and the
// family's micro-kernels reuse weights across activation rows in registers (WASM: the chunk is
// first widened into an i16 panel, then consumed by 2 × 4 register tiles).
// Every output element is computed by one kernel call whose summation order depends only on k,
// so results are bit-identical for any thread count and any blocking.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "kernels_internal.h"
#include "threadpool.h"

namespace qasr {

namespace {

using kint::is_quant;
namespace fam = kint::fam;

// A growable 64-byte-aligned byte buffer (reallocates only when a larger size is requested).
class ScratchBuffer {
 public:
  uint8_t* get(size_t n) {
    if (buf_.size() < n + 64) buf_.resize(n + 64);
    const uintptr_t p = reinterpret_cast<uintptr_t>(buf_.data());
    return reinterpret_cast<uint8_t*>((p + 63) & ~static_cast<uintptr_t>(63));
  }

 private:
  std::vector<uint8_t> buf_;
};

// Prepared (q8) activations: owned by the thread that calls matmul.
thread_local ScratchBuffer t_act;
// Weight rows widened to f32 (F16 / BF16 / kF32 path): one per thread of the pool.
thread_local ScratchBuffer t_wconv;
// k-major copy of W for the small-k f32 path: caller thread.
thread_local ScratchBuffer t_wt;

template <class Fn>
void run_tasks(ThreadPool* pool, int n_tasks, const Fn& fn) {
  if (n_tasks <= 0) return;
  if (pool && pool->size() > 1 && n_tasks > 1) {
    pool->parallel_for(n_tasks, [&](int task, int thread) { fn(task, thread); });
  } else {
    for (int t = 0; t < n_tasks; ++t) fn(t, 0);
  }
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Weight-row chunk: about `target_bytes` of weights, but at least ~4 chunks per thread so the
// atomic task counter can balance uneven progress; a multiple of 4 rows.
int64_t weight_chunk_rows(int64_t rows, size_t row_bytes, int n_threads, size_t target_bytes) {
  int64_t by_cache = static_cast<int64_t>(target_bytes / std::max<size_t>(row_bytes, 1));
  int64_t by_balance = ceil_div(rows, static_cast<int64_t>(n_threads) * 4);
  int64_t c = std::max<int64_t>(4, std::min(by_cache, by_balance));
  c = (c + 3) & ~int64_t{3};
  return std::min(c, rows);
}

// Activation rows per block: everything for small m, else blocks that stay in L2 with the
// weight chunk.
int64_t act_block_rows(int64_t m) { return m <= 96 ? m : 64; }

void add_bias(float* y, int64_t ldy, int64_t ni, int64_t nj, const float* bias) {
  if (!bias) return;
  for (int64_t i = 0; i < ni; ++i)
    for (int64_t j = 0; j < nj; ++j) y[i * ldy + j] += bias[j];
}

// Tiny k (the first conv of the stem as im2col, k = 9): per output row, accumulate k scaled
// rows of the k-major copy of W, 16 outputs at a time in registers. Sum order: sequential in k.
void f32_small_k(const float* w, int64_t rows, int64_t cols, const float* x, int64_t m, float* y,
                 const float* bias, ThreadPool* pool) {
  float* wt = reinterpret_cast<float*>(t_wt.get(static_cast<size_t>(rows * cols) * 4));
  for (int64_t j = 0; j < rows; ++j)
    for (int64_t kk = 0; kk < cols; ++kk) wt[kk * rows + j] = w[j * cols + kk];
  const int n_threads = pool ? pool->size() : 1;
  const int64_t rows_per_task = std::max<int64_t>(1, ceil_div(m, int64_t{n_threads} * 4));
  const int n_tasks = static_cast<int>(ceil_div(m, rows_per_task));
  run_tasks(pool, n_tasks, [&](int task, int) {
    const int64_t i0 = task * rows_per_task, i1 = std::min(m, i0 + rows_per_task);
    for (int64_t i = i0; i < i1; ++i) {
      const float* xi = x + i * cols;
      float* yi = y + i * rows;
      int64_t j = 0;
      for (; j + 16 <= rows; j += 16) {
        float acc[16] = {};
        for (int64_t kk = 0; kk < cols; ++kk) {
          const float a = xi[kk];
          const float* wk = wt + kk * rows + j;
          for (int u = 0; u < 16; ++u) acc[u] += a * wk[u];
        }
        for (int u = 0; u < 16; ++u) yi[j + u] = acc[u];
      }
      for (; j < rows; ++j) {
        float acc = 0.0f;
        for (int64_t kk = 0; kk < cols; ++kk) acc += xi[kk] * wt[kk * rows + j];
        yi[j] = acc;
      }
      add_bias(yi, rows, 1, rows, bias);
    }
  });
}

constexpr int64_t kSmallK = 32;

// f32 products: W given as f32 rows (wf != nullptr) or converted chunk by chunk from `w`.
void f32_matmul(const WeightMatrix& w, const float* wf, const float* x, int64_t m, float* y,
                const float* bias, ThreadPool* pool) {
  const int64_t rows = w.rows, cols = w.cols;
  if (wf && cols < kSmallK) {
    f32_small_k(wf, rows, cols, x, m, y, bias, pool);
    return;
  }
  const int n_threads = pool ? pool->size() : 1;
  const size_t src_row_bytes = kint::weight_row_bytes(w.type, cols);
  const size_t f32_row_bytes = static_cast<size_t>(cols) * 4;
  const int64_t wc = weight_chunk_rows(rows, f32_row_bytes, n_threads, 192 * 1024);
  const int64_t n_wc = ceil_div(rows, wc);
  const int64_t mb = wf ? act_block_rows(m) : (m <= 256 ? m : 256);
  const int64_t n_mb = ceil_div(m, mb);
  const uint8_t* src = static_cast<const uint8_t*>(w.data);
  run_tasks(pool, static_cast<int>(n_mb * n_wc), [&](int task, int) {
    const int64_t j0 = (task % n_wc) * wc, nj = std::min(wc, rows - j0);
    const int64_t i0 = (task / n_wc) * mb, ni = std::min(mb, m - i0);
    const float* wrows = wf ? wf + j0 * cols : nullptr;
    if (!wrows) {
      float* conv = reinterpret_cast<float*>(t_wconv.get(static_cast<size_t>(nj) * f32_row_bytes));
      for (int64_t j = 0; j < nj; ++j)
        fam::to_f32_row(w.type, src + (j0 + j) * src_row_bytes, conv + j * cols, cols);
      wrows = conv;
    }
    float* yt = y + i0 * rows + j0;
    fam::f32_gemm(wrows, cols, nj, x + i0 * cols, cols, ni, cols, yt, rows);
    add_bias(yt, rows, ni, nj, bias ? bias + j0 : nullptr);
  });
}

// Products of several q8-path matrices with one X (same cols): X is quantised once and every
// product's tasks run as one job of the pool (one dispatch instead of one per matrix).
void q8_matmul(const MatmulOut* outs, int n_outs, const float* x, int64_t m, ThreadPool* pool) {
  const int64_t cols = outs[0].w->cols;
  const int n_threads = pool ? pool->size() : 1;
  const size_t arb = fam::act_row_bytes(cols);
  uint8_t* act = t_act.get(arb * static_cast<size_t>(m));
  if (m >= 8 && n_threads > 1) {
    const int64_t per = ceil_div(m, n_threads);
    run_tasks(pool, static_cast<int>(ceil_div(m, per)), [&](int task, int) {
      for (int64_t i = task * per; i < std::min(m, (task + 1) * per); ++i)
        fam::prepare_act_row(x + i * cols, cols, act + i * arb);
    });
  } else {
    for (int64_t i = 0; i < m; ++i) fam::prepare_act_row(x + i * cols, cols, act + i * arb);
  }
  const int64_t mb = act_block_rows(m);
  const int64_t n_mb = ceil_div(m, mb);
  // Per product: weight-row chunk, chunks per activation block, first task.
  struct Plan { int64_t wc, n_wc, first; size_t wrb; };
  constexpr int kMaxOuts = 4;
  Plan plan[kMaxOuts];
  int64_t n_tasks = 0;
  for (int o = 0; o < n_outs; ++o) {
    const WeightMatrix& w = *outs[o].w;
    plan[o].wrb = kint::weight_row_bytes(w.type, cols);
    plan[o].wc = weight_chunk_rows(w.rows, plan[o].wrb, n_threads, 48 * 1024);
    plan[o].n_wc = ceil_div(w.rows, plan[o].wc);
    plan[o].first = n_tasks;
    n_tasks += n_mb * plan[o].n_wc;
  }
  run_tasks(pool, static_cast<int>(n_tasks), [&](int task, int) {
    int o = n_outs - 1;
    while (task < plan[o].first) --o;
    const Plan& pl = plan[o];
    const WeightMatrix& w = *outs[o].w;
    const int64_t t = task - pl.first, rows = w.rows;
    const int64_t j0 = (t % pl.n_wc) * pl.wc, nj = std::min(pl.wc, rows - j0);
    const int64_t i0 = (t / pl.n_wc) * mb, ni = std::min(mb, m - i0);
    float* yt = outs[o].y + i0 * rows + j0;
    fam::q8_gemm(w.type, static_cast<const uint8_t*>(w.data) + j0 * pl.wrb, pl.wrb, nj, act + i0 * arb, arb, ni, cols, yt, rows);
    add_bias(yt, rows, ni, nj, outs[o].bias ? outs[o].bias + j0 : nullptr);
  });
}

bool takes_q8_path(const WeightMatrix& w, MatmulPrecision precision) {
  return is_quant(w.type) && precision == MatmulPrecision::kActivationsQ8 &&
         (w.type != GgmlType::Q4_0_X4 || fam::reads_q4_0_x4());
}

}  // namespace

void matmul(const WeightMatrix& w, const float* x, int64_t m, float* y, const float* bias,
            ThreadPool* pool, MatmulPrecision precision) {
  if (m <= 0 || w.rows <= 0) return;
  if (w.cols <= 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < w.rows; ++j) y[i * w.rows + j] = bias ? bias[j] : 0.0f;
    return;
  }
  if (takes_q8_path(w, precision)) {
    const MatmulOut out{&w, y, bias};
    q8_matmul(&out, 1, x, m, pool);
  } else if (is_quant(w.type) && precision == MatmulPrecision::kActivationsQ8) {
    matmul_ref(w, x, m, y, bias, precision);  // Q4_0_X4 on a family that does not read it
  } else {
    const float* wf = w.type == GgmlType::F32 ? static_cast<const float*>(w.data) : nullptr;
    f32_matmul(w, wf, x, m, y, bias, pool);
  }
}

void matmul_shared_input(const MatmulOut* outs, int n_outs, const float* x, int64_t m, ThreadPool* pool,
                         MatmulPrecision precision) {
  bool together = m > 0 && n_outs > 0 && n_outs <= 4 && outs[0].w->cols > 0;
  for (int o = 0; together && o < n_outs; ++o)
    together = takes_q8_path(*outs[o].w, precision) && outs[o].w->cols == outs[0].w->cols && outs[o].w->rows > 0;
  if (together) {
    q8_matmul(outs, n_outs, x, m, pool);
    return;
  }
  for (int o = 0; o < n_outs; ++o) matmul(*outs[o].w, x, m, outs[o].y, outs[o].bias, pool, precision);
}

void gemm_f32_nt(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                 ThreadPool* pool) {
  WeightMatrix w;
  w.type = GgmlType::F32;
  w.data = b;
  w.rows = n;
  w.cols = k;
  matmul(w, a, m, c, nullptr, pool, MatmulPrecision::kF32);
}

void gemm_f32_nt_strided(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc,
                         int64_t m, int64_t n, int64_t k) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  fam::f32_gemm(b, ldb, n, a, lda, m, k, c, ldc);
}

namespace {
// Elementwise work over the pool in slices of kElementSlice (about 64 KB of floats).
constexpr int64_t kElementSlice = 16384;
template <class Fn>
void for_slices(int64_t n, ThreadPool* pool, const Fn& fn) {
  run_tasks(pool, static_cast<int>(ceil_div(n, kElementSlice)), [&](int task, int) {
    const int64_t i0 = task * kElementSlice;
    fn(i0, std::min(kElementSlice, n - i0));
  });
}
}  // namespace

void gelu_erf_inplace(float* x, int64_t n, ThreadPool* pool) {
  for_slices(n, pool, [&](int64_t i0, int64_t len) { fam::gelu_erf(x + i0, len); });
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n, ThreadPool* pool) {
  for_slices(n, pool, [&](int64_t i0, int64_t len) { fam::silu_mul(gate + i0, up + i0, out + i0, len); });
}

void exp_shifted_inplace(float* x, int64_t n, float shift) { fam::exp_shifted(x, n, shift); }

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) { fam::quantize_row_q8_0(x, y, n); }

float dot_f32(const float* a, const float* b, int64_t n) { return fam::dot_f32(a, b, n); }

void axpy_f32(float a, const float* x, float* y, int64_t n) { fam::axpy_f32(a, x, y, n); }

bool kernels_prefer_q4_0_x4() { return fam::reads_q4_0_x4(); }

void pack_q4_0_x4(void* data, int64_t rows, int64_t cols, ThreadPool* pool) {
  const int64_t groups = rows * (cols / (4 * kQuantBlock));
  auto* base = static_cast<uint8_t*>(data);
  run_tasks(pool, static_cast<int>(ceil_div(groups, 4096)), [&](int task, int) {
    for (int64_t g = task * int64_t{4096}; g < std::min(groups, (task + 1) * int64_t{4096}); ++g) {
      uint8_t* p = base + g * kQ4_0X4GroupBytes;
      uint8_t src[kQ4_0X4GroupBytes];
      std::memcpy(src, p, sizeof src);
      for (int l = 0; l < 4; ++l) {
        const uint8_t* blk = src + l * sizeof(BlockQ4_0);
        std::memcpy(p + 2 * l, blk, 2);
        for (int c = 0; c < 16; ++c) p[q4_0_x4_code_offset(l, c)] = blk[2 + c];
      }
    }
  });
}

void weight_row_f32(const WeightMatrix& w, int64_t r, float* dst) {
  fam::to_f32_row(w.type, static_cast<const uint8_t*>(w.data) + r * kint::weight_row_bytes(w.type, w.cols), dst, w.cols);
}

const char* kernel_family() { return fam::name(); }

}  // namespace qasr
