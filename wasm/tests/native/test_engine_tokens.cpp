// Token parity across builds, part 2 (native g++ build): the cases written by
// wasm/tests/native-parity.test.ts into $QASR_TEST_DATA/engine-cases/ (index.json, PCM as raw f32)
// are transcribed here through the C API (qasr_session_*) with the recorded options; the tokens
// must equal those of the WASM builds. Skipped, with a notice, when the cases are absent (run
// `npx vitest run wasm/tests/native-parity.test.ts` first; `npm test` runs vitest before this).
//
// The native build computes with the AVX2 kernel family, the WASM builds with SIMD128. The AVX2
// family does the floating-point work operation for operation as SIMD128 does (4-lane order,
// multiply then add, no FMA; integers are exact in any order), -ffp-contract=off keeps g++ from
// fusing the scalar code, and the engine avoids the libm functions whose last bit differs between
// glibc and musl (log10f, erff, tanhf: mel.cpp, numerics.cpp). So with AVX2 both builds compute
// bit for bit the same thing: the tokens must be identical on the exact f32 path and on the fast
// path (q8_0 activations), and so must the logits of the replay below. Only the scalar family (a
// native build on a CPU without AVX2) sums in plain sequential order: there the fast path may
// part where the WASM top-2 margin is tiny (a last-bit difference moves a q8 rounding of the next
// layer's activations) and the bounds below apply instead.
//
// Every run is also replayed without the KV cache along the WASM tokens (one qasr_debug_logits
// call over all steps) and the native top-1 logits are compared with the ones the WASM session
// recorded (measured difference: 0 with AVX2). Bounds without AVX2: kExactBound / kFastBound
// (twice the fast path's logit error against the reference).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "json.h"
#include "qasr.h"
#include "test.h"

using namespace qasr;

