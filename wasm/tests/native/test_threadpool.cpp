// Tests of ThreadPool (threadpool.h): every task runs exactly once, thread indices stay in range,
// uneven splits, n_tasks 0 and 1, parallel_range coverage, nested calls, real parallelism
// (2+ distinct threads when the build has threads), and the dispatch overhead of many tiny jobs.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "kernels.h"
#include "test.h"
#include "threadpool.h"

using qasr::ThreadPool;

namespace {

// Pools tested: 1, 2, 4 threads, but never more than the build can run (WASM MT: the pthread
// pool size; ST: 1). Only one pool is alive at a time.
std::vector<int> pool_sizes() {
  std::vector<int> v;
  for (int n : {1, 2, 4})
    if (n == 1 || qasr::max_threads_for_build() > 1) v.push_back(n);
  return v;
}

}  // namespace

TEST(threadpool_every_task_once) {
  for (int n : pool_sizes()) {
    ThreadPool pool(n);
    CHECK(pool.size() == (qasr::max_threads_for_build() > 1 ? n : 1));
    for (int n_tasks : {0, 1, 2, 3, 5, 7, 16, 33, 100, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n_tasks) + 1);
      for (auto& h : hits) h.store(0);
      std::atomic<int> bad_thread{0};
      pool.parallel_for(n_tasks, [&](int task, int thread) {
        hits[static_cast<size_t>(task)].fetch_add(1);
        if (thread < 0 || thread >= pool.size()) bad_thread.fetch_add(1);
      });
      for (int t = 0; t < n_tasks; ++t) CHECK(hits[static_cast<size_t>(t)].load() == 1);
      CHECK(hits[static_cast<size_t>(n_tasks)].load() == 0);
      CHECK(bad_thread.load() == 0);
    }
  }
}

TEST(threadpool_single_task_runs_on_caller) {
  for (int n : pool_sizes()) {
    ThreadPool pool(n);
    int runs = 0, seen_thread = -1;
    std::thread::id who;
    pool.parallel_for(1, [&](int task, int thread) {
      ++runs;
      seen_thread = thread;
      who = std::this_thread::get_id();
      CHECK(task == 0);
    });
    CHECK(runs == 1);
    CHECK(seen_thread == 0);
    CHECK(who == std::this_thread::get_id());
    pool.parallel_for(0, [&](int, int) { ++runs; });
    pool.parallel_for(-3, [&](int, int) { ++runs; });
    CHECK(runs == 1);
  }
}

TEST(threadpool_parallel_range_covers_exactly) {
  for (int n : pool_sizes()) {
    ThreadPool pool(n);
    for (int len : {0, 1, 2, 3, 5, 7, 10, 101, 1024}) {
      std::vector<int> hit(static_cast<size_t>(len), 0);
      std::mutex mu;
      int parts = 0;
      int bad = 0;
      pool.parallel_range(len, [&](int b, int e, int thread) {
        std::lock_guard<std::mutex> lk(mu);
        if (b >= e || thread < 0 || thread >= pool.size()) ++bad;
        ++parts;
        for (int i = b; i < e; ++i) ++hit[static_cast<size_t>(i)];
      });
      for (int i = 0; i < len; ++i) CHECK(hit[static_cast<size_t>(i)] == 1);
      CHECK(bad == 0);
      CHECK(parts <= pool.size());
      CHECK(len == 0 ? parts == 0 : parts == std::min(len, pool.size()));
    }
  }
}

TEST(threadpool_uneven_task_costs) {
  for (int n : pool_sizes()) {
    ThreadPool pool(n);
    for (int rep = 0; rep < 20; ++rep) {
      const int n_tasks = 3 + rep * 7;
      std::vector<double> out(static_cast<size_t>(n_tasks), 0.0);
      pool.parallel_for(n_tasks, [&](int task, int) {
        // Task cost grows with its index: uneven work.
        double acc = 0.0;
        for (int i = 0; i < (task % 5) * 2000 + 10; ++i) acc += 1.0 / (1.0 + i + task);
        out[static_cast<size_t>(task)] = acc;
      });
      for (int t = 0; t < n_tasks; ++t) {
        double acc = 0.0;
        for (int i = 0; i < (t % 5) * 2000 + 10; ++i) acc += 1.0 / (1.0 + i + t);
        CHECK(out[static_cast<size_t>(t)] == acc);
      }
    }
  }
}

TEST(threadpool_nested_call_runs_inline) {
  for (int n : pool_sizes()) {
    ThreadPool pool(n);
    std::vector<std::atomic<int>> hits(64);
    for (auto& h : hits) h.store(0);
    std::atomic<int> bad{0};
    pool.parallel_for(8, [&](int outer, int thread) {
      pool.parallel_for(8, [&](int inner, int inner_thread) {
        if (inner_thread != thread) bad.fetch_add(1);
        hits[static_cast<size_t>(outer * 8 + inner)].fetch_add(1);
      });
    });
    for (auto& h : hits) CHECK(h.load() == 1);
    CHECK(bad.load() == 0);
  }
}

