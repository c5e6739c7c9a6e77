// Audio encoder forward pass (research/qwen3-asr-official.md §3.1–3.5, addendum 1 rules 1 and 3).
#include "encoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "attention.h"

namespace qasr {
namespace {

constexpr float kLayerNormEps = 1e-5f;  // encoder LayerNorms (§3.4)

int conv_out_size(int in) { return (in - 1) / 2 + 1; }  // kernel 3, stride 2, padding 1

// One 3×3 stride-2 padding-1 convolution as im2col + GEMM, then bias and GELU.
// in: [h][w][cin] (channel last); out: [oh][ow][cout]; weights [cout][3][3][cin]. On the fast
// path with q8 weights (wq8 non-empty) the GEMM is the integer one of the other matrices.
void conv3x3_s2(const float* in, int h, int w, int cin, const std::vector<float>& weight,
                const std::vector<BlockQ8_0>& wq8, const std::vector<float>& bias, int cout,
                const Numerics& nx, ThreadPool* pool, std::vector<float>* cols, std::vector<float>* out) {
  const int oh = conv_out_size(h), ow = conv_out_size(w);
  const int k = 9 * cin;
  // im2col, one output row per task; taps outside the input are zero.
  cols->resize(static_cast<size_t>(oh) * ow * k);
  pool->parallel_range(oh, [&](int oy0, int oy1, int) {
    for (int oy = oy0; oy < oy1; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        float* row = cols->data() + (static_cast<size_t>(oy) * ow + ox) * k;
        for (int ky = 0; ky < 3; ++ky) {
          const int iy = 2 * oy - 1 + ky;
          for (int kx = 0; kx < 3; ++kx) {
            const int ix = 2 * ox - 1 + kx;
            float* dst = row + (ky * 3 + kx) * cin;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) std::fill(dst, dst + cin, 0.0f);
            else std::memcpy(dst, in + (static_cast<size_t>(iy) * w + ix) * cin, sizeof(float) * cin);
          }
        }
      }
  });
  out->resize(static_cast<size_t>(oh) * ow * cout);
  const int64_t n = static_cast<int64_t>(oh) * ow;
  if (nx.precision == MatmulPrecision::kActivationsQ8 && !wq8.empty()) {
    WeightMatrix wm;
    wm.type = GgmlType::Q8_0;
    wm.data = wq8.data();
    wm.rows = cout;
    wm.cols = k;
    matmul(wm, cols->data(), n, out->data(), bias.data(), pool, MatmulPrecision::kActivationsQ8);
  } else {
    gemm_f32_nt(cols->data(), weight.data(), out->data(), n, cout, k, pool);
    for (int64_t p = 0; p < n; ++p) {
      float* o = out->data() + p * cout;
      for (int c = 0; c < cout; ++c) o[c] += bias[c];
    }
  }
  gelu_inplace(out->data(), n * cout, nx.gelu_tanh_f16, pool);
}

// x[rows][d] ← LayerNorm per row, rows split over the pool.
void layer_norm_rows(const float* x, const Norm& n, float* y, int rows, int d, ThreadPool* pool) {
  pool->parallel_range(rows, [&](int r0, int r1, int) {
    for (int r = r0; r < r1; ++r)
      layer_norm(x + static_cast<size_t>(r) * d, n.weight.data(), n.bias.empty() ? nullptr : n.bias.data(),
                 y + static_cast<size_t>(r) * d, d, kLayerNormEps);
  });
}

// Bidirectional multi-head attention inside windows of `window` tokens (the whole sequence when
// window >= tokens). q, k, v, out: [tokens][d].
void windowed_attention(const float* q, const float* k, const float* v, float* out, int tokens, int d,
                        int heads, int window, ThreadPool* pool) {
  const int hd = d / heads;
  const int n_windows = (tokens + window - 1) / window;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  pool->parallel_for(n_windows * heads, [&](int task, int) {
    thread_local std::vector<float> scratch, vt;
    const int win = task / heads, h = task % heads;
    const int w0 = win * window, w1 = std::min(tokens, w0 + window), n = w1 - w0;
    // V of this head and window, transposed and zero-padded for the attention GEMM.
    const int np = attention_pad(n);
    vt.assign(static_cast<size_t>(hd) * np, 0.0f);
    for (int j = 0; j < n; ++j) {
      const float* vj = v + static_cast<size_t>(w0 + j) * d + h * hd;
      for (int c = 0; c < hd; ++c) vt[static_cast<size_t>(c) * np + j] = vj[c];
    }
    const size_t off = static_cast<size_t>(w0) * d + h * hd;
    attend_head(q + off, d, n, k + off, d, vt.data(), np, n, hd, scale, -1, out + off, d, &scratch);
  });
}

}  // namespace

