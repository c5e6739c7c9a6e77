// Tests of the arithmetic kernels (kernels.h) against their scalar references and against
// double-precision sums: matmul for every weight type × both precisions × several m, row and
// column counts, thread-count independence, quantize_row_q8_0 (bit-exact vs ref), q4_0
// quantisation, fp16/bf16 widening, gemm_f32_nt, dot_f32 and axpy_f32.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels.h"
#include "kernels_internal.h"
#include "test.h"
#include "threadpool.h"

using namespace qasr;

namespace {

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // [0, 1)
  float uniform() { return static_cast<float>(next() >> 40) / static_cast<float>(1 << 24); }
  float sym() { return 2.0f * uniform() - 1.0f; }  // [-1,1)
};

const GgmlType kAllTypes[] = {GgmlType::F32, GgmlType::F16, GgmlType::BF16,
                              GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0};

const char* tname(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return "f32";
    case GgmlType::F16: return "f16";
    case GgmlType::BF16: return "bf16";
    case GgmlType::Q4_0: return "q4_0";
    case GgmlType::Q4_0_X4: return "q4_0 (packed)";
    case GgmlType::Q4_1: return "q4_1";
    case GgmlType::Q8_0: return "q8_0";
  }
  return "?";
}

// Random weight bytes of the given type: raw blocks with random scales and codes (every code
// value, including -128 for q8_0), float weights in [-0.5, 0.5).
std::vector<uint8_t> make_weights(GgmlType t, int64_t rows, int64_t cols, Rng& rng) {
  const size_t rb = kint::weight_row_bytes(t, cols);
  std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
  auto put16 = [](uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); };
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = w.data() + r * rb;
    for (int64_t i = 0; i < cols; ++i) {
      const float v = 0.5f * rng.sym();
      if (t == GgmlType::F32) std::memcpy(row + 4 * i, &v, 4);
      if (t == GgmlType::F16) put16(row + 2 * i, kint::float_to_half(v));
      if (t == GgmlType::BF16) put16(row + 2 * i, static_cast<uint16_t>(kint::f32_bits(v) >> 16));
    }
    if (!kint::is_quant(t)) continue;
    const int64_t nb = cols / kQuantBlock;
    for (int64_t b = 0; b < nb; ++b) {
      // Scales spanning a few octaves, either sign (ggml's q4_0 d is usually negative).
      const float d = (0.002f + 0.03f * rng.uniform()) * (rng.next() & 1 ? -1.0f : 1.0f);
      if (t == GgmlType::Q4_0) {
        uint8_t* blk = row + b * sizeof(BlockQ4_0);
        put16(blk, kint::float_to_half(d));
        for (int j = 0; j < 16; ++j) blk[2 + j] = static_cast<uint8_t>(rng.next());
      } else if (t == GgmlType::Q4_1) {
        uint8_t* blk = row + b * sizeof(BlockQ4_1);
        put16(blk, kint::float_to_half(std::fabs(d)));
        put16(blk + 2, kint::float_to_half(-0.25f * rng.uniform()));
        for (int j = 0; j < 16; ++j) blk[4 + j] = static_cast<uint8_t>(rng.next());
      } else {
        uint8_t* blk = row + b * sizeof(BlockQ8_0);
        put16(blk, kint::float_to_half(d * 0.1f));
        for (int j = 0; j < 32; ++j) blk[2 + j] = static_cast<uint8_t>(rng.next());
      }
    }
  }
  return w;
}

// Activations: mostly uniform, some blocks scaled up or down, a few zero blocks and outliers.
std::vector<float> make_acts(int64_t m, int64_t cols, Rng& rng) {
  std::vector<float> x(static_cast<size_t>(m * cols));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t b = 0; b < cols; b += 32) {
      const uint64_t kind = rng.next() % 16;
      const float scale = kind == 0 ? 0.0f : kind == 1 ? 40.0f : kind == 2 ? 1e-3f : 1.0f;
      for (int64_t j = b; j < std::min(cols, b + 32); ++j) {
        float v = scale * rng.sym();
        if (rng.next() % 97 == 0) v *= 8.0f;
        x[static_cast<size_t>(i * cols + j)] = v;
      }
    }
  return x;
}

