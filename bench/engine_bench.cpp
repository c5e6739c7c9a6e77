// Native benchmark of the engine through its public C API (the same calls the WASM build gets):
// one chunk of audio through mel, encoder, prefill and a fixed number of decode tokens, then the
// ForcedAligner over the same chunk. Prints one JSON object. Used by bench/run.ts.
//   engine-bench <asr.bin> <aligner.bin|-> <pcm.f32> <threads> <decode_tokens> <units.json|->
#include <chrono>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "qasr.h"

static std::vector<char> read_file(const char* path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

static qasr_model* load(const char* path, int threads) {
  std::vector<char> bytes = read_file(path);
  uint8_t* buf = qasr_buffer_alloc(bytes.size());
  std::copy(bytes.begin(), bytes.end(), buf);
  qasr_model* m = qasr_model_load(buf, bytes.size(), threads);
  if (!m) std::fprintf(stderr, "load %s: %s\n", path, qasr_last_error());
  return m;
}

static double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: engine-bench asr.bin aligner.bin|- pcm.f32 threads tokens units.json|-\n");
    return 2;
  }
  const int threads = std::atoi(argv[4]), tokens = std::atoi(argv[5]);
  std::vector<char> raw = read_file(argv[3]);
  std::vector<float> pcm(raw.size() / sizeof(float));
  std::memcpy(pcm.data(), raw.data(), pcm.size() * sizeof(float));
  qasr_model* asr = load(argv[1], threads);
  if (!asr) return 1;
  qasr_options o = qasr_default_options();
  o.n_threads = threads;
  o.max_new_tokens = tokens;
  o.repetition_guard = 0;
  o.ignore_eos = 1;
  // Warm-up on 2 s (page-in of the weights, caches), then the measured run.
  {
    qasr_session* s = qasr_session_start(asr, pcm.data(), std::min<int>(32000, pcm.size()), &o);
    if (s) { for (int i = 0; i < 4 && qasr_session_next(s) >= 0; ++i) {} qasr_session_free(s); }
  }
  const double t0 = now_ms();
  qasr_session* s = qasr_session_start(asr, pcm.data(), static_cast<int32_t>(pcm.size()), &o);
  if (!s) { std::fprintf(stderr, "%s\n", qasr_last_error()); return 1; }
  while (qasr_session_next(s) >= 0) {}
  const double asr_ms = now_ms() - t0;
  std::string result = qasr_session_result(s);
  qasr_session_free(s);
  std::string align = "null";
  double align_ms = 0;
  if (std::string(argv[2]) != "-") {
    qasr_model* al = load(argv[2], threads);
    if (!al) return 1;
    std::vector<char> units = read_file(argv[6]);
    units.push_back(0);
    const double t1 = now_ms();
    const char* r = qasr_align(al, pcm.data(), static_cast<int32_t>(pcm.size()), units.data(), 0);
    align_ms = now_ms() - t1;
    if (!r) { std::fprintf(stderr, "%s\n", qasr_last_error()); return 1; }
    align = r;
    qasr_model_free(al);
  }
  qasr_model_free(asr);
  std::printf("{\"threads\":%d,\"build\":%s,\"asr_ms\":%.2f,\"align_ms\":%.2f,\"bandwidth_gbs\":%.3f,\"asr\":%s,\"align\":%s}\n",
              threads, qasr_build_info(), asr_ms, align_ms, qasr_debug_bandwidth(256, 5, threads), result.c_str(),
              align.c_str());
  return 0;
}
