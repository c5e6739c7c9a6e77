// A tiny GGMM writer for the native tests (the same layout as chatllm.cpp's convert.py,
// research/chatllm-qwen3-asr.md §1): a Spec describes every section of a small but complete
// Qwen3-ASR / ForcedAligner file, build() lays it out in memory. Used by test_ggmm.cpp (corruption
// tests) and test_fuzz_loader.cpp (mutation fuzzing).
#pragma once
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "ggmm.h"

namespace ggmm_builder {

using qasr::GgmlType;
using qasr::kModelTypeQwen3Asr;
using qasr::kModelTypeQwen3ForcedAligner;
using qasr::row_bytes;
using qasr::type_is_known;

struct TensorSpec {
  std::string name;
  std::vector<int32_t> dims;
  int32_t type = 0;
  // Overrides for corruption tests.
  int32_t name_len = -2;  // -2: use name.size()
  int32_t ndim = -2;      // -2: use dims.size()
  int64_t payload = -1;   // -1: the size implied by dims and type
};

struct Spec {
  uint32_t model_type = kModelTypeQwen3Asr;
  int32_t file_version = 1;
  uint32_t ggmm_version = 1;
  std::string meta;
  std::vector<int32_t> config;  // raw config struct as int32 words (154 or 155)
  std::vector<std::string> vocab;
  std::vector<std::string> merges;
  std::vector<TensorSpec> tensors;
};

// Small dims: audio d=4 (2 heads), ffn 8, 1 layer, 2 conv channels, 128 mel bins (freq 16);
// LLM hidden 4, 2 heads / 1 kv head of dim 2, ffn 8, 1 layer, vocab rows 12.
constexpr int kD = 4, kFfn = 8, kCh = 2, kH = 4, kHeads = 2, kKv = 1, kHd = 2, kInter = 8;
constexpr int kRows = 12, kClassify = 5;

// The metadata JSON blob; the eight added tokens take ids first_special .. first_special + 7.
inline std::string tiny_meta(bool aligner, int first_special = 3) {
  std::string thinker = R"("thinker_config": {"audio_config": {"d_model": 4, "encoder_layers": 1,
      "encoder_attention_heads": 2, "encoder_ffn_dim": 8, "downsample_hidden_size": 2,
      "num_mel_bins": 128, "n_window": 50, "n_window_infer": 800, "max_source_positions": 1500,
      "output_dim": 4}, "text_config": {"rms_norm_eps": 1e-06}, "model_type": ")" +
                        std::string(aligner ? "qwen3_forced_aligner" : "qwen3_asr") + "\"}";
  const char* names[8] = {"<|endoftext|>", "<|im_start|>",  "<|im_end|>", "<|audio_start|>",
                          "<|audio_end|>", "<|audio_pad|>", "<asr_text>", "<timestamp>"};
  std::string added;
  for (int i = 0; i < 8; ++i) {
    added += std::string(i ? ", " : "") + "\"" + std::to_string(first_special + i) + "\": {\"content\": \"" + names[i] +
             "\", \"special\": " + (i < 6 ? "true" : "false") + "}";
  }
  return "{\"config.json\": {" + thinker +
         R"(, "support_languages": ["Chinese", "English"], "timestamp_segment_time": 40},
    "preprocessor_config.json": {"n_fft": 400, "hop_length": 160, "sampling_rate": 16000},
    "tokenizer_config.json": {"added_tokens_decoder": {)" +
         added + R"(}},
    "model_name": "tiny"})";
}

inline std::vector<int32_t> tiny_config(bool aligner, int rows = kRows) {
  std::vector<int32_t> c(aligner ? 155 : 154, 0);
  c[0] = 0;  // dtype f32
  c[1] = rows;
  c[2] = kH;
  c[3] = kHeads;
  c[4] = 1;  // layers
  c[5] = kInter;
  c[6] = 256;  // max_length
  c[7] = c[8] = c[9] = c[10] = -1;
  c[11] = kKv;
  c[12] = kHd;
  float theta = 1e6f, yarn = -1.0f;
  std::memcpy(&c[13], &theta, 4);
  std::memcpy(&c[14], &yarn, 4);
  c[15] = -1;
  c[16] = 1;
  c[17] = c[18] = c[19] = -1;
  c[150] = 1;  // mrope_section
  c[151] = 1;
  if (aligner) c[154] = kClassify;
  return c;
}

