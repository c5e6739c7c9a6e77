#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "test.h"

namespace qtest {

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void fail(const char* file, int line, const std::string& what) {
  throw Failure(std::string(file) + ":" + std::to_string(line) + ": " + what);
}

static std::string g_data_dir;
std::string data_dir() {
  if (!g_data_dir.empty()) return g_data_dir;
  const char* env = std::getenv("QASR_TEST_DATA");
  return env ? env : "";
}

}  // namespace qtest

int main(int argc, char** argv) {
  const char* filter = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--data") && i + 1 < argc) {
      qtest::g_data_dir = argv[++i];
    } else {
      filter = argv[i];
    }
  }
  int passed = 0, failed = 0;
  for (auto& c : qtest::registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    try {
      c.fn();
      ++passed;
      std::printf("ok   %s\n", c.name);
    } catch (const std::exception& e) {
      ++failed;
      std::printf("FAIL %s\n     %s\n", c.name, e.what());
    }
  }
  std::printf("\n%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
