// Attention of one head as two GEMMs (attention.h).
#include "attention.h"

#include <algorithm>

#include "kernels.h"
#include "numerics.h"

namespace qasr {

void attend_head(const float* q, int64_t ldq, int m, const float* k, int64_t ldk, const float* vt, int64_t ldvt,
                 int n_keys, int hd, float scale, int causal_first, float* out, int64_t ldo,
                 std::vector<float>* scratch) {
  if (m <= 0 || n_keys <= 0) return;
  const int lp = attention_pad(n_keys);
  if (scratch->size() < static_cast<size_t>(m) * lp) scratch->resize(static_cast<size_t>(m) * lp);
  float* s = scratch->data();
  gemm_f32_nt_strided(q, ldq, k, ldk, s, lp, m, n_keys, hd);
  for (int i = 0; i < m; ++i) {
    float* row = s + static_cast<size_t>(i) * lp;
    const int valid = causal_first >= 0 ? std::min(n_keys, causal_first + i + 1) : n_keys;
    for (int j = 0; j < valid; ++j) row[j] *= scale;
    softmax_inplace(row, valid);
    std::fill(row + valid, row + lp, 0.0f);
  }
  gemm_f32_nt_strided(s, lp, vt, ldvt, out, ldo, m, hd, lp);
}

}  // namespace qasr
