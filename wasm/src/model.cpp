// Arranges a parsed GGMM file into computing weights (see model.h).
#include "model.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace qasr {

Model::~Model() { std::free(buffer); }

namespace {

std::vector<float> to_f32(const TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  const int64_t cols = t.cols(), rows = t.rows();
  const size_t rb = row_bytes(t.type, cols);
  for (int64_t r = 0; r < rows; ++r) dequantize_row(t.type, t.data + r * rb, out.data() + r * cols, cols);
  return out;
}

// True when no block scale (d, and m for q4_1) of a quantised tensor is inf or NaN. The WASM GEMV
// converts 4 scales at once without the inf/NaN case (kernels_simd128.cpp load_half4_finite), so
// such a file is refused here; every result then agrees with the scalar reference.
bool block_scales_finite(GgmlType type, const uint8_t* data, int64_t numel) {
  size_t block = 0;
  int halves = 1;
  switch (type) {
    case GgmlType::Q4_0: block = sizeof(BlockQ4_0); break;
    case GgmlType::Q4_1: block = sizeof(BlockQ4_1); halves = 2; break;
    case GgmlType::Q8_0: block = sizeof(BlockQ8_0); break;
    default: return true;
  }
  const int64_t nb = numel / kQuantBlock;
  for (int64_t b = 0; b < nb; ++b)
    for (int i = 0; i < halves; ++i) {
      uint16_t h;
      std::memcpy(&h, data + b * block + 2 * i, 2);
      if ((h & 0x7c00u) == 0x7c00u) return false;
    }
  return true;
}

struct Builder {
  const ModelFile& f;
  std::string* error;
  bool ok = true;

  const TensorView* get(const std::string& name) {
    const TensorView* t = f.find(name);
    if (!t && ok) { *error = "Missing tensor '" + name + "'"; ok = false; }
    return t;
  }
  std::vector<float> vec(const std::string& name) {
    const TensorView* t = get(name);
    return t ? to_f32(*t) : std::vector<float>();
  }
  void check_scales(const std::string& name, const TensorView& t) {
    if (ok && !block_scales_finite(t.type, t.data, t.numel())) {
      *error = "Tensor '" + name + "' has an infinite or NaN block scale: the model file is corrupt";
      ok = false;
    }
  }
  Linear linear(const std::string& prefix, bool has_bias) {
    Linear l;
    if (const TensorView* t = get(prefix + ".weight")) {
      l.w.type = t->type;
      l.w.data = t->data;
      l.w.rows = t->shape.size() >= 2 ? t->shape[0] : 1;
      l.w.cols = t->numel() / l.w.rows;
      check_scales(prefix + ".weight", *t);
    }
    if (has_bias) l.bias = vec(prefix + ".bias");
    return l;
  }
  Norm norm(const std::string& prefix, bool has_bias) {
    Norm n;
    n.weight = vec(prefix + ".weight");
    if (has_bias) n.bias = vec(prefix + ".bias");
    return n;
  }
  // [C_out][C_in][3][3] → [C_out][3][3][C_in]
  std::vector<float> conv(const std::string& name) {
    const TensorView* t = get(name);
    if (!t) return {};
    const std::vector<float> w = to_f32(*t);
    const int64_t co = t->shape[0], ci = t->shape[1];
    std::vector<float> out(w.size());
    for (int64_t o = 0; o < co; ++o)
      for (int64_t i = 0; i < ci; ++i)
        for (int k = 0; k < 9; ++k) out[(o * 9 + k) * ci + i] = w[(o * ci + i) * 9 + k];
    return out;
  }
};

// A reordered conv kernel [C_out][9·C_in] as q8_0 rows (fast path), or empty.
std::vector<BlockQ8_0> quantize_conv(const std::vector<float>& w, int c_out) {
  if (c_out <= 0 || w.empty() || w.size() % static_cast<size_t>(c_out) != 0) return {};
  const int64_t k = static_cast<int64_t>(w.size() / static_cast<size_t>(c_out));
  if (k % kQuantBlock != 0) return {};
  std::vector<BlockQ8_0> q(w.size() / kQuantBlock);
  quantize_row_q8_0(w.data(), q.data(), static_cast<int64_t>(w.size()));
  // Non-finite weights: keep the f32 path (the fast GEMV assumes finite scales, see above).
  if (!block_scales_finite(GgmlType::Q8_0, reinterpret_cast<const uint8_t*>(q.data()), static_cast<int64_t>(w.size()))) return {};
  return q;
}

// Packs every q4_0 matrix (rows of a multiple of 128) into the layout the kernels read faster
// (kernels.h pack_q4_0_x4), in place in the file buffer; matrices sharing data (the tied head and
// the embedding) are packed once and all marked.
void pack_q4_0_matrices(Model* m) {
  std::vector<WeightMatrix*> ws = {&m->enc.conv_out.w, &m->enc.proj1.w, &m->enc.proj2.w, &m->dec.embed, &m->dec.head.w};
  for (EncoderLayer& l : m->enc.layers)
    for (Linear* x : {&l.q, &l.k, &l.v, &l.o, &l.fc0, &l.fc1}) ws.push_back(&x->w);
  for (DecoderLayer& l : m->dec.layers)
    for (Linear* x : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) ws.push_back(&x->w);
  std::vector<const void*> packed;
  for (WeightMatrix* w : ws) {
    if (w->type != GgmlType::Q4_0 || !w->data || w->cols % (4 * kQuantBlock) != 0) continue;
    if (std::find(packed.begin(), packed.end(), w->data) == packed.end()) {
      pack_q4_0_x4(const_cast<void*>(w->data), w->rows, w->cols, m->pool.get());
      packed.push_back(w->data);
    }
  }
  for (WeightMatrix* w : ws)
    if (w->type == GgmlType::Q4_0 && std::find(packed.begin(), packed.end(), w->data) != packed.end()) w->type = GgmlType::Q4_0_X4;
}

}  // namespace

