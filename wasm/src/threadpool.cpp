// ThreadPool (threadpool.h): a persistent pool of n-1 worker threads plus the calling thread.
//
// One job at a time. A job is (n_tasks, fn); its tasks are claimed through one 64-bit atomic
// "ticket" = (job generation << 32) | next task index, advanced by compare-and-swap, so a worker
// that wakes up late (still holding an old generation) can never claim a task of a newer job.
// The caller publishes a job by first invalidating the ticket, then writing (n_tasks, fn), then
// storing (generation, 0) with release order; it runs tasks itself and returns once the count of
// finished tasks reaches n_tasks. It never waits for idle workers, so a descheduled worker (busy
// machine, more threads than cores) costs nothing unless it holds a task.
// Idle workers spin on the ticket for up to 200 µs after each job (a decode step dispatches ~200
// small matmuls per token; a futex wake-up per job would cost more than the work), yielding the
// CPU every 64 checks (natively; sched_yield does nothing in WASM), and then sleep on a condition
// variable. With more threads than cores they do not spin at all. The budget is short because a
// spinning worker that shares a core with the caller (a machine busy with other work) slows the
// caller down. WASM MT builds never start more threads than emscripten's preloaded pool has free
// workers (toolchain-notes §1): the pool is clamped instead.
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

#if defined(__EMSCRIPTEN_PTHREADS__)
#include <emscripten.h>
// Workers of emscripten's preloaded pthread pool still unused, or -1 when unknown (called on a
// pthread, where the main thread owns the pool). A thread beyond the pool never starts while the
// creator blocks (toolchain-notes §1 "Threads"), so the pool is clamped to this.
EM_JS(int, qasr_unused_pthread_workers, (), {
  if (typeof ENVIRONMENT_IS_PTHREAD !== 'undefined' && ENVIRONMENT_IS_PTHREAD) return -1;
  if (typeof PThread === 'undefined' || !PThread.unusedWorkers) return -1;
  return PThread.unusedWorkers.length;
});
#endif

namespace qasr {

namespace {

// Index of the current thread inside the pool whose job it is running (0 = caller).
thread_local int t_thread_index = 0;
#if !QASR_POOL_INLINE_ONLY
// True while this thread is executing tasks of some pool: a nested parallel_for runs inline.
thread_local bool t_in_job = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// How long an idle worker keeps spinning before it sleeps, and how often it reads the clock.
constexpr auto kSpinBudget = std::chrono::microseconds(200);
constexpr int kSpinsPerClockRead = 64;  // power of two
constexpr int kPureSpins = 2000;        // caller: pause-spins before yielding while it waits
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
int ThreadPool::size() const {
  (void)impl_;
  return 1;
}

void ThreadPool::parallel_for(int n_tasks, const std::function<void(int, int)>& fn) {
  if (n_tasks > 0) run_inline(n_tasks, fn);
}

int max_threads_for_build() { return 1; }

#else

struct ThreadPool::Impl {
  explicit Impl(int n) : n_threads(n) {}

  static constexpr uint64_t kNoTask = 0xffffffffu;

