// Minimal test registry for the native engine tests: TEST(name) { CHECK(...); }.
// One binary runs every test; `engine-tests <filter>` runs those whose name contains filter.
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace qtest {

struct Case {
  const char* name;
  std::function<void()> fn;
};
std::vector<Case>& registry();
struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};
void fail(const char* file, int line, const std::string& what);
// Path of a data file given on the command line (--data DIR) or $QASR_TEST_DATA.
std::string data_dir();

}  // namespace qtest

#define QT_CAT2(a, b) a##b
#define QT_CAT(a, b) QT_CAT2(a, b)
#define TEST(name)                                                          \
  static void QT_CAT(test_fn_, name)();                                     \
  static qtest::Registrar QT_CAT(test_reg_, name)(#name, QT_CAT(test_fn_, name)); \
  static void QT_CAT(test_fn_, name)()

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) qtest::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                              \
  do {                                                                                     \
    double qa_ = (a), qb_ = (b);                                                           \
    if (!(std::fabs(qa_ - qb_) <= (tol)))                                                  \
      qtest::fail(__FILE__, __LINE__,                                                      \
                  std::string("CHECK_NEAR(" #a ", " #b ") ") + std::to_string(qa_) + " vs " + \
                      std::to_string(qb_));                                                \
  } while (0)