namespace {

bool slurp(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

struct Top2 {
  int id1 = -1, id2 = -1;
  float l1 = 0, l2 = 0;
};

Top2 top2(const float* v, int n) {
  Top2 t;
  t.id1 = 0;
  for (int i = 1; i < n; ++i) {
    if (v[i] > v[t.id1]) {
      t.id2 = t.id1;
      t.id1 = i;
    } else if (t.id2 < 0 || v[i] > v[t.id2]) {
      t.id2 = i;
    }
  }
  t.l1 = v[t.id1];
  t.l2 = v[t.id2];
  return t;
}

std::vector<int> ints(const Json& a) {
  std::vector<int> v;
  for (const Json& x : a.items()) v.push_back(x.int_or(-1));
  return v;
}

std::string prompt_text(int audio_tokens) {
  std::string s = "<|im_start|>system\n<|im_end|>\n<|im_start|>user\n<|audio_start|>";
  for (int i = 0; i < audio_tokens; ++i) s += "<|audio_pad|>";
  return s + "<|audio_end|><|im_end|>\n<|im_start|>assistant\n";
}

constexpr double kExactBound = 1e-4;
constexpr double kFastBound = 0.3;

}  // namespace

TEST(engine_tokens_match_wasm) {
  const std::string dir = qtest::data_dir();
  std::vector<uint8_t> index_bytes;
  if (dir.empty() || !slurp(dir + "/engine-cases/index.json", &index_bytes)) {
    std::printf("     (skipped: no engine-cases/index.json under the data directory; run "
                "npx vitest run wasm/tests/native-parity.test.ts)\n");
    return;
  }
  Json index;
  std::string err;
  CHECK(Json::parse(std::string(index_bytes.begin(), index_bytes.end()), &index, &err));
  const std::string model_path = dir + "/" + index["model"].string_or("");
  std::vector<uint8_t> file;
  CHECK(slurp(model_path, &file));
  CHECK(static_cast<double>(file.size()) == index["model_bytes"].number_or(-1));
  uint8_t* buf = qasr_buffer_alloc(file.size());
  CHECK(buf != nullptr);
  std::memcpy(buf, file.data(), file.size());
  qasr_model* model = qasr_model_load(buf, file.size(), 0);
  if (!model) qtest::fail(__FILE__, __LINE__, std::string("load failed: ") + qasr_last_error());
  Json info;
  CHECK(Json::parse(qasr_model_info(model), &info, &err));
  const int H = info["text"]["hidden"].int_or(0), V = info["text"]["head_rows"].int_or(0);
  CHECK(H > 0 && V > 0);

  int runs = 0, mismatched_runs = 0;
  std::string failures;
  // The AVX2 family sums floats in the SIMD128 order (see the header): tokens must match exactly.
  const bool same_order = std::strstr(qasr_build_info(), "\"avx2\"") != nullptr;
  std::printf("     native kernels: %s (%s)\n", qasr_build_info(), same_order ? "same order as SIMD128: tokens must be identical" : "sequential order: fast-path bound applies");
  for (const Json& c : index["cases"].items()) {
    std::vector<uint8_t> raw;
    CHECK(slurp(dir + "/engine-cases/" + c["pcm"].string_or(""), &raw));
    std::vector<float> pcm(raw.size() / 4);
    std::memcpy(pcm.data(), raw.data(), pcm.size() * 4);
    CHECK(static_cast<int>(pcm.size()) == c["samples"].int_or(-1));
    for (const Json& r : c["runs"].items()) {
      ++runs;
      const std::string what = c["name"].string_or("?") + " / " + r["path"].string_or("?");
      qasr_options o = qasr_default_options();
      o.numerics = static_cast<uint32_t>(r["numerics"].int_or(0));
      o.max_new_tokens = r["max_new_tokens"].int_or(0);
      o.repetition_guard = r["repetition_guard"].int_or(1);
      const std::vector<int> want = ints(r["tokens"]);

      // 1. The session, as the app runs it.
      qasr_session* s = qasr_session_start(model, pcm.data(), static_cast<int32_t>(pcm.size()), &o);
      if (!s) qtest::fail(__FILE__, __LINE__, what + ": " + qasr_last_error());
      std::vector<int> got;
      for (int t; (t = qasr_session_next(s)) >= 0;) got.push_back(t);
      Json result;
      CHECK(Json::parse(qasr_session_result(s), &result, &err));
      qasr_session_free(s);
      CHECK(ints(result["tokens"]) == got);
      const int prompt_len = result["prompt_tokens"].int_or(-1);
      CHECK(prompt_len == r["prompt_tokens"].int_or(-2));

      // 2. Native logits along the WASM tokens (no KV cache), against the WASM's recorded top-2.
      const int audio_tokens = result["audio_tokens"].int_or(0);
      std::vector<float> enc(static_cast<size_t>(audio_tokens) * H);
      CHECK(qasr_debug_encode(model, pcm.data(), static_cast<int32_t>(pcm.size()), o.numerics, enc.data(),
                              static_cast<int32_t>(enc.size())) == audio_tokens);
      const std::string ptext = prompt_text(audio_tokens);
      std::vector<int32_t> ids(prompt_len + want.size() + 8);
      CHECK(qasr_tokenize(model, ptext.c_str(), 1, ids.data(), static_cast<int>(ids.size())) == prompt_len);
      ids.resize(prompt_len);
      ids.insert(ids.end(), want.begin(), want.end());
      const Json& steps = r["steps"];
      const int n_steps = static_cast<int>(steps.size());
      CHECK(n_steps == static_cast<int>(want.size()) || n_steps == static_cast<int>(want.size()) + 1);
      std::vector<int32_t> positions(n_steps);
      for (int k = 0; k < n_steps; ++k) positions[k] = prompt_len - 1 + k;
      std::vector<float> logits(static_cast<size_t>(n_steps) * V);
      CHECK(qasr_debug_logits(model, ids.data(), prompt_len - 1 + n_steps, enc.data(), audio_tokens, positions.data(),
                              n_steps, o.numerics, logits.data()) == QASR_OK);
      const bool exact = (o.numerics & QASR_EXACT_F32_MATMUL) != 0;
      const double bound = exact ? kExactBound : kFastBound;
      double max_top1_diff = 0, min_margin = 1e30;
      int argmax_disagree = 0;
      for (int k = 0; k < n_steps; ++k) {
        const Top2 n = top2(&logits[static_cast<size_t>(k) * V], V);
        const Json& w = steps.at(k);
        const int w1 = w.at(0).int_or(-1), w2 = w.at(2).int_or(-1);
        const double wl1 = w.at(1).number_or(0), wl2 = w.at(3).number_or(0);
        max_top1_diff = std::max(max_top1_diff, std::fabs(n.l1 - wl1));
        min_margin = std::min(min_margin, wl1 - wl2);
        if (n.id1 != w1) {
          ++argmax_disagree;
          char line[400];
          std::snprintf(line, sizeof line,
                        "     %s step %d: WASM top-2 %d (%.7f) %d (%.7f), margin %.3g; native top-2 %d (%.7f) "
                        "%d (%.7f), margin %.3g\n",
                        what.c_str(), k, w1, wl1, w2, wl2, wl1 - wl2, n.id1, n.l1, n.id2, n.l2, n.l1 - n.l2);
          std::printf("%s", line);
          if (!(wl1 - wl2 < bound)) failures += what + ": argmax differs at step " + std::to_string(k) + " with a WASM margin above the bound; ";
        }
      }
      size_t first_diff = 0;
      while (first_diff < got.size() && first_diff < want.size() && got[first_diff] == want[first_diff]) ++first_diff;
      std::printf("     %-22s %2zu tokens, native %s; along the WASM tokens: max |top-1 logit diff| %.2e, "
                  "min WASM top-2 margin %.2e, argmax differs at %d steps\n",
                  what.c_str(), want.size(),
                  got == want ? "identical" : ("different from step " + std::to_string(first_diff)).c_str(),
                  max_top1_diff, min_margin, argmax_disagree);
      if (same_order && max_top1_diff != 0) failures += what + ": logits differ from the WASM build's; ";
      if (!(max_top1_diff < bound)) failures += what + ": top-1 logits differ by more than the bound; ";
      if (got != want) {
        ++mismatched_runs;
        if (exact || same_order) failures += what + ": tokens differ from step " + std::to_string(first_diff) + "; ";
      }
    }
  }
  qasr_model_free(model);
  std::printf("     %d runs, %d with different tokens (must be 0 with AVX2 and on the exact path; see the header)\n", runs,
              mismatched_runs);
  CHECK(runs >= 6);
  if (!failures.empty()) qtest::fail(__FILE__, __LINE__, "native vs WASM: " + failures);
}