bool encode_audio(const Model& m, const MelSpectrogram& mel, const Numerics& nx, EncoderOutput* out,
                  std::string* error) {
  const AudioConfig& a = m.file.audio;
  const EncoderWeights& e = m.enc;
  ThreadPool* pool = m.pool.get();
  const int chunk = 2 * a.n_window;  // mel frames per conv chunk (100)
  const int n_mels = mel.n_mels, T = mel.n_frames;
  if (T <= 0 || n_mels != a.num_mel_bins) {
    *error = "The audio is too short to encode";
    return false;
  }
  const int C = e.channels, d = a.d_model;
  const int h1 = conv_out_size(n_mels), h2 = conv_out_size(h1), h3 = conv_out_size(h2);
  const int w1 = conv_out_size(chunk), w2 = conv_out_size(w1), w3 = conv_out_size(w2);
  const int feat = C * h3;  // conv_out input width (C · 16)
  const int n_chunks = (T + chunk - 1) / chunk;
  const int tokens = audio_token_count(T, chunk);

  // 1. Conv stem per chunk; every chunk zero-padded to `chunk` frames (addendum 1 rule 1).
  std::vector<float> feats(static_cast<size_t>(tokens) * feat);
  std::vector<float> input(static_cast<size_t>(n_mels) * chunk), cols, y1, y2, y3;
  int token = 0;
  for (int c = 0; c < n_chunks; ++c) {
    const int f0 = c * chunk, frames = std::min(chunk, T - f0);
    // [freq][time][1]
    std::fill(input.begin(), input.end(), 0.0f);
    for (int f = 0; f < n_mels; ++f)
      for (int t = 0; t < frames; ++t) input[static_cast<size_t>(f) * chunk + t] = mel.at(f, f0 + t);
    conv3x3_s2(input.data(), n_mels, chunk, 1, e.conv1_w, {}, e.conv1_b, C, nx, pool, &cols, &y1);
    conv3x3_s2(y1.data(), h1, w1, C, e.conv2_w, e.conv2_q8, e.conv2_b, C, nx, pool, &cols, &y2);
    conv3x3_s2(y2.data(), h2, w2, C, e.conv3_w, e.conv3_q8, e.conv3_b, C, nx, pool, &cols, &y3);
    const int keep = frames == chunk ? w3 : (frames + 7) / 8;
    // Flatten channel-major: feature index = channel · h3 + freq (§3.2).
    for (int t = 0; t < keep; ++t, ++token) {
      float* row = feats.data() + static_cast<size_t>(token) * feat;
      for (int f = 0; f < h3; ++f)
        for (int ch = 0; ch < C; ++ch) row[ch * h3 + f] = y3[(static_cast<size_t>(f) * w3 + t) * C + ch];
    }
  }

  // 2. conv_out (no bias) + positions restarting at 0 in every chunk (§3.3).
  std::vector<float> x(static_cast<size_t>(tokens) * d);
  matmul(e.conv_out.w, feats.data(), tokens, x.data(), nullptr, pool, nx.precision);
  feats.clear();
  feats.shrink_to_fit();
  for (int t = 0; t < tokens; ++t) {
    const float* pos = e.positions.data() + static_cast<size_t>(t % w3) * d;
    float* row = x.data() + static_cast<size_t>(t) * d;
    for (int i = 0; i < d; ++i) row[i] += pos[i];
  }

  // 3. Transformer layers; windows of 13 · n_window_infer/100 tokens (104) unless full attention.
  const int window = nx.full_attention ? tokens : std::max(1, w3 * a.n_window_infer / chunk);
  std::vector<float> h(x.size()), q(x.size()), k(x.size()), v(x.size()), att(x.size());
  std::vector<float> ffn(static_cast<size_t>(tokens) * a.encoder_ffn_dim);
  for (const EncoderLayer& l : e.layers) {
    layer_norm_rows(x.data(), l.ln1, h.data(), tokens, d, pool);
    const MatmulOut qkv[3] = {{&l.q.w, q.data(), l.q.b()}, {&l.k.w, k.data(), l.k.b()}, {&l.v.w, v.data(), l.v.b()}};
    matmul_shared_input(qkv, 3, h.data(), tokens, pool, nx.precision);
    windowed_attention(q.data(), k.data(), v.data(), att.data(), tokens, d, a.encoder_attention_heads, window, pool);
    matmul(l.o.w, att.data(), tokens, h.data(), l.o.b(), pool, nx.precision);
    for (size_t i = 0; i < x.size(); ++i) x[i] += h[i];
    layer_norm_rows(x.data(), l.ln2, h.data(), tokens, d, pool);
    matmul(l.fc0.w, h.data(), tokens, ffn.data(), l.fc0.b(), pool, nx.precision);
    gelu_inplace(ffn.data(), static_cast<int64_t>(ffn.size()), nx.gelu_tanh_f16, pool);
    matmul(l.fc1.w, ffn.data(), tokens, h.data(), l.fc1.b(), pool, nx.precision);
    for (size_t i = 0; i < x.size(); ++i) x[i] += h[i];
  }

  // 4. ln_post → proj1 → GELU → proj2 (§3.5).
  layer_norm_rows(x.data(), e.ln_post, h.data(), tokens, d, pool);
  matmul(e.proj1.w, h.data(), tokens, q.data(), e.proj1.b(), pool, nx.precision);
  gelu_inplace(q.data(), static_cast<int64_t>(q.size()), nx.gelu_tanh_f16, pool);
  out->tokens = tokens;
  out->dim = static_cast<int>(e.proj2.w.rows);
  out->data.resize(static_cast<size_t>(tokens) * out->dim);
  matmul(e.proj2.w, q.data(), tokens, out->data.data(), e.proj2.b(), pool, nx.precision);
  return true;
}

}  // namespace qasr