  void worker_main(int index);
  // Claims and runs tasks of job `gen` until none is left or a newer job replaced it.
  void run_tasks(uint32_t gen, int thread) {
    uint64_t cur = ticket.load(std::memory_order_acquire);
    int n = -1;
    const std::function<void(int, int)>* f = nullptr;
    for (;;) {
      if (static_cast<uint32_t>(cur >> 32) != gen) return;
      const uint64_t idx = cur & 0xffffffffu;
      if (idx == kNoTask) {
        // The job is being published (or the pool is stopping): wait for it to open.
        if (stop.load(std::memory_order_acquire)) return;
        cpu_relax();
        cur = ticket.load(std::memory_order_acquire);
        continue;
      }
      if (n < 0) {
        // First sight of the open job: its description was published before the ticket.
        n = n_tasks.load(std::memory_order_relaxed);
        f = fn.load(std::memory_order_relaxed);
      }
      if (idx >= static_cast<uint64_t>(n)) return;
      if (!ticket.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        continue;
      (*f)(static_cast<int>(idx), thread);
      tasks_done.fetch_add(1, std::memory_order_release);
      cur = ticket.load(std::memory_order_acquire);
    }
  }

  const int n_threads;
  bool spin_allowed = true;  // false when there are more threads than cores
  std::vector<std::thread> workers;
  std::mutex dispatch_mu;  // serialises parallel_for calls from different external threads
  uint32_t generation = 0;  // caller side only (under dispatch_mu)

  // Job description; stale readers are harmless (see the file comment), hence atomics.
  std::atomic<int> n_tasks{0};
  std::atomic<const std::function<void(int, int)>*> fn{nullptr};
  std::atomic<bool> stop{false};

  alignas(64) std::atomic<uint64_t> ticket{kNoTask};
  alignas(64) std::atomic<int> tasks_done{0};
  alignas(64) std::atomic<int> sleepers{0};
  std::mutex sleep_mu;
  std::condition_variable sleep_cv;
};

void ThreadPool::Impl::worker_main(int index) {
  t_thread_index = index;
  uint32_t seen = 0;
  auto gen_of = [](uint64_t t) { return static_cast<uint32_t>(t >> 32); };
  for (;;) {
    // Wait for a new generation: spin (pause, then yield), then sleep.
    uint32_t g = gen_of(ticket.load(std::memory_order_acquire));
    if (g == seen && spin_allowed) {
      const auto start = std::chrono::steady_clock::now();
      int spins = 0;
      for (;;) {
        cpu_relax();
        g = gen_of(ticket.load(std::memory_order_acquire));
        if (g != seen) break;
        if ((++spins & (kSpinsPerClockRead - 1)) == 0) {
          if (std::chrono::steady_clock::now() - start > kSpinBudget) break;
          // Give the core away if another thread (possibly our own caller, on a busy machine)
          // is waiting for it: spinning then only costs a syscall every ~1 µs, whereas a pure
          // spin made 4 × 1 µs jobs 2× slower than serial when the two threads shared a core.
          std::this_thread::yield();
        }
      }
    }
    if (g == seen) {
      std::unique_lock<std::mutex> lk(sleep_mu);
      sleepers.fetch_add(1, std::memory_order_seq_cst);
      while ((g = gen_of(ticket.load(std::memory_order_seq_cst))) == seen) sleep_cv.wait(lk);
      sleepers.fetch_sub(1, std::memory_order_relaxed);
    }
    seen = g;
    if (stop.load(std::memory_order_acquire)) return;
    t_in_job = true;
    run_tasks(g, index);
    t_in_job = false;
  }
}

namespace {
int clamp_to_pthread_pool(int n_threads) {
  n_threads = std::max(1, n_threads);
#if defined(__EMSCRIPTEN_PTHREADS__)
  const int unused = qasr_unused_pthread_workers();
  if (unused >= 0) n_threads = std::min(n_threads, unused + 1);
#endif
  return n_threads;
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : impl_(new Impl(clamp_to_pthread_pool(n_threads))) {
  const int n = impl_->n_threads;
  const unsigned hc = std::thread::hardware_concurrency();
  impl_->spin_allowed = hc == 0 || n <= static_cast<int>(hc);
  impl_->workers.reserve(static_cast<size_t>(n - 1));
  for (int i = 1; i < n; ++i) impl_->workers.emplace_back([this, i] { impl_->worker_main(i); });
}

ThreadPool::~ThreadPool() {
  if (!impl_->workers.empty()) {
    std::lock_guard<std::mutex> dl(impl_->dispatch_mu);
    impl_->stop.store(true, std::memory_order_relaxed);
    const uint64_t g = ++impl_->generation;
    impl_->ticket.store((g << 32) | Impl::kNoTask, std::memory_order_seq_cst);
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
  const uint64_t g = ++p.generation;
  // 1. invalidate: stale claimers of the previous job fail their CAS from here on;
  p.ticket.store((g << 32) | Impl::kNoTask, std::memory_order_relaxed);
  // 2. describe the job; 3. open it (release publishes 2).
  p.n_tasks.store(n_tasks, std::memory_order_relaxed);
  p.fn.store(&fn, std::memory_order_relaxed);
  p.tasks_done.store(0, std::memory_order_relaxed);
  p.ticket.store(g << 32, std::memory_order_seq_cst);
  if (p.sleepers.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> lk(p.sleep_mu); }
    p.sleep_cv.notify_all();
  }
  const int saved_index = t_thread_index;
  t_thread_index = 0;
  t_in_job = true;
  p.run_tasks(static_cast<uint32_t>(g), 0);
  t_in_job = false;
  t_thread_index = saved_index;
  int spins = 0;
  while (p.tasks_done.load(std::memory_order_acquire) != n_tasks) {
    if (++spins < kPureSpins) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

int max_threads_for_build() {
  const unsigned hc = std::thread::hardware_concurrency();
  return clamp_to_pthread_pool(hc == 0 ? 1 : static_cast<int>(hc));
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
