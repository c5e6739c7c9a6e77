// Tests of the GGMM reader (research/chatllm-qwen3-asr.md §1) on small files built in memory,
// and of its behaviour on every kind of corruption (run these under ASan/UBSan).
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ggmm.h"
#include "ggmm_builder.h"
#include "test.h"

using namespace qasr;
using namespace ggmm_builder;

namespace {

std::string parse_error(const std::vector<uint8_t>& bytes) {
  ModelFile f;
  std::string err;
  CHECK(!parse_ggmm(bytes.data(), bytes.size(), &f, &err));
  CHECK(!err.empty());
  return err;
}

std::string parse_error(const Spec& s) { return parse_error(build(s).bytes); }

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TensorSpec& tensor(Spec& s, const std::string& name) {
  for (TensorSpec& t : s.tensors) {
    if (t.name == name) return t;
  }
  qtest::fail(__FILE__, __LINE__, "no tensor " + name);
  return s.tensors[0];
}

void remove_tensor(Spec& s, const std::string& name) {
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    if (s.tensors[i].name == name) {
      s.tensors.erase(s.tensors.begin() + static_cast<long>(i));
      return;
    }
  }
}

}  // namespace

// ---- the good files ---------------------------------------------------------------------------

TEST(ggmm_parses_minimal_asr) {
  const Built b = build(tiny_spec());
  ModelFile f;
  std::string err;
  CHECK(parse_ggmm(b.bytes.data(), b.bytes.size(), &f, &err));
  CHECK(err.empty());
  CHECK(f.model_type == kModelTypeQwen3Asr && !f.is_aligner() && f.version == 1);
  CHECK(f.meta["model_name"].string_or("") == "tiny");
  CHECK(f.quant_name == "f32");
  CHECK(f.raw.vocab_size == kRows && f.raw.hidden_size == kH && f.raw.num_key_value_heads == kKv);
  CHECK(f.raw.rope_theta == 1e6f && f.raw.yarn_factor == -1.0f && f.raw.eos_token_id == -1);
  CHECK(f.raw.mrope_section[0] == 1 && f.raw.mrope_section[1] == 1 && f.raw.classify_num == 0);
  CHECK(f.audio.d_model == kD && f.audio.encoder_layers == 1 && f.audio.encoder_attention_heads == 2);
  CHECK(f.audio.encoder_ffn_dim == kFfn && f.audio.downsample_hidden_size == kCh);
  CHECK(f.audio.num_mel_bins == 128 && f.audio.n_window == 50 && f.audio.n_window_infer == 800);
  CHECK(f.audio.output_dim == kH && f.audio.n_fft == 400 && f.audio.hop_length == 160);
  CHECK(f.audio.sampling_rate == 16000 && f.audio.max_source_positions == 1500);
  CHECK(f.text.vocab_size == kRows && f.text.hidden_size == kH && f.text.num_layers == 1);
  CHECK(f.text.num_heads == kHeads && f.text.num_kv_heads == kKv && f.text.head_dim == kHd);
  CHECK(f.text.intermediate_size == kInter && f.text.max_positions == 256);
  CHECK(f.text.rope_theta == 1e6f && f.text.rms_norm_eps == 1e-6f && f.text.head_rows == kRows);
  CHECK(!f.tied_head && f.head() == f.find("lm_head.weight"));
  CHECK((f.vocab == std::vector<std::string>{"a", "b", "ab"}));
  CHECK((f.merges == std::vector<std::string>{"a b"}));
  CHECK(f.ids.endoftext == 3 && f.ids.im_start == 4 && f.ids.im_end == 5 && f.ids.audio_start == 6);
  CHECK(f.ids.audio_end == 7 && f.ids.audio_pad == 8 && f.ids.asr_text == 9 && f.ids.timestamp == 10);
  CHECK(f.added_tokens.size() == 8 && f.added_tokens.at(4).special && !f.added_tokens.at(9).special);
  CHECK(f.added_tokens.at(9).content == "<asr_text>");
  CHECK((f.languages == std::vector<std::string>{"Chinese", "English"}));
  CHECK(f.tensors.size() == tiny_tensors(false).size() && f.tensor_order.size() == f.tensors.size());
  CHECK(f.tensor_order.front() == "audio.conv2d1.weight" && f.tensor_order.back() == "lm_head.weight");
  // Views point into the buffer, 16-byte aligned in the file, with the right sizes.
  for (const auto& kv : f.tensors) {
    const TensorView& t = kv.second;
    CHECK(t.data >= b.bytes.data() && t.data + t.nbytes <= b.bytes.data() + b.bytes.size());
    CHECK((t.data - b.bytes.data()) % 16 == 0);
    CHECK(t.nbytes == row_bytes(t.type, t.numel()));
  }
  const TensorView* embed = f.find("model.embed_tokens.weight");
  CHECK(embed && embed->rows() == kRows && embed->cols() == kH && embed->numel() == kRows * kH);
  float v[2];
  std::memcpy(v, embed->data, sizeof v);
  CHECK(v[0] == 0.5f && v[1] == 1.0f);
  const TensorView* conv = f.find("audio.conv2d1.weight");
  CHECK(conv && conv->type == GgmlType::F16 && conv->rows() == kCh * 3 && conv->cols() == 3);
  CHECK(f.find("audio.conv_out.weight")->type == GgmlType::Q4_0);
  CHECK(f.find("audio.conv_out.weight")->nbytes == kD * 18u);
  CHECK(f.find("audio.layers.0.self_attn.q_proj.weight")->type == GgmlType::BF16);
  CHECK(f.find("audio.ln_post.bias")->rows() == 1);
  CHECK(f.find("nope") == nullptr);
  CHECK(validate_model_tensors(f, &err));
}

