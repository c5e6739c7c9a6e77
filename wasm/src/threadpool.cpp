// ThreadPool (threadpool.h): a persistent pool of n-1 worker threads plus the calling thread.
//
// One job at a time: the caller publishes (n_tasks, fn), bumps a generation counter, runs tasks
// itself, then waits until every worker has checked out of the job. Tasks are claimed with an
// atomic counter. Workers spin on the generation counter for a short while after each job (a
// decode step dispatches ~200 small matmuls per token, so waking from a futex every time would
// cost more than the work) and then sleep on a condition variable. Because the caller waits for
// every worker to check out, no worker can still be reading a job's fields when the next job is
// written, so the job fields need no per-generation copies.
//
// Without pthreads in a WASM build (__EMSCRIPTEN__ && !__EMSCRIPTEN_PTHREADS__) std::thread
// aborts at run time, so that build has no workers and runs every job inline on the caller.
#include "threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define QASR_POOL_INLINE_ONLY 1
#else
#define QASR_POOL_INLINE_ONLY 0
#endif

namespace qasr {

namespace {

// Index of the current thread inside the pool whose job it is running (0 = caller).
thread_local int t_thread_index = 0;
// True while this thread is executing tasks of some pool: a nested parallel_for runs inline.
thread_local bool t_in_job = false;

#if !QASR_POOL_INLINE_ONLY
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// How long an idle worker keeps spinning before it sleeps, and how often it reads the clock.
constexpr auto kSpinBudget = std::chrono::microseconds(1000);
constexpr int kSpinsPerClockRead = 256;
#endif

void run_inline(int n_tasks, const std::function<void(int, int)>& fn) {
  const int thread = t_thread_index;
  for (int t = 0; t < n_tasks; ++t) fn(t, thread);
}

}  // namespace

#if QASR_POOL_INLINE_ONLY

struct ThreadPool::Impl {};

ThreadPool::ThreadPool(int /*n_threads*/) : impl_(nullptr) {}
ThreadPool::~ThreadPool() = default;
int ThreadPool::size() const { return 1; }

void ThreadPool::parallel_for(int n_tasks, const std::function<void(int, int)>& fn) {
  if (n_tasks > 0) run_inline(n_tasks, fn);
}

int max_threads_for_build() { return 1; }

#else

struct ThreadPool::Impl {
  explicit Impl(int n) : n_threads(n) {}

  void worker_main(int index);
  // Claims and runs tasks of the current job until none is left.
  void run_tasks(int thread) {
    const int n = n_tasks;
    const std::function<void(int, int)>& f = *fn;
    for (;;) {
      const int t = next_task.fetch_add(1, std::memory_order_relaxed);
      if (t >= n) break;
      f(t, thread);
    }
  }

  const int n_threads;
  std::vector<std::thread> workers;
  std::mutex dispatch_mu;  // serialises parallel_for calls from different external threads

  // Job description: written by the caller only while no worker is inside a job.
  int n_tasks = 0;
  const std::function<void(int, int)>* fn = nullptr;
  bool stop = false;

  alignas(64) std::atomic<uint32_t> generation{0};
  alignas(64) std::atomic<int> next_task{0};
  alignas(64) std::atomic<int> workers_done{0};
  alignas(64) std::atomic<int> sleepers{0};
  std::mutex sleep_mu;
  std::condition_variable sleep_cv;
};

void ThreadPool::Impl::worker_main(int index) {
  t_thread_index = index;
  uint32_t seen = 0;
  for (;;) {
    // Wait for a new generation: spin first, then sleep.
    uint32_t g = generation.load(std::memory_order_acquire);
    if (g == seen) {
      auto start = std::chrono::steady_clock::now();
      int spins = 0;
      for (;;) {
        cpu_relax();
        g = generation.load(std::memory_order_acquire);
        if (g != seen) break;
        if (++spins == kSpinsPerClockRead) {
          spins = 0;
          if (std::chrono::steady_clock::now() - start > kSpinBudget) break;
        }
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lk(sleep_mu);
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        while ((g = generation.load(std::memory_order_seq_cst)) == seen) sleep_cv.wait(lk);
        sleepers.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    seen = g;
    if (stop) return;  // ordered by the acquire load of generation
    t_in_job = true;
    run_tasks(index);
    t_in_job = false;
    workers_done.fetch_add(1, std::memory_order_release);
  }
}

ThreadPool::ThreadPool(int n_threads) : impl_(new Impl(std::max(1, n_threads))) {
  const int n = impl_->n_threads;
  impl_->workers.reserve(static_cast<size_t>(n - 1));
  for (int i = 1; i < n; ++i) impl_->workers.emplace_back([this, i] { impl_->worker_main(i); });
}

ThreadPool::~ThreadPool() {
  if (!impl_->workers.empty()) {
    std::lock_guard<std::mutex> dl(impl_->dispatch_mu);
    impl_->stop = true;
    impl_->generation.fetch_add(1, std::memory_order_seq_cst);
    { std::lock_guard<std::mutex> lk(impl_->sleep_mu); }
    impl_->sleep_cv.notify_all();
    for (auto& w : impl_->workers) w.join();
  }
  delete impl_;
}

int ThreadPool::size() const { return impl_->n_threads; }

void ThreadPool::parallel_for(int n_tasks, const std::function<void(int, int)>& fn) {
  if (n_tasks <= 0) return;
  Impl& p = *impl_;
  if (p.n_threads == 1 || n_tasks == 1 || t_in_job) {
    run_inline(n_tasks, fn);
    return;
  }
  std::lock_guard<std::mutex> dl(p.dispatch_mu);
  p.n_tasks = n_tasks;
  p.fn = &fn;
  p.next_task.store(0, std::memory_order_relaxed);
  p.workers_done.store(0, std::memory_order_relaxed);
  p.generation.fetch_add(1, std::memory_order_seq_cst);  // publishes the job (release)
  if (p.sleepers.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> lk(p.sleep_mu); }
    p.sleep_cv.notify_all();
  }
  const int saved_index = t_thread_index;
  t_thread_index = 0;
  t_in_job = true;
  p.run_tasks(0);
  t_in_job = false;
  t_thread_index = saved_index;
  const int n_workers = p.n_threads - 1;
  int spins = 0;
  while (p.workers_done.load(std::memory_order_acquire) != n_workers) {
    if (++spins < 4096) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

int max_threads_for_build() {
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

#endif  // QASR_POOL_INLINE_ONLY

void ThreadPool::parallel_range(int n, const std::function<void(int, int, int)>& fn) {
  if (n <= 0) return;
  const int parts = std::min(n, size());
  parallel_for(parts, [&](int task, int thread) {
    const int begin = static_cast<int>(static_cast<int64_t>(n) * task / parts);
    const int end = static_cast<int>(static_cast<int64_t>(n) * (task + 1) / parts);
    fn(begin, end, thread);
  });
}

}  // namespace qasr