std::unique_ptr<ThreadPool> make_pool(int n) {
  return std::unique_ptr<ThreadPool>(new ThreadPool(std::min(n, qasr::max_threads_for_build())));
}

struct Stats {
  double worst_q8 = 0.0, worst_f32 = 0.0;
};

// One (type, rows, cols) configuration: every m, both precisions.
void check_matmul_config(GgmlType t, int64_t rows, int64_t cols, ThreadPool* pool2,
                         ThreadPool* pool3, Rng& rng, Stats& st) {
  const int64_t kMaxM = 64;
  const std::vector<uint8_t> wbytes = make_weights(t, rows, cols, rng);
  const std::vector<float> x = make_acts(kMaxM, cols, rng);
  std::vector<float> bias(static_cast<size_t>(rows));
  for (auto& b : bias) b = rng.sym();
  const bool use_bias = (rows + cols) % 2 == 1 || rows == 7;
  const float* bp = use_bias ? bias.data() : nullptr;
  WeightMatrix w;
  w.type = t;
  w.data = wbytes.data();
  w.rows = rows;
  w.cols = cols;

  // Double-precision reference on the dequantised weights, and the magnitude Σ|w·x| per output.
  const size_t rb = kint::weight_row_bytes(t, cols);
  std::vector<double> yd(static_cast<size_t>(kMaxM * rows)), mag(yd.size());
  std::vector<float> wrow(static_cast<size_t>(cols));
  for (int64_t j = 0; j < rows; ++j) {
    kint::dequant_row_scalar(t, wbytes.data() + j * rb, wrow.data(), cols);
    for (int64_t i = 0; i < kMaxM; ++i) {
      double s = 0.0, a = 0.0;
      for (int64_t k = 0; k < cols; ++k) {
        const double p = static_cast<double>(wrow[k]) * x[static_cast<size_t>(i * cols + k)];
        s += p;
        a += std::fabs(p);
      }
      yd[static_cast<size_t>(i * rows + j)] = s + (bp ? bp[j] : 0.0);
      mag[static_cast<size_t>(i * rows + j)] = a + (bp ? std::fabs(bp[j]) : 0.0) + 1e-30;
    }
  }

  for (MatmulPrecision prec : {MatmulPrecision::kActivationsQ8, MatmulPrecision::kF32}) {
    const bool int_path = kint::is_quant(t) && prec == MatmulPrecision::kActivationsQ8;
    std::vector<float> yref(static_cast<size_t>(kMaxM * rows));
    matmul_ref(w, x.data(), kMaxM, yref.data(), bp, prec);
    // The reference itself against the double sums: exact-ish for f32, q8 rounding for int path.
    for (size_t e = 0; e < yref.size(); ++e) {
      const double tol = (int_path ? 2e-2 : 1e-5) * mag[e];
      if (!(std::fabs(yref[e] - yd[e]) <= tol)) {
        std::printf("     %s %s rows=%lld cols=%lld: ref[%zu]=%g double=%g mag=%g\n", tname(t),
                    int_path ? "q8" : "f32", (long long)rows, (long long)cols, e, yref[e], yd[e],
                    mag[e]);
        CHECK(false);
      }
    }
    int which = 0;
    for (int64_t m : {1, 2, 3, 5, 17, 64}) {
      ThreadPool* pool = (which++ % 3 == 0) ? nullptr : (m % 2 ? pool3 : pool2);
      std::vector<float> y(static_cast<size_t>(m * rows), -12345.0f);
      matmul(w, x.data(), m, y.data(), bp, pool, prec);
      for (size_t e = 0; e < y.size(); ++e) {
        double err, tol;
        if (int_path) {
          // Same integers as the reference: only the f32 accumulation order differs.
          err = std::fabs(static_cast<double>(y[e]) - yref[e]);
          tol = 2e-6 * mag[e];
          st.worst_q8 = std::max(st.worst_q8, err / mag[e]);
        } else {
          err = std::fabs(static_cast<double>(y[e]) - yd[e]);
          tol = 1e-5 * mag[e];
          st.worst_f32 = std::max(st.worst_f32, err / mag[e]);
        }
        if (!(err <= tol)) {
          std::printf("     %s %s m=%lld rows=%lld cols=%lld: y[%zu]=%.9g ref=%.9g double=%.9g "
                      "mag=%g\n",
                      tname(t), int_path ? "q8" : "f32", (long long)m, (long long)rows,
                      (long long)cols, e, y[e], yref[e], yd[e], mag[e]);
          CHECK(false);
        }
      }
    }
  }
}

}  // namespace