TEST(threadpool_real_parallelism) {
  std::printf("     kernel family %s, max_threads_for_build() = %d, caller thread %s\n",
              qasr::kernel_family(), qasr::max_threads_for_build(),
              [] {
                std::ostringstream s;
                s << std::this_thread::get_id();
                return s.str();
              }()
                  .c_str());
  if (qasr::max_threads_for_build() < 2) {
    std::printf("     (build without threads: jobs run inline)\n");
    return;
  }
  for (int n : {2, 4}) {
    ThreadPool pool(n);
    // Each task waits (bounded) until all n tasks have started: only possible if n threads run
    // them at the same time.
    std::atomic<int> arrived{0};
    std::mutex mu;
    std::set<std::thread::id> ids;
    std::set<int> indices;
    pool.parallel_for(n, [&](int, int thread) {
      arrived.fetch_add(1);
      const auto t0 = std::chrono::steady_clock::now();
      while (arrived.load() < n &&
             std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
      }
      std::lock_guard<std::mutex> lk(mu);
      ids.insert(std::this_thread::get_id());
      indices.insert(thread);
    });
    std::ostringstream s;
    for (auto& id : ids) s << id << ' ';
    std::printf("     pool of %d: %zu distinct threads ran tasks concurrently: %s\n", n, ids.size(),
                s.str().c_str());
    CHECK(arrived.load() == n);
    CHECK(static_cast<int>(ids.size()) == n);
    CHECK(static_cast<int>(indices.size()) == n);
  }
}

TEST(threadpool_dispatch_overhead) {
  for (int n : pool_sizes()) {
    ThreadPool pool(n);
    std::atomic<int64_t> sum{0};
    const int kCalls = 100000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) {
      pool.parallel_for(pool.size(),
                        [&](int task, int) { sum.fetch_add(task + 1, std::memory_order_relaxed); });
    }
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    const int64_t per_call = static_cast<int64_t>(pool.size()) * (pool.size() + 1) / 2;
    CHECK(sum.load() == per_call * kCalls);
    std::printf("     %d thread(s): %d parallel_for calls of empty tasks, %.3f us/dispatch\n",
                pool.size(), kCalls, us / kCalls);
    // Tasks of ~1 us each (2 per thread): how much of the work the workers pick up, and the
    // overhead above the work itself.
    std::atomic<int64_t> by_workers{0};
    const int kCalls2 = 20000;
    auto busy = [] {
      volatile double acc = 0.0;
      for (int i = 0; i < 300; ++i) acc = acc + 1.0 / (i + 1.0);
    };
    const auto t1 = std::chrono::steady_clock::now();
    for (int i = 0; i < 2 * pool.size() * 1000; ++i) busy();
    const double us_serial = std::chrono::duration<double, std::micro>(
                                 std::chrono::steady_clock::now() - t1).count() / 1000.0;
    const auto t2 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls2; ++i) {
      pool.parallel_for(2 * pool.size(), [&](int, int thread) {
        busy();
        if (thread != 0) by_workers.fetch_add(1, std::memory_order_relaxed);
      });
    }
    const double us2 =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t2).count() /
        kCalls2;
    std::printf("     %d thread(s): job of %d x ~%.2f us tasks: %.2f us/job (serial %.2f us), "
                "%.0f%% of tasks run by workers\n",
                pool.size(), 2 * pool.size(), us_serial / (2 * pool.size()), us2, us_serial,
                100.0 * by_workers.load() / (2.0 * pool.size() * kCalls2));
  }
}

TEST(threadpool_sleep_and_wake) {
  if (qasr::max_threads_for_build() < 2) return;
  ThreadPool pool(2);
  for (int rep = 0; rep < 3; ++rep) {
    // Longer than the spin budget: the worker goes to sleep and must be woken.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::atomic<int> count{0};
    pool.parallel_for(64, [&](int, int) { count.fetch_add(1); });
    CHECK(count.load() == 64);
  }
}

TEST(threadpool_create_destroy_repeatedly) {
  for (int rep = 0; rep < 20; ++rep) {
    ThreadPool pool(std::min(2, qasr::max_threads_for_build()));
    std::atomic<int> count{0};
    pool.parallel_for(10, [&](int, int) { count.fetch_add(1); });
    CHECK(count.load() == 10);
  }
}

TEST(threadpool_more_threads_than_available) {
  // More threads than cores works natively (no spinning then); in WASM MT the pool is clamped to
  // the preloaded pthread workers (4 in the test build) instead of aborting or hanging.
  const int want = std::max(2, qasr::max_threads_for_build()) + 6;
  ThreadPool pool(want);
#if defined(__EMSCRIPTEN__)
  CHECK(pool.size() <= qasr::max_threads_for_build() + 6);
  std::printf("     asked for %d threads, got %d\n", want, pool.size());
#else
  CHECK(pool.size() == want);
#endif
  std::atomic<int> count{0};
  for (int rep = 0; rep < 50; ++rep) pool.parallel_for(37, [&](int, int) { count.fetch_add(1); });
  CHECK(count.load() == 50 * 37);
}
