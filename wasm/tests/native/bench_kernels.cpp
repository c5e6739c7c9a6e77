// Micro-benchmark of the kernels (own main; not part of the test binary). Prints GFLOP/s and
// GB/s (weight bytes streamed) for the matmul shapes of Qwen3-ASR-0.6B: decode-step q4_0 GEMVs
// (q/k/v/o 1024×1024, gate/up 3072×1024, down 1024×3072, lm_head 151936×1024), prefill q4_0
// GEMMs (m = 260 tokens), the f32 conv-stem GEMMs (im2col), plus a memory-bandwidth probe.
// Usage: bench_kernels [cpu] [short] [threads...]   (default threads: 1 2). Times are the best
// of several samples after a warm-up (the first calls of a WASM function run unoptimised code).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <vector>

#include "kernels.h"
#include "kernels_internal.h"
#include "threadpool.h"

#if defined(__EMSCRIPTEN__)
#include <emscripten.h>
#endif

using namespace qasr;

namespace {

// "cpu" on the command line: time with process CPU time instead of wall time, for 1-thread runs
// on a machine busy with other work (natively clock(); in Node process.cpuUsage()).
bool g_cpu_clock = false;
// "short" on the command line: 0.5 ms samples for 3x longer, so that on a machine busy with
// other work the best sample is one where all our threads ran at once (multi-thread runs).
double g_sample_s = 0.005;
double g_budget_scale = 1.0;

#if defined(__EMSCRIPTEN__)
EM_JS(double, js_cpu_seconds, (), {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
});
#endif

double wall_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double now_s() {
#if defined(__EMSCRIPTEN__)
  if (g_cpu_clock) return js_cpu_seconds();
#else
  if (g_cpu_clock) return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
#endif
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}


// Best time of one fn() call: after a warm-up of at least 0.25 s (V8 compiles hot WASM functions
// with TurboFan in the background, and a short benchmark can otherwise finish on baseline
// Liftoff code), samples of k calls (k chosen so a sample lasts >= 5 ms, so clock granularity
// does not matter) are timed for about `budget` seconds; the best sample wins.
double best_time(const std::function<void()>& fn, double budget = 0.6) {
  const double w0 = wall_s();
  int warm = 0;
  while (warm < 2 || wall_s() - w0 < 0.25) {
    fn();
    ++warm;
  }
  const double per_call = (wall_s() - w0) / warm;
  const int k = std::max(1, static_cast<int>(g_sample_s / std::max(per_call, 1e-9)));
  budget *= g_budget_scale;
  double best = 1e30, spent = 0.0;
  int samples = 0;
  while (samples < 3 || spent < budget) {
    const double t0 = now_s();
    for (int i = 0; i < k; ++i) fn();
    const double t = now_s() - t0;
    best = std::min(best, t / k);
    spent += t;
    ++samples;
  }
  return best;
}

uint64_t g_rng = 0x1234567;
uint32_t rnd() {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<uint32_t>(g_rng >> 33);
}

std::vector<uint8_t> random_q4_0(int64_t rows, int64_t cols) {
  std::vector<uint8_t> w(static_cast<size_t>(rows * (cols / 32)) * sizeof(BlockQ4_0));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<uint8_t>(rnd());
  for (size_t b = 0; b < w.size() / sizeof(BlockQ4_0); ++b) {
    const uint16_t d = kint::float_to_half(0.01f);
    std::memcpy(w.data() + b * sizeof(BlockQ4_0), &d, 2);
  }
  return w;
}

std::vector<float> random_f32(size_t n) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rnd() % 2001) / 1000.0f - 1.0f;
  return v;
}

void row(const char* what, int threads, double secs, double flops, double bytes) {
  std::printf("%-44s %2d  %9.3f ms  %8.2f GFLOP/s  %7.2f GB/s\n", what, threads, secs * 1e3,
              flops / secs * 1e-9, bytes / secs * 1e-9);
  std::fflush(stdout);
}