TEST(kernels_family_name) {
  std::printf("     kernel family: %s\n", kernel_family());
  CHECK(std::strlen(kernel_family()) > 0);
}

TEST(kernels_fp16_conversions) {
  // half -> float -> half round trip for every non-nan half; nan stays nan.
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = kint::half_to_float(static_cast<uint16_t>(h));
    const bool is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
    if (is_nan) {
      CHECK(std::isnan(f));
    } else {
      CHECK(kint::float_to_half(f) == h);
    }
  }
  // Rounding to nearest even, overflow, underflow.
  CHECK(kint::float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie -> even
  CHECK(kint::float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);
  CHECK(kint::float_to_half(65504.0f) == 0x7bff);
  CHECK(kint::float_to_half(65520.0f) == 0x7c00);
  CHECK(kint::float_to_half(std::ldexp(1.0f, -25)) == 0x0000);
  CHECK(kint::float_to_half(std::ldexp(1.5f, -25)) == 0x0001);
  CHECK(kint::float_to_half(-std::ldexp(1.0f, -24)) == 0x8001);
  CHECK(kint::half_to_float(0x3555) == 0.333251953125f);
  // The family's row widening (SIMD where available) equals the scalar one bit for bit.
  std::vector<uint16_t> all(65536 + 5);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i * 40503u);
  for (GgmlType t : {GgmlType::F16, GgmlType::BF16}) {
    std::vector<float> a(all.size()), b(all.size());
    // Also from an odd address (weights are not aligned).
    std::vector<uint8_t> raw(all.size() * 2 + 1);
    std::memcpy(raw.data() + 1, all.data(), all.size() * 2);
    kint::fam::to_f32_row(t, raw.data() + 1, a.data(), static_cast<int64_t>(all.size()));
    kint::dequant_row_scalar(t, all.data(), b.data(), static_cast<int64_t>(all.size()));
    CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
  }
}

TEST(kernels_dequant_formulas) {
  // One hand-made block per type against the formulas of research/chatllm-qwen3-asr.md §1.8.
  BlockQ4_0 b0;
  b0.d = kint::float_to_half(0.5f);
  for (int j = 0; j < 16; ++j) b0.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  kint::dequant_row_scalar(GgmlType::Q4_0, &b0, out, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(out[j] == (j - 8) * 0.5f);
    CHECK(out[j + 16] == (15 - j - 8) * 0.5f);
  }
  BlockQ4_1 b1;
  b1.d = kint::float_to_half(0.25f);
  b1.m = kint::float_to_half(-1.0f);
  for (int j = 0; j < 16; ++j) b1.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  kint::dequant_row_scalar(GgmlType::Q4_1, &b1, out, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(out[j] == j * 0.25f - 1.0f);
    CHECK(out[j + 16] == (15 - j) * 0.25f - 1.0f);
  }
  BlockQ8_0 b8;
  b8.d = kint::float_to_half(0.125f);
  for (int j = 0; j < 32; ++j) b8.qs[j] = static_cast<int8_t>(j * 8 - 128);
  kint::dequant_row_scalar(GgmlType::Q8_0, &b8, out, 32);
  for (int j = 0; j < 32; ++j) CHECK(out[j] == (j * 8 - 128) * 0.125f);
}

TEST(kernels_quantize_q8_0_bit_exact) {
  Rng rng(7);
  for (int64_t n : {32, 64, 96, 1024, 4096}) {
    std::vector<float> x = make_acts(1, n, rng);
    // Exact ties at .5 multiples of d: amax = 127 * 1 so d = 1 exactly and x*id = x.
    for (int j = 0; j < 32; ++j) x[static_cast<size_t>(j)] = j == 0 ? 127.0f : (j - 16) + 0.5f;
    if (n >= 64) {
      // Subnormals.
      for (int j = 32; j < 64; ++j) x[static_cast<size_t>(j)] = std::ldexp(1.0f, -140) * (j - 48);
    }
    std::vector<BlockQ8_0> a(static_cast<size_t>(n / 32)), b(a.size());
    quantize_row_q8_0(x.data(), a.data(), n);
    quantize_row_q8_0_ref(x.data(), b.data(), n);
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(BlockQ8_0)) == 0);
    // Tie handling is round-half-to-even: 0.5 -> 0, 1.5 -> 2, -0.5 -> 0, -1.5 -> -2.
    CHECK(b[0].qs[16] == 0);
    CHECK(b[0].qs[17] == 2);
    CHECK(b[0].qs[15] == 0);
    CHECK(b[0].qs[14] == -2);
    CHECK(b[0].qs[0] == 127);
  }
}

