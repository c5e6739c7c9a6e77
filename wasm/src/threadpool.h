// A persistent pool of worker threads created once (never per call: a WASM pthread beyond the
// preloaded pool deadlocks, research/toolchain-notes.md §1 "Threads"). In builds without
// threads (the single-thread WASM variant) every job runs inline on the caller.
#pragma once
#include <functional>

namespace qasr {

class ThreadPool {
 public:
  // n_threads includes the calling thread: n_threads - 1 workers are started.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;  // number of threads that take part, caller included

  // Runs fn(task, thread_index) for task in [0, n_tasks), spread over the threads; returns when
  // all tasks are done. thread_index is in [0, size()). fn must not call back into JS.
  void parallel_for(int n_tasks, const std::function<void(int task, int thread)>& fn);

  // Splits [0, n) into at most size() contiguous ranges: fn(begin, end, thread).
  void parallel_range(int n, const std::function<void(int begin, int end, int thread)>& fn);

 private:
  struct Impl;
  Impl* impl_;
};

// Threads available to this build: 1 without pthreads; else std::thread::hardware_concurrency().
// WASM MT builds also clamp it (and the ThreadPool constructor clamps n_threads) to 1 + the
// emscripten pthread-pool workers still unused, when called on the main thread.
int max_threads_for_build();

}  // namespace qasr