TEST(ggmm_parses_minimal_aligner) {
  ModelFile f;
  std::string err;
  const Built b = build(tiny_spec(true));
  CHECK(parse_ggmm(b.bytes.data(), b.bytes.size(), &f, &err));
  CHECK(f.is_aligner() && f.raw.classify_num == kClassify && f.text.head_rows == kClassify);
  CHECK(f.timestamp_segment_ms == 40 && !f.tied_head);
  // The aligner's head is not vocab-wide and cannot be tied.
  Spec s = tiny_spec(true);
  remove_tensor(s, "lm_head.weight");
  CHECK(has(parse_error(s), "Missing tensor 'lm_head.weight'"));
  s = tiny_spec(true);
  tensor(s, "lm_head.weight").dims = {kRows, kH};
  CHECK(has(parse_error(s), "Tensor 'lm_head.weight' has shape [12,4] but the config says [5,4]"));
  s = tiny_spec(true);
  s.config[154] = 0;
  CHECK(has(parse_error(s), "classify_num"));
}

TEST(ggmm_tied_head_and_defaults) {
  Spec s = tiny_spec();
  remove_tensor(s, "lm_head.weight");
  s.config[21] = 1;  // tie_word_embeddings: only a file that says "tied" may lack lm_head
  // Without tokenizer_config / preprocessor / eps the defaults apply (ids must still fit).
  s.meta = tiny_meta(false);
  const Built b = build(s);
  ModelFile f;
  std::string err;
  CHECK(parse_ggmm(b.bytes.data(), b.bytes.size(), &f, &err));
  CHECK(f.tied_head && f.head() == f.find("model.embed_tokens.weight") && f.text.head_rows == kRows);

  s = tiny_spec();
  const std::string no_tok = R"({"config.json": {"thinker_config": {"audio_config": {"d_model": 4,
      "encoder_layers": 1, "encoder_attention_heads": 2, "encoder_ffn_dim": 8,
      "downsample_hidden_size": 2}}}})";
  s.meta = no_tok;
  const std::string e = parse_error(s);  // default ids (151643...) do not fit 12 rows
  CHECK(has(e, "special token id 151643") && has(e, "12-row embedding"));
  s.config[1] = 151706;
  tensor(s, "model.embed_tokens.weight").dims = {151706, kH};
  tensor(s, "lm_head.weight").dims = {151706, kH};
  const Built big = build(s);
  CHECK(parse_ggmm(big.bytes.data(), big.bytes.size(), &f, &err));
  CHECK(f.ids.im_start == 151644 && f.ids.asr_text == 151704 && f.ids.timestamp == 151705);
  CHECK(f.text.rms_norm_eps == 1e-6f && f.audio.n_fft == 400 && f.audio.num_mel_bins == 128);
  CHECK(f.audio.n_window == 50 && f.audio.n_window_infer == 800 && f.languages.empty());
  CHECK(f.added_tokens.empty());
}

// ---- header-level corruption ----------------------------------------------------------------