TEST(kernels_quantize_q4_0_ref) {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = (j - 12) * 0.25f;  // max |x| = 19*0.25 at j = 31
  BlockQ4_0 b;
  quantize_row_q4_0_ref(x, &b, 32);
  const float d = kint::half_to_float(b.d);
  CHECK(d == 4.75f / -8.0f);
  float back[32];
  kint::dequant_row_scalar(GgmlType::Q4_0, &b, back, 32);
  for (int j = 0; j < 32; ++j) CHECK(std::fabs(back[j] - x[j]) <= std::fabs(d) * 0.5f + 1e-6f);
  CHECK((b.qs[15] >> 4) == 0);  // the max element maps to code 0 (value -8·d)
}

TEST(kernels_matmul_all_types) {
  auto pool2 = make_pool(2);
  for (GgmlType t : kAllTypes) {
    Stats st;
    Rng rng(static_cast<uint64_t>(t) + 100);
    for (int64_t rows : {1, 7, 33, 257})
      for (int64_t cols : {32, 64, 896, 3584}) {
        auto pool3 = make_pool(3);
        check_matmul_config(t, rows, cols, pool2.get(), pool3.get(), rng, st);
      }
    std::printf("     %-5s worst |err|/sum|w·x|: integer path %.2e, f32 path %.2e\n", tname(t),
                st.worst_q8, st.worst_f32);
  }
}

TEST(kernels_matmul_thread_count_independent) {
  Rng rng(99);
  for (GgmlType t :
       {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0, GgmlType::F16, GgmlType::F32}) {
    const int64_t rows = 301, cols = 1024;
    const std::vector<uint8_t> wb = make_weights(t, rows, cols, rng);
    WeightMatrix w;
    w.type = t;
    w.data = wb.data();
    w.rows = rows;
    w.cols = cols;
    for (int64_t m : {1, 6, 130}) {
      const std::vector<float> x = make_acts(m, cols, rng);
      std::vector<float> y0(static_cast<size_t>(m * rows));
      matmul(w, x.data(), m, y0.data(), nullptr, nullptr);
      for (int n : {1, 2, 3, 4}) {
        auto pool = make_pool(n);
        std::vector<float> y(y0.size());
        matmul(w, x.data(), m, y.data(), nullptr, pool.get());
        CHECK(std::memcmp(y.data(), y0.data(), y.size() * 4) == 0);
      }
      // Row i of a batch equals the same row computed alone (the GEMV and GEMM tiles agree).
      std::vector<float> y1(static_cast<size_t>(rows));
      matmul(w, x.data() + (m - 1) * cols, 1, y1.data(), nullptr, nullptr);
      CHECK(std::memcmp(y1.data(), y0.data() + (m - 1) * rows, y1.size() * 4) == 0);
    }
  }
}

TEST(kernels_matmul_unaligned_weights) {
  // Weight payloads are only 16-byte aligned in the file and blocks are 18/20/34 bytes: run
  // from every offset 0..3 (f16/bf16/quantised; f32 rows must stay 4-byte aligned, offsets of
  // 4..12 bytes) and check the results do not change.
  Rng rng(5);
  for (GgmlType t : kAllTypes) {
    const int64_t rows = 9, cols = 96;
    const std::vector<uint8_t> wb = make_weights(t, rows, cols, rng);
    const std::vector<float> x = make_acts(5, cols, rng);
    std::vector<float> y0(5 * rows);
    for (int off = 0; off < 4; ++off) {
      const size_t byte_off = static_cast<size_t>(t == GgmlType::F32 ? 4 * off : off);
      // Allocated as floats so the base is 4-byte aligned for the f32 case.
      std::vector<float> shifted_buf((wb.size() + 16) / 4 + 1);
      uint8_t* shifted = reinterpret_cast<uint8_t*>(shifted_buf.data());
      std::memcpy(shifted + byte_off, wb.data(), wb.size());
      WeightMatrix w;
      w.type = t;
      w.data = shifted + byte_off;
      w.rows = rows;
      w.cols = cols;
      std::vector<float> y(5 * rows);
      matmul(w, x.data(), 5, y.data(), nullptr, nullptr);
      if (off == 0) y0 = y;
      CHECK(std::memcmp(y.data(), y0.data(), y.size() * 4) == 0);
    }
  }
}

