// Native log-mel against the float64 TypeScript reference (cases written by
// tools/make-mel-cases.ts into .cache/mel-cases): max |difference| <= 1e-4, any thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "json.h"
#include "mel.h"
#include "test.h"
#include "threadpool.h"

namespace {

std::vector<float> read_f32(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<float> v(b.size() / sizeof(float));
  std::memcpy(v.data(), b.data(), v.size() * sizeof(float));
  return v;
}

}  // namespace

TEST(mel_matches_float64_reference) {
  const std::string dir = qtest::data_dir() + "/mel-cases";
  std::ifstream idx(dir + "/index.json");
  if (!idx) {
    std::printf("     (skipped: %s/index.json missing; run npm run prepare-test-data)\n", dir.c_str());
    return;
  }
  std::stringstream ss;
  ss << idx.rdbuf();
  qasr::Json cases;
  std::string err;
  CHECK(qasr::Json::parse(ss.str(), &cases, &err));
  CHECK(cases.size() >= 6);
  for (int threads : {1, 2, 3}) {
    qasr::ThreadPool pool(threads);
    for (const qasr::Json& c : cases.items()) {
      const std::string name = c["name"].string_or("");
      const std::vector<float> pcm = read_f32(dir + "/" + name + ".pcm.f32");
      const std::vector<float> ref = read_f32(dir + "/" + name + ".mel.f32");
      qasr::MelSpectrogram mel;
      qasr::log_mel(pcm.data(), static_cast<int64_t>(pcm.size()), qasr::MelOptions(), &pool, &mel);
      CHECK(mel.n_frames == c["frames"].int_or(-1));
      CHECK(mel.data.size() == ref.size());
      double max_diff = 0;
      for (size_t i = 0; i < ref.size(); ++i) max_diff = std::max(max_diff, static_cast<double>(std::fabs(mel.data[i] - ref[i])));
      CHECK_NEAR(max_diff, 0.0, 1e-4);
    }
  }
}
