// Tests of the activations in numerics.cpp that avoid libm's erf/tanh (so the native and WASM
// builds round alike): accuracy against the double-precision definitions.
#include <cmath>
#include <cstdio>
#include <vector>

#include "ggml_types.h"
#include "numerics.h"
#include "test.h"

using namespace qasr;

TEST(gelu_exact_matches_double_erf) {
  std::vector<float> x;
  for (float v = -12.0f; v <= 12.0f; v += 0.00037f) x.push_back(v);
  x.push_back(0.0f);
  x.push_back(-0.0f);
  x.push_back(1e-30f);
  x.push_back(-1e-30f);
  std::vector<float> y(x);
  gelu_inplace(y.data(), static_cast<int64_t>(y.size()), false);
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    const double want = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    // Relative to max(|want|, 1e-3·|v|): far in the negative tail GELU is a tiny difference.
    const double scale = std::fmax(std::fabs(want), 1e-3 * std::fabs(v));
    const double err = scale > 0 ? std::fabs(y[i] - want) / scale : std::fabs(y[i] - want);
    worst = std::fmax(worst, err);
  }
  std::printf("     %zu points, max relative error %.2e\n", x.size(), worst);
  // Float evaluation: the fit (1.2e-7) plus the rounding of -z² in the exponent in the far tail.
  CHECK(worst < 2e-6);
  float z[2] = {0.0f, 40.0f};
  gelu_inplace(z, 2, false);
  CHECK(z[0] == 0.0f && z[1] == 40.0f);
}

TEST(gelu_tanh_table_matches_double_tanh) {
  double worst = 0;
  for (float v = -9.0f; v <= 9.0f; v += 0.00113f) {
    float y = v;
    gelu_inplace(&y, 1, true);
    const double h = static_cast<double>(fp16_to_f32(f32_to_fp16(v)));
    const double want = 0.5 * h * (1.0 + std::tanh(0.7978845608 * h * (1.0 + 0.044715 * h * h)));
    // The table stores fp16: allow one fp16 rounding step (2^-11 relative) plus a little.
    worst = std::fmax(worst, std::fabs(y - want) / std::fmax(std::fabs(want), 1e-4));
  }
  std::printf("     max relative error %.2e (fp16 table)\n", worst);
  CHECK(worst < 1.2e-3);
}