TEST(ggmm_bad_magic_version_type) {
  std::vector<uint8_t> bytes = build(tiny_spec()).bytes;
  std::vector<uint8_t> bad = bytes;
  bad[0] = 'x';
  CHECK(parse_error(bad) == "Not a GGMM model file (bad magic)");
  std::memcpy(bad.data(), "ggml", 4);
  CHECK(has(parse_error(bad), "legacy 'ggml'"));
  std::memcpy(bad.data(), "GGUF", 4);
  CHECK(has(parse_error(bad), "GGUF"));
  CHECK(has(parse_error(std::vector<uint8_t>{}), "too small"));
  CHECK(has(parse_error(std::vector<uint8_t>{'g', 'g'}), "too small"));

  Spec s = tiny_spec();
  s.ggmm_version = 2;
  CHECK(parse_error(s) == "Unsupported GGMM version 2 (this app reads version 1)");
  s = tiny_spec();
  s.model_type = 0x12345678;
  CHECK(has(parse_error(s), "Model type 0x12345678 is not Qwen3-ASR"));
  s.model_type = 0x00000100;  // e.g. another chatllm model
  CHECK(has(parse_error(s), "Model type 0x00000100"));
  s = tiny_spec();
  s.file_version = 2;
  CHECK(has(parse_error(s), "Unsupported model version 2"));
  // An ASR type with the aligner's config layout (or the reverse) shifts every later field.
  s = tiny_spec();
  s.model_type = kModelTypeQwen3ForcedAligner;
  CHECK(!parse_error(s).empty());
}

TEST(ggmm_bad_header_offsets_and_metadata) {
  Built b = build(tiny_spec());
  std::vector<uint8_t> bad = b.bytes;
  Writer w;
  w.bytes = bad;
  w.patch_u32(8, 8);  // config inside the header
  CHECK(has(parse_error(w.bytes), "inside the header"));
  w.bytes = bad;
  w.patch_u32(8, 0xFFFFFFF0u);
  CHECK(has(parse_error(w.bytes), "truncated: the metadata needs"));
  w.bytes = bad;
  w.patch_u32(12, static_cast<uint32_t>(bad.size() + 1));
  CHECK(has(parse_error(w.bytes), "the vocabulary starts at offset"));
  w.bytes = bad;
  w.patch_u32(16, 0x7FFFFFFF);
  CHECK(has(parse_error(w.bytes), "the tensors start at offset"));

  Spec s = tiny_spec();
  s.meta = "{\"config.json\": [1, 2";
  CHECK(has(parse_error(s), "metadata is not valid JSON (JSON error at byte"));
  s.meta = "[1]";
  CHECK(has(parse_error(s), "not a JSON object"));
  s.meta = "";
  CHECK(has(parse_error(s), "not valid JSON"));
  s.meta = "{}";
  CHECK(has(parse_error(s), "no config.json"));
  s.meta = "{\"config.json\": {\"thinker_config\": {}}}";
  CHECK(has(parse_error(s), "no config.json thinker_config.audio_config"));
  s.meta = tiny_meta(false);
  const size_t at = s.meta.find("\"d_model\": 4");
  s.meta.replace(at, 12, "\"d_model\": -4");
  CHECK(has(parse_error(s), "invalid config.json thinker_config.audio_config.d_model"));
  s.meta = tiny_meta(false);
  s.meta.replace(s.meta.find("\"d_model\": 4,"), 13, "");
  CHECK(has(parse_error(s), "no config.json thinker_config.audio_config.d_model"));
  s.meta = tiny_meta(false);
  s.meta.replace(s.meta.find("\"encoder_attention_heads\": 2"), 28, "\"encoder_attention_heads\": 3");
  CHECK(has(parse_error(s), "not a multiple of encoder_attention_heads"));
  s.meta = tiny_meta(false);
  s.meta.replace(s.meta.find("1e-06"), 5, "-1.0e0");
  CHECK(has(parse_error(s), "rms_norm_eps"));
  s.meta = tiny_meta(false);
  s.meta.replace(s.meta.find("\"3\": {"), 6, "\"x3\": {");
  CHECK(has(parse_error(s), "added_tokens_decoder entry 'x3'"));
}

TEST(ggmm_bad_raw_config) {
  Spec s = tiny_spec();
  s.config[11] = 3;  // kv heads that do not divide 2 heads
  CHECK(has(parse_error(s), "num_key_value_heads 3 does not divide"));
  s = tiny_spec();
  s.config[4] = 0;
  CHECK(has(parse_error(s), "num_hidden_layers 0"));
  s = tiny_spec();
  s.config[2] = -5;
  CHECK(has(parse_error(s), "hidden_size -5"));
  s = tiny_spec();
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&s.config[13], &nan, 4);
  CHECK(has(parse_error(s), "rope_theta"));
  s = tiny_spec();
  s.config[1] = 11;  // config vocab_size disagrees with the embedding
  CHECK(has(parse_error(s), "Tensor 'model.embed_tokens.weight' has shape [12,4] but the config says [11,4]"));
}