TEST(kernels_gemm_f32_nt) {
  Rng rng(11);
  auto pool = make_pool(2);
  struct Shape { int64_t m, n, k; };
  const Shape shapes[] = {{1, 1, 1},   {3, 5, 9},     {64, 48, 9},  {33, 17, 64},
                          {7, 130, 128}, {50, 37, 3},  {5, 6, 4320}, {17, 33, 1000},
                          {2, 2, 31},  {130, 9, 33}, {0, 5, 8}};
  for (const Shape& s : shapes) {
    std::vector<float> a(static_cast<size_t>(s.m * s.k)), b(static_cast<size_t>(s.n * s.k));
    for (auto& v : a) v = rng.sym();
    for (auto& v : b) v = rng.sym();
    std::vector<float> c(static_cast<size_t>(s.m * s.n)), cr(c.size()), c1(c.size());
    gemm_f32_nt(a.data(), b.data(), c.data(), s.m, s.n, s.k, pool.get());
    gemm_f32_nt(a.data(), b.data(), c1.data(), s.m, s.n, s.k, nullptr);
    gemm_f32_nt_ref(a.data(), b.data(), cr.data(), s.m, s.n, s.k);
    CHECK(c.empty() || std::memcmp(c.data(), c1.data(), c.size() * 4) == 0);
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) {
        double exact = 0.0, mag = 1e-30;
        for (int64_t k = 0; k < s.k; ++k) {
          const double p = static_cast<double>(a[static_cast<size_t>(i * s.k + k)]) *
                           b[static_cast<size_t>(j * s.k + k)];
          exact += p;
          mag += std::fabs(p);
        }
        CHECK_NEAR(c[static_cast<size_t>(i * s.n + j)], exact, 1e-5 * mag);
        CHECK_NEAR(cr[static_cast<size_t>(i * s.n + j)], exact, 1e-5 * mag);
      }
  }
}

TEST(kernels_dot_axpy) {
  Rng rng(3);
  for (int64_t n : {0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 100, 1024, 4099}) {
    std::vector<float> a(static_cast<size_t>(n) + 1), b(static_cast<size_t>(n) + 1);
    for (auto& v : a) v = rng.sym();
    for (auto& v : b) v = rng.sym();
    double exact = 0.0, mag = 1e-30;
    for (int64_t i = 0; i < n; ++i) {
      exact += static_cast<double>(a[i]) * b[i];
      mag += std::fabs(static_cast<double>(a[i]) * b[i]);
    }
    // From an unaligned start too.
    CHECK_NEAR(dot_f32(a.data(), b.data(), n), exact, 1e-5 * mag);
    CHECK_NEAR(dot_f32_ref(a.data(), b.data(), n), exact, 1e-5 * mag);
    if (n > 0) {
      CHECK_NEAR(dot_f32(a.data() + 1, b.data() + 1, n - 1),
                 dot_f32_ref(a.data() + 1, b.data() + 1, n - 1), 1e-5 * mag);
    }
    std::vector<float> y(b), yr(b);
    axpy_f32(0.375f, a.data() + 1, y.data(), n);
    for (int64_t i = 0; i < n; ++i) yr[i] += 0.375f * a[i + 1];
    CHECK(std::memcmp(y.data(), yr.data(), y.size() * 4) == 0);
  }
}