// q4_0 GEMV/GEMM: for GEMV, enough copies of W are cycled that the weights come from DRAM
// (as in a decode step, which streams ~335 MB of weights per token).
void bench_q4_0(const char* name, int64_t rows, int64_t cols, int64_t m, ThreadPool* pool,
                int threads, bool hot = false) {
  const size_t bytes = static_cast<size_t>(rows * (cols / 32)) * sizeof(BlockQ4_0);
  const int copies =
      m == 1 && !hot ? static_cast<int>(std::max<size_t>(1, (192u << 20) / bytes)) : 1;
  std::vector<std::vector<uint8_t>> ws;
  for (int c = 0; c < copies; ++c) ws.push_back(random_q4_0(rows, cols));
  const std::vector<float> x = random_f32(static_cast<size_t>(m * cols));
  std::vector<float> y(static_cast<size_t>(m * rows));
  int next = 0;
  const double t = best_time([&] {
    WeightMatrix w;
    w.type = GgmlType::Q4_0;
    w.data = ws[static_cast<size_t>(next)].data();
    next = (next + 1) % copies;
    w.rows = rows;
    w.cols = cols;
    matmul(w, x.data(), m, y.data(), nullptr, pool);
  });
  row(name, threads, t, 2.0 * rows * cols * m, static_cast<double>(bytes));
}

void bench_f32(const char* name, int64_t m, int64_t n, int64_t k, ThreadPool* pool, int threads) {
  const std::vector<float> a = random_f32(static_cast<size_t>(m * k));
  const std::vector<float> b = random_f32(static_cast<size_t>(n * k));
  std::vector<float> c(static_cast<size_t>(m * n));
  const double t = best_time([&] { gemm_f32_nt(a.data(), b.data(), c.data(), m, n, k, pool); });
  row(name, threads, t, 2.0 * m * n * k, 4.0 * static_cast<double>(n * k));
}

void bench_bandwidth(ThreadPool* pool, int threads) {
  const size_t n = (256u << 20) / 4;
  std::vector<float> buf(n, 0.5f);
  float sink = 0.0f;
  const int parts = threads * 8;
  std::vector<float> partial(static_cast<size_t>(parts));
  const double t = best_time(
      [&] {
        auto fn = [&](int task, int) {
          const size_t b = n * static_cast<size_t>(task) / parts;
          const size_t e = n * static_cast<size_t>(task + 1) / parts;
          partial[static_cast<size_t>(task)] =
              dot_f32(buf.data() + b, buf.data() + b, static_cast<int64_t>(e - b));
        };
        if (pool) {
          pool->parallel_for(parts, fn);
        } else {
          for (int i = 0; i < parts; ++i) fn(i, 0);
        }
        for (float p : partial) sink += p;
      },
      1.0);
  row("memory bandwidth: sum over 256 MB", threads, t, static_cast<double>(n),
      static_cast<double>(n) * 4);
  if (sink == 1.2345f) std::printf("%f\n", sink);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> thread_counts;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "cpu")) {
      g_cpu_clock = true;
    } else if (!std::strcmp(argv[i], "short")) {
      g_sample_s = 0.0005;
      g_budget_scale = 3.0;
    } else {
      thread_counts.push_back(std::atoi(argv[i]));
    }
  }
  if (thread_counts.empty()) thread_counts = {1, 2};
  std::printf("kernel family %s, max_threads_for_build %d\n", kernel_family(),
              max_threads_for_build());
  std::printf("%-44s %2s  %12s  %16s  %12s\n", "benchmark", "th", "best time", "compute",
              "weights");
  for (int threads : thread_counts) {
    if (threads > max_threads_for_build() && threads > 1) {
      std::printf("(skipping %d threads: build supports %d)\n", threads, max_threads_for_build());
      continue;
    }
    std::unique_ptr<ThreadPool> pool(threads > 1 ? new ThreadPool(threads) : nullptr);
    ThreadPool* p = pool.get();
    bench_bandwidth(p, threads);
    bench_q4_0("q4_0 GEMV 1024x1024 (q/k/v/o)", 1024, 1024, 1, p, threads);
    bench_q4_0("q4_0 GEMV 1024x1024 cache-hot", 1024, 1024, 1, p, threads, true);
    bench_q4_0("q4_0 GEMV 3072x1024 (gate/up)", 3072, 1024, 1, p, threads);
    bench_q4_0("q4_0 GEMV 1024x3072 (down)", 1024, 3072, 1, p, threads);
    bench_q4_0("q4_0 GEMV 151936x1024 (lm_head)", 151936, 1024, 1, p, threads);
    bench_q4_0("q4_0 GEMM m=260 1024x1024", 1024, 1024, 260, p, threads);
    bench_q4_0("q4_0 GEMM m=260 3072x1024", 3072, 1024, 260, p, threads);
    bench_f32("f32 GEMM conv1 [3200x9]·[480x9]T", 3200, 480, 9, p, threads);
    bench_f32("f32 GEMM conv2 [800x4320]·[480x4320]T", 800, 480, 4320, p, threads);
    bench_f32("f32 GEMM conv3 [208x4320]·[480x4320]T", 208, 480, 4320, p, threads);
  }
  return 0;
}