// ---- the tokenizer section ------------------------------------------------------------------

TEST(ggmm_bad_vocab_records) {
  Spec s = tiny_spec();
  Built b = build(s);
  Writer w;
  w.bytes = b.bytes;
  w.patch_u32(b.offset_tokenizer, 0x7FFFFFFF);  // absurd first record length
  CHECK(has(parse_error(w.bytes), "vocabulary entry 0 at offset"));
  w.bytes = b.bytes;
  w.patch_u32(b.offset_tokenizer, 100);  // runs past the end of the file? no: into tensors
  CHECK(!parse_error(w.bytes).empty());
  s.vocab.push_back(std::string(kMaxTokenBytes + 1, 'x'));
  CHECK(has(parse_error(s), "vocabulary entry 3 is 4097 bytes long"));
  s = tiny_spec();
  s.vocab.clear();
  for (int i = 0; i < 13; ++i) s.vocab.push_back(std::string(1, static_cast<char>('a' + i)));
  CHECK(has(parse_error(s), "the vocabulary has 13 entries but the embedding only 12 rows"));
}

// ---- tensor records -------------------------------------------------------------------------

TEST(ggmm_bad_tensor_records) {
  Spec s = tiny_spec();
  tensor(s, "audio.ln_post.bias").type = 12;
  CHECK(has(parse_error(s), "Tensor 'audio.ln_post.bias' has type 12 (q4_k), which this app cannot read"));
  s = tiny_spec();
  tensor(s, "audio.ln_post.bias").type = 99;
  CHECK(has(parse_error(s), "has type 99"));
  s = tiny_spec();
  tensor(s, "audio.ln_post.bias").type = -1;
  CHECK(has(parse_error(s), "has type -1"));

  for (int32_t len : {-1, 0, -2147483647 - 1, 1025, 0x7FFFFFFF}) {
    s = tiny_spec();
    tensor(s, "model.norm.weight").name_len = len;
    const std::string e = parse_error(s);
    CHECK(has(e, "name length of " + std::to_string(len)));
  }
  s = tiny_spec();
  tensor(s, "model.norm.weight").name = std::string(kMaxTensorNameBytes, 'n');  // longest allowed
  CHECK(has(parse_error(s), "Missing tensor 'model.norm.weight'"));

  for (int32_t ndim : {0, 9, 5, -1}) {
    s = tiny_spec();
    tensor(s, "model.norm.weight").ndim = ndim;
    CHECK(has(parse_error(s), "'model.norm.weight' (record at offset"));
    CHECK(has(parse_error(s), "has " + std::to_string(ndim) + " dimensions (expected 1 to 4)"));
  }
  s = tiny_spec();
  tensor(s, "model.norm.weight").dims = {0};
  CHECK(has(parse_error(s), "tensor 'model.norm.weight' has dimension 0 = 0"));
  s = tiny_spec();
  tensor(s, "model.norm.weight").dims = {4, -3};
  CHECK(has(parse_error(s), "has dimension 1 = -3"));
  s = tiny_spec();
  tensor(s, "model.norm.weight").dims = {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF};
  tensor(s, "model.norm.weight").payload = 0;
  CHECK(has(parse_error(s), "impossibly large"));
  s = tiny_spec();
  tensor(s, "audio.conv_out.weight").dims = {kD, 48};  // q4_0 with a last dim of 48
  tensor(s, "audio.conv_out.weight").payload = 0;
  CHECK(has(parse_error(s), "of type q4_0 has a last dimension of 48, not a multiple of 32"));
  s = tiny_spec();
  s.tensors.push_back(s.tensors[3]);
  CHECK(has(parse_error(s), "tensor 'audio.conv2d2.bias' appears twice"));
  s = tiny_spec();
  tensor(s, "model.norm.weight").name = std::string("bad\x01name\xff", 10);
  CHECK(has(parse_error(s), "Missing tensor 'model.norm.weight'"));
}