TEST(kernels_q4_0_packed_layout) {
  // pack_q4_0_x4 only moves bytes: dequantised rows, the row accessor and matmul (both
  // precisions, any family; families that do not read the layout fall back to matmul_ref) give
  // what the q4_0 original gives, bit for bit.
  Rng rng(41);
  const int64_t rows = 37, cols = 384;
  std::vector<float> src(static_cast<size_t>(rows * cols));
  for (auto& v : src) v = rng.sym();
  std::vector<uint8_t> q(static_cast<size_t>(rows) * (cols / 32) * sizeof(BlockQ4_0));
  for (int64_t r = 0; r < rows; ++r) {
    quantize_row_q4_0_ref(src.data() + r * cols, reinterpret_cast<BlockQ4_0*>(q.data()) + r * (cols / 32), cols);
  }
  std::vector<uint8_t> p(q);
  ThreadPool pool(2);
  pack_q4_0_x4(p.data(), rows, cols, &pool);
  CHECK(p != q);
  WeightMatrix wq{GgmlType::Q4_0, q.data(), rows, cols}, wp{GgmlType::Q4_0_X4, p.data(), rows, cols};
  std::vector<float> a(static_cast<size_t>(cols)), b(a), c(a);
  for (int64_t r = 0; r < rows; r += 5) {
    dequantize_row(GgmlType::Q4_0, q.data() + r * row_bytes(GgmlType::Q4_0, cols), a.data(), cols);
    dequantize_row(GgmlType::Q4_0_X4, p.data() + r * row_bytes(GgmlType::Q4_0_X4, cols), b.data(), cols);
    weight_row_f32(wp, r, c.data());
    CHECK(a == b && a == c);
  }
  for (int64_t m : {1, 3, 9}) {
    std::vector<float> x(static_cast<size_t>(m * cols));
    for (auto& v : x) v = rng.sym();
    for (MatmulPrecision pr : {MatmulPrecision::kActivationsQ8, MatmulPrecision::kF32}) {
      std::vector<float> y0(static_cast<size_t>(m * rows)), y1(y0), y2(y0);
      matmul_ref(wq, x.data(), m, y0.data(), nullptr, pr);
      matmul_ref(wp, x.data(), m, y1.data(), nullptr, pr);
      matmul(wp, x.data(), m, y2.data(), nullptr, &pool, pr);
      CHECK(y0 == y1);
      for (size_t i = 0; i < y0.size(); ++i) CHECK_NEAR(y2[i], y0[i], 1e-4 * (1 + std::fabs(y0[i])));
    }
  }
}

TEST(kernels_matmul_shared_input) {
  // One job for q/k/v-like products = separate matmul calls, bit for bit (m = 1 is decode; 70
  // spans two activation blocks), with biases and mixed row counts; f32 falls back per product.
  Rng rng(43);
  const int64_t cols = 256;
  const int64_t rows[3] = {96, 40, 40};
  std::vector<std::vector<uint8_t>> data(3);
  std::vector<WeightMatrix> w(3);
  std::vector<std::vector<float>> bias(3);
  for (int o = 0; o < 3; ++o) {
    std::vector<float> f(static_cast<size_t>(rows[o] * cols));
    for (auto& v : f) v = rng.sym();
    data[o].resize(static_cast<size_t>(rows[o]) * (cols / 32) * sizeof(BlockQ4_0));
    quantize_row_q4_0_ref(f.data(), reinterpret_cast<BlockQ4_0*>(data[o].data()), rows[o] * cols);
    w[o] = WeightMatrix{GgmlType::Q4_0, data[o].data(), rows[o], cols};
    for (int64_t j = 0; j < rows[o]; ++j) bias[o].push_back(rng.sym());
  }
  ThreadPool pool(2);
  for (int64_t m : {1, 5, 70}) {
    for (MatmulPrecision pr : {MatmulPrecision::kActivationsQ8, MatmulPrecision::kF32}) {
      std::vector<float> x(static_cast<size_t>(m * cols));
      for (auto& v : x) v = rng.sym();
      std::vector<std::vector<float>> y(3), want(3);
      MatmulOut outs[3];
      for (int o = 0; o < 3; ++o) {
        y[o].assign(static_cast<size_t>(m * rows[o]), -1.0f);
        want[o] = y[o];
        matmul(w[o], x.data(), m, want[o].data(), o == 1 ? nullptr : bias[o].data(), &pool, pr);
        outs[o] = MatmulOut{&w[o], y[o].data(), o == 1 ? nullptr : bias[o].data()};
      }
      matmul_shared_input(outs, 3, x.data(), m, &pool, pr);
      for (int o = 0; o < 3; ++o) CHECK(std::memcmp(y[o].data(), want[o].data(), y[o].size() * 4) == 0);
    }
  }
}