int audio_token_count(int mel_frames, int frames_per_chunk) {
  const int full = mel_frames / frames_per_chunk, rem = mel_frames % frames_per_chunk;
  // 100 → 50 → 25 → 13 through three stride-2 convolutions with padding 1.
  auto down = [](int x) { return (x - 1) / 2 + 1; };
  const int per_chunk = down(down(down(frames_per_chunk)));
  return full * per_chunk + (rem > 0 ? (rem + 7) / 8 : 0);
}

bool build_model(Model* m, std::string* error) {
  const ModelFile& f = m->file;
  Builder b{f, error};
  const AudioConfig& a = f.audio;

  EncoderWeights& e = m->enc;
  e.channels = a.downsample_hidden_size;
  e.conv1_w = b.conv("audio.conv2d1.weight");
  e.conv1_b = b.vec("audio.conv2d1.bias");
  e.conv2_w = b.conv("audio.conv2d2.weight");
  e.conv2_b = b.vec("audio.conv2d2.bias");
  e.conv3_w = b.conv("audio.conv2d3.weight");
  e.conv3_b = b.vec("audio.conv2d3.bias");
  e.conv_out = b.linear("audio.conv_out", false);
  // Only for quantised models (their matrices already take the q8 path): an f32/f16 model's
  // fast path stays f32 in the conv stem too.
  if (e.conv_out.w.type == GgmlType::Q4_0 || e.conv_out.w.type == GgmlType::Q4_1 ||
      e.conv_out.w.type == GgmlType::Q8_0) {
    e.conv2_q8 = quantize_conv(e.conv2_w, e.channels);
    e.conv3_q8 = quantize_conv(e.conv3_w, e.channels);
  }
  for (int i = 0; i < a.encoder_layers; ++i) {
    const std::string p = "audio.layers." + std::to_string(i);
    EncoderLayer l;
    l.ln1 = b.norm(p + ".input_layernorm", true);
    l.ln2 = b.norm(p + ".post_attention_layernorm", true);
    l.q = b.linear(p + ".self_attn.q_proj", true);
    l.k = b.linear(p + ".self_attn.k_proj", true);
    l.v = b.linear(p + ".self_attn.v_proj", true);
    l.o = b.linear(p + ".self_attn.o_proj", true);
    l.fc0 = b.linear(p + ".mlp.fc0", true);
    l.fc1 = b.linear(p + ".mlp.fc1", true);
    e.layers.push_back(std::move(l));
  }
  e.ln_post = b.norm("audio.ln_post", true);
  e.proj1 = b.linear("multi_modal_projector.proj1", true);
  e.proj2 = b.linear("multi_modal_projector.proj2", true);

  // Sinusoidal positions, restarted every chunk (research/qwen3-asr-official.md §3.3):
  // row t = [sin(t·ω_i) | cos(t·ω_i)], ω_i = exp(−i·ln(10⁴)/(D/2 − 1)).
  const int d = a.d_model, half = d / 2;
  const int rows = audio_token_count(2 * a.n_window, 2 * a.n_window);
  e.positions.assign(static_cast<size_t>(rows) * d, 0.0f);
  const double inc = std::log(10000.0) / (half - 1);
  for (int t = 0; t < rows; ++t)
    for (int i = 0; i < half; ++i) {
      const double w = std::exp(-inc * i);
      e.positions[static_cast<size_t>(t) * d + i] = static_cast<float>(std::sin(t * w));
      e.positions[static_cast<size_t>(t) * d + half + i] = static_cast<float>(std::cos(t * w));
    }

  DecoderWeights& dw = m->dec;
  const TextConfig& tc = f.text;
  if (const TensorView* t = b.get("model.embed_tokens.weight")) {
    dw.embed.type = t->type;
    dw.embed.data = t->data;
    dw.embed.rows = t->shape[0];
    dw.embed.cols = t->shape[1];
    b.check_scales("model.embed_tokens.weight", *t);  // also the tied head's matrix
  }
  for (int i = 0; i < tc.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    DecoderLayer l;
    l.in_norm = b.norm(p + ".input_layernorm", false);
    l.post_norm = b.norm(p + ".post_attention_layernorm", false);
    l.q_norm = b.norm(p + ".self_attn.q_norm", false);
    l.k_norm = b.norm(p + ".self_attn.k_norm", false);
    l.q = b.linear(p + ".self_attn.q_proj", false);
    l.k = b.linear(p + ".self_attn.k_proj", false);
    l.v = b.linear(p + ".self_attn.v_proj", false);
    l.o = b.linear(p + ".self_attn.o_proj", false);
    l.gate = b.linear(p + ".mlp.gate_proj", false);
    l.up = b.linear(p + ".mlp.up_proj", false);
    l.down = b.linear(p + ".mlp.down_proj", false);
    dw.layers.push_back(std::move(l));
  }
  dw.final_norm = b.norm("model.norm", false);
  if (f.find("lm_head.weight")) {
    dw.head = b.linear("lm_head", false);
  } else {
    dw.head.w = dw.embed;  // tied head (research/qwen3-asr-official.md §1.2)
  }
  const int hd = tc.head_dim;
  dw.rope_inv_freq.resize(hd / 2);
  for (int i = 0; i < hd / 2; ++i)
    dw.rope_inv_freq[i] = std::pow(static_cast<double>(tc.rope_theta), -2.0 * i / hd);
  if (b.ok && kernels_prefer_q4_0_x4()) pack_q4_0_matrices(m);
  return b.ok;
}

}  // namespace qasr