TEST(ggmm_payload_past_end) {
  Spec s = tiny_spec();
  TensorSpec& last = s.tensors.back();  // lm_head [12,4] f32 = 192 bytes
  last.payload = 100;
  const Built b = build(s);
  const size_t data_at = b.bytes.size() - 100;
  const std::string e = parse_error(b.bytes);
  CHECK(e == "The model file is truncated: tensor 'lm_head.weight' needs 192 bytes at offset " +
                 std::to_string(data_at) + ", the file ends at " + std::to_string(b.bytes.size()) +
                 " (the download may be incomplete; try downloading the model again)");
  s = tiny_spec();
  tensor(s, "model.norm.weight").dims = {100000, 4};  // 1.6 MB claimed in a 4 kB file
  tensor(s, "model.norm.weight").payload = 0;
  CHECK(has(parse_error(s), "truncated: tensor 'model.norm.weight' needs 1600000 bytes"));
}

TEST(ggmm_shape_mismatch_and_missing) {
  Spec s = tiny_spec();
  tensor(s, "model.layers.0.self_attn.q_proj.weight").dims = {kH, kH + 1};
  CHECK(parse_error(s) ==
        "Tensor 'model.layers.0.self_attn.q_proj.weight' has shape [4,5] but the config says [4,4]");
  s = tiny_spec();
  tensor(s, "audio.conv2d1.weight").dims = {kCh, 3, 3};
  CHECK(has(parse_error(s), "Tensor 'audio.conv2d1.weight' has shape [2,3,3] but the config says [2,1,3,3]"));
  s = tiny_spec();
  tensor(s, "multi_modal_projector.proj2.weight").dims = {8, kD};
  tensor(s, "multi_modal_projector.proj2.bias").dims = {8};
  CHECK(has(parse_error(s), "'multi_modal_projector.proj2.weight' has shape [8,4] but the config says [4,4]"));
  s = tiny_spec();
  tensor(s, "audio.conv_out.weight").dims = {kD, 64};
  CHECK(has(parse_error(s), "'audio.conv_out.weight' has shape [4,64] but the config says [4,32]"));
  // Every required tensor, when dropped, is reported by name.
  for (const TensorSpec& t : tiny_tensors(false)) {
    s = tiny_spec();
    remove_tensor(s, t.name);
    CHECK(has(parse_error(s), "Missing tensor '" + t.name + "'"));
  }
  // Extra tensors are ignored.
  s = tiny_spec();
  s.tensors.push_back({"extra.unknown", {3}, 0});
  const Built b = build(s);
  ModelFile f;
  std::string err;
  CHECK(parse_ggmm(b.bytes.data(), b.bytes.size(), &f, &err));
  // validate_model_tensors on its own.
  f.tensors.erase("model.layers.0.mlp.up_proj.weight");
  CHECK(!validate_model_tensors(f, &err));
  CHECK(has(err, "Missing tensor 'model.layers.0.mlp.up_proj.weight'"));
}

// ---- truncation and fuzzing -------------------------------------------------------------------

TEST(ggmm_truncated_at_every_offset) {
  for (bool aligner : {false, true}) {
    const Built b = build(tiny_spec(aligner));
    int tensor_msgs = 0;
    for (size_t n = 0; n < b.bytes.size(); ++n) {
      // A fresh heap copy of exactly n bytes, so ASan catches any read past the end.
      std::vector<uint8_t> prefix(b.bytes.begin(), b.bytes.begin() + static_cast<long>(n));
      ModelFile f;
      std::string err;
      const bool ok = parse_ggmm(prefix.empty() ? nullptr : prefix.data(), n, &f, &err);
      // Every cut is detected, also the one exactly before a trailing lm_head record (the file
      // says its head is untied, so the missing record means a truncated file).
      CHECK(!ok);
      CHECK(!err.empty());
      if (n > b.offset_tensors) {
        // Inside the tensors: either a cut record/payload or (at a record boundary) a missing one.
        CHECK(has(err, "truncated") || has(err, "Missing tensor"));
        if (has(err, "truncated: tensor '")) ++tensor_msgs;
      }
    }
    CHECK(tensor_msgs > 100);
  }
}

TEST(ggmm_random_corruption_never_crashes) {
  const Built b = build(tiny_spec());
  std::mt19937 rng(1234);
  int failures = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::vector<uint8_t> bytes = b.bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0: bytes[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 1: bytes[at] = static_cast<uint8_t>(rng()); break;
        default: bytes[at] = (rng() & 1) ? 0xFF : 0x00; break;
      }
    }
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    ModelFile f;
    std::string err;
    if (!parse_ggmm(bytes.data(), bytes.size(), &f, &err)) {
      CHECK(!err.empty());
      ++failures;
    } else {
      CHECK(validate_model_tensors(f, &err));  // anything accepted is fully consistent
    }
  }
  CHECK(failures > 1000);
}