// Inputs for the elementwise functions: a dense sweep, the saturation edges, signed zeros,
// subnormals and extremes.
std::vector<float> elementwise_inputs() {
  std::vector<float> x;
  for (float v = -120.0f; v <= 120.0f; v += 0.0071f) x.push_back(v);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-42f, -87.0f, -87.0001f, -86.9999f, 88.0f, 88.0001f,
                  3e38f, -3e38f, INFINITY, -INFINITY})
    x.push_back(v);
  return x;
}

TEST(kernels_elementwise_bit_exact) {
  // The family's SIMD forms (any length, any start, split over a pool) equal the scalar
  // references bit for bit: what lets native and WASM builds agree.
  const std::vector<float> x = elementwise_inputs();
  const std::vector<float> u(x.rbegin(), x.rend());
  ThreadPool pool(2);
  for (int64_t off : {0, 1, 3}) {
    const int64_t n = static_cast<int64_t>(x.size()) - off;
    std::vector<float> a(x.begin() + off, x.end()), b(a);
    gelu_erf_inplace(a.data(), n, &pool);
    gelu_erf_ref(b.data(), n);
    CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
    std::vector<float> s(static_cast<size_t>(n)), sr(s);
    silu_mul(x.data() + off, u.data(), s.data(), n, &pool);
    silu_mul_ref(x.data() + off, u.data(), sr.data(), n);
    CHECK(std::memcmp(s.data(), sr.data(), s.size() * 4) == 0);
    std::vector<float> e(x.begin() + off, x.end()), er(e);
    exp_shifted_inplace(e.data(), n, 2.5f);
    exp_shifted_ref(er.data(), n, 2.5f);
    CHECK(std::memcmp(e.data(), er.data(), e.size() * 4) == 0);
  }
  // NaN stays NaN.
  float nan3[3] = {NAN, NAN, NAN};
  exp_shifted_inplace(nan3, 3, 0.0f);
  CHECK(std::isnan(nan3[0]) && std::isnan(nan3[2]));
}

TEST(kernels_exp_and_silu_accuracy) {
  double worst = 0, worst_silu = 0;
  for (float v = -86.9f; v <= 88.0f; v += 0.00113f) {
    const double want = std::exp(static_cast<double>(v));
    worst = std::fmax(worst, std::fabs(kint::exp_f32(v) - want) / want);
    const double s = v / (1.0 + std::exp(-static_cast<double>(v)));
    worst_silu = std::fmax(worst_silu, std::fabs(kint::silu_mul_f32(v, 1.0f) - s) / std::fmax(std::fabs(s), 1e-30));
  }
  std::printf("     exp max relative error %.2e, silu %.2e\n", worst, worst_silu);
  CHECK(worst < 3e-7);
  CHECK(worst_silu < 5e-7);
  CHECK(kint::exp_f32(-87.5f) == 0.0f && kint::exp_f32(0.0f) == 1.0f);
  CHECK(std::isfinite(kint::exp_f32(1000.0f)) && kint::exp_f32(1000.0f) == kint::exp_f32(88.0f));
}

TEST(kernels_matmul_edge_shapes) {
  // m = 0 writes nothing; bias only; rows not a multiple of any tile.
  Rng rng(17);
  const std::vector<uint8_t> wb = make_weights(GgmlType::Q4_0, 5, 64, rng);
  WeightMatrix w;
  w.type = GgmlType::Q4_0;
  w.data = wb.data();
  w.rows = 5;
  w.cols = 64;
  float y[5] = {1, 2, 3, 4, 5};
  matmul(w, nullptr, 0, y, nullptr, nullptr);
  CHECK(y[0] == 1 && y[4] == 5);
  const std::vector<float> x(64, 0.0f);
  const float bias[5] = {0.5f, -1, 2, 3, 4};
  matmul(w, x.data(), 1, y, bias, nullptr);
  for (int j = 0; j < 5; ++j) CHECK(y[j] == bias[j]);
}