inline std::vector<TensorSpec> tiny_tensors(bool aligner, int rows = kRows) {
  std::vector<TensorSpec> t;
  auto add = [&](const std::string& n, std::vector<int32_t> d, int32_t type = 0) {
    t.push_back({n, std::move(d), type});
  };
  add("audio.conv2d1.weight", {kCh, 1, 3, 3}, 1);  // f16 like the real files
  add("audio.conv2d1.bias", {kCh});
  add("audio.conv2d2.weight", {kCh, kCh, 3, 3}, 1);
  add("audio.conv2d2.bias", {kCh});
  add("audio.conv2d3.weight", {kCh, kCh, 3, 3}, 1);
  add("audio.conv2d3.bias", {kCh});
  add("audio.conv_out.weight", {kD, kCh * 16}, 2);  // q4_0: last dim 32
  const std::string a = "audio.layers.0.";
  for (const char* n : {"input_layernorm", "post_attention_layernorm"}) {
    add(a + n + ".weight", {kD});
    add(a + n + ".bias", {kD});
  }
  for (const char* p : {"q_proj", "k_proj", "v_proj", "o_proj"}) {
    add(a + "self_attn." + p + ".weight", {kD, kD}, 30);  // bf16
    add(a + "self_attn." + p + ".bias", {kD});
  }
  add(a + "mlp.fc0.weight", {kFfn, kD});
  add(a + "mlp.fc0.bias", {kFfn});
  add(a + "mlp.fc1.weight", {kD, kFfn});
  add(a + "mlp.fc1.bias", {kD});
  add("audio.ln_post.weight", {kD});
  add("audio.ln_post.bias", {kD});
  add("multi_modal_projector.proj1.weight", {kD, kD});
  add("multi_modal_projector.proj1.bias", {kD});
  add("multi_modal_projector.proj2.weight", {kH, kD});
  add("multi_modal_projector.proj2.bias", {kH});
  add("model.embed_tokens.weight", {rows, kH});
  const std::string m = "model.layers.0.";
  add(m + "input_layernorm.weight", {kH});
  add(m + "post_attention_layernorm.weight", {kH});
  add(m + "self_attn.q_proj.weight", {kHeads * kHd, kH});
  add(m + "self_attn.k_proj.weight", {kKv * kHd, kH});
  add(m + "self_attn.v_proj.weight", {kKv * kHd, kH});
  add(m + "self_attn.o_proj.weight", {kH, kHeads * kHd});
  add(m + "self_attn.q_norm.weight", {kHd});
  add(m + "self_attn.k_norm.weight", {kHd});
  add(m + "mlp.gate_proj.weight", {kInter, kH});
  add(m + "mlp.up_proj.weight", {kInter, kH});
  add(m + "mlp.down_proj.weight", {kH, kInter});
  add("model.norm.weight", {kH});
  add("lm_head.weight", {aligner ? kClassify : rows, kH});
  return t;
}

inline Spec tiny_spec(bool aligner = false) {
  Spec s;
  s.model_type = aligner ? kModelTypeQwen3ForcedAligner : kModelTypeQwen3Asr;
  s.meta = tiny_meta(aligner);
  s.config = tiny_config(aligner);
  s.vocab = {"a", "b", "ab"};
  s.merges = {"a b"};
  s.tensors = tiny_tensors(aligner);
  return s;
}

class Writer {
 public:
  std::vector<uint8_t> bytes;
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void raw(const std::string& s) { bytes.insert(bytes.end(), s.begin(), s.end()); }
  void patch_u32(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(v >> (8 * i));
  }
};

// Deterministic payload bytes: f32 tensors hold 0.5 * (index + 1) so tests can read them back.
inline void write_payload(Writer* w, const TensorSpec& t) {
  int64_t nbytes = t.payload;
  if (nbytes < 0) {
    int64_t numel = 1;
    for (int32_t d : t.dims) numel *= d;
    const GgmlType type = static_cast<GgmlType>(t.type);
    nbytes = type_is_known(t.type) ? static_cast<int64_t>(row_bytes(type, numel)) : numel * 4;
  }
  for (int64_t i = 0; i < nbytes; ++i) {
    if (t.type == 0 && t.payload < 0) {
      float v = 0.5f * static_cast<float>(i / 4 + 1);
      uint8_t b[4];
      std::memcpy(b, &v, 4);
      w->bytes.push_back(b[i % 4]);
    } else {
      w->bytes.push_back(static_cast<uint8_t>(i * 7 + 1));
    }
  }
}

struct Built {
  std::vector<uint8_t> bytes;
  std::map<std::string, size_t> record_at;  // tensor name -> offset of its record
  size_t offset_config = 0, offset_tokenizer = 0, offset_tensors = 0;
};

inline Built build(const Spec& s) {
  Built out;
  Writer w;
  w.raw("ggmm");
  w.u32(s.ggmm_version);
  w.u32(0);
  w.u32(0);
  w.u32(0);
  w.raw(s.meta);
  while (w.bytes.size() % 4) w.bytes.push_back(0);
  out.offset_config = w.bytes.size();
  w.patch_u32(8, static_cast<uint32_t>(out.offset_config));
  w.u32(s.model_type);
  w.i32(s.file_version);
  for (int32_t v : s.config) w.i32(v);
  out.offset_tokenizer = w.bytes.size();
  w.patch_u32(12, static_cast<uint32_t>(out.offset_tokenizer));
  for (const std::string& v : s.vocab) {
    w.i32(static_cast<int32_t>(v.size()));
    w.raw(v);
    w.bytes.push_back(1);
  }
  w.i32(-1);
  for (const std::string& m : s.merges) {
    w.i32(static_cast<int32_t>(m.size()));
    w.raw(m);
  }
  w.i32(-1);
  out.offset_tensors = w.bytes.size();
  w.patch_u32(16, static_cast<uint32_t>(out.offset_tensors));
  for (const TensorSpec& t : s.tensors) {
    out.record_at[t.name] = w.bytes.size();
    w.i32(t.name_len == -2 ? static_cast<int32_t>(t.name.size()) : t.name_len);
    w.raw(t.name);
    w.i32(t.ndim == -2 ? static_cast<int32_t>(t.dims.size()) : t.ndim);
    for (int32_t d : t.dims) w.i32(d);
    w.i32(t.type);
    while (w.bytes.size() % 16) w.bytes.push_back(0);
    write_payload(&w, t);
  }
  out.bytes = std::move(w.bytes);
  return out;
}

}  // namespace ggmm_builder
