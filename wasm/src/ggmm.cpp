// Reader for chatllm.cpp's GGMM v1 container (research/chatllm-qwen3-asr.md §1: 1.2 layout,
// 1.3 model types, 1.4 config struct, 1.5 tokenizer section, 1.6 tensor records, 1.7 names and
// shapes; §6 tensor types) and for the HF configs in its metadata (qwen3-asr-official.md §1).
// Every read is bounds-checked: a truncated or corrupt file yields a message, never a crash.
#include "ggmm.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace qasr {
namespace {

constexpr size_t kHeaderBytes = 20;
constexpr size_t kRawConfigAsrBytes = 616;
constexpr size_t kRawConfigAlignerBytes = 620;
constexpr uint64_t kTensorAlign = 16;
constexpr int64_t kMaxElements = int64_t(1) << 40;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

// A tensor name from the file, with control and non-ASCII bytes escaped for messages.
std::string quoted(const std::string& name) {
  std::string out = "'";
  for (unsigned char c : name) {
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out + "'";
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string missing_msg(const std::string& name) {
  return "Missing tensor " + quoted(name) +
         " (the model file is incomplete or is not a Qwen3-ASR conversion)";
}

std::string truncated_msg(const std::string& what, uint64_t need, uint64_t at, uint64_t size) {
  return "The model file is truncated: " + what + " needs " + std::to_string(need) +
         " bytes at offset " + std::to_string(at) + ", the file ends at " + std::to_string(size) +
         " (the download may be incomplete; try downloading the model again)";
}

// Bounds-checked little-endian cursor over the file. All positions are 64-bit so that no
// addition can wrap on wasm32.
class Reader {
 public:
  Reader(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t size() const { return size_; }
  uint64_t remaining() const { return size_ - pos_; }
  bool has(uint64_t n) const { return n <= remaining(); }
  bool seek(uint64_t p) {
    if (p > size_) return false;
    pos_ = p;
    return true;
  }
  const uint8_t* here() const { return data_ + pos_; }

  bool bytes(uint64_t n, const uint8_t** out) {
    if (!has(n)) return false;
    *out = data_ + pos_;
    pos_ += n;
    return true;
  }
  bool u32(uint32_t* v) {
    const uint8_t* p = nullptr;
    if (!bytes(4, &p)) return false;
    *v = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
    return true;
  }
  bool i32(int32_t* v) {
    uint32_t u = 0;
    if (!u32(&u)) return false;
    std::memcpy(v, &u, sizeof u);
    return true;
  }
  bool u8(uint8_t* v) {
    const uint8_t* p = nullptr;
    if (!bytes(1, &p)) return false;
    *v = *p;
    return true;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

int32_t le_i32(const uint8_t* p) {
  const uint32_t u = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                     static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
  int32_t v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

float le_f32(const uint8_t* p) {
  const int32_t i = le_i32(p);
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

struct Header {
  uint32_t offset_config = 0;
  uint32_t offset_tokenizer = 0;
  uint32_t offset_tensors = 0;
};

// ---- §1.2 header and metadata -------------------------------------------------------------

bool check_magic(const uint8_t* data, uint64_t size, std::string* error) {
  if (size < 4) {
    *error = "The file is too small to be a model (" + std::to_string(size) + " bytes)";
    return false;
  }
  if (std::memcmp(data, "ggmm", 4) == 0) return true;
  if (std::memcmp(data, "ggml", 4) == 0) {
    *error = "This is a legacy 'ggml' chatllm.cpp file without metadata; Qwen3-ASR needs a GGMM "
             "file (convert the model again with a current chatllm.cpp convert.py)";
  } else if (std::memcmp(data, "GGUF", 4) == 0) {
    *error = "This is a GGUF file (llama.cpp format), not a chatllm.cpp GGMM model file";
  } else {
    *error = "Not a GGMM model file (bad magic)";
  }
  return false;
}

bool parse_header(Reader& r, Header* h, uint32_t* version, std::string* error) {
  if (!check_magic(r.here(), r.size(), error)) return false;
  r.seek(4);
  if (!r.u32(version)) {
    *error = truncated_msg("the header", kHeaderBytes, 0, r.size());
    return false;
  }
  if (*version != 1) {
    *error = "Unsupported GGMM version " + std::to_string(*version) + " (this app reads version 1)";
    return false;
  }
  if (!r.u32(&h->offset_config) || !r.u32(&h->offset_tokenizer) || !r.u32(&h->offset_tensors)) {
    *error = truncated_msg("the header", kHeaderBytes, 0, r.size());
    return false;
  }
  if (h->offset_config < kHeaderBytes) {
    *error = "Corrupt model file: the header places the config at offset " +
             std::to_string(h->offset_config) + ", inside the header";
    return false;
  }
  return true;
}

bool parse_metadata(const uint8_t* data, uint64_t size, const Header& h, Json* meta,
                    std::string* error) {
  if (h.offset_config > size) {
    *error = truncated_msg("the metadata", h.offset_config - kHeaderBytes, kHeaderBytes, size);
    return false;
  }
  uint64_t end = h.offset_config;
  while (end > kHeaderBytes && data[end - 1] == 0) --end;  // NUL padding to a multiple of 4
  const std::string text(reinterpret_cast<const char*>(data + kHeaderBytes),
                         static_cast<size_t>(end - kHeaderBytes));
  std::string json_error;
  if (!Json::parse(text, meta, &json_error)) {
    *error = "The model's metadata is not valid JSON (" + json_error + " of the metadata)";
    return false;
  }
  if (!meta->is_object()) {
    *error = "The model's metadata is not a JSON object";
    return false;
  }
  return true;
}

// The writer back-patches these offsets; a complete file always contains them.
bool check_section_offsets(const Header& h, uint64_t size, std::string* error) {
  if (h.offset_tokenizer > size) {
    *error = "The model file is truncated: the header says the vocabulary starts at offset " +
             std::to_string(h.offset_tokenizer) + ", but the file ends at " + std::to_string(size) +
             " (the download may be incomplete; try downloading the model again)";
    return false;
  }
  if (h.offset_tensors > size) {
    *error = "The model file is truncated: the header says the tensors start at offset " +
             std::to_string(h.offset_tensors) + ", but the file ends at " + std::to_string(size) +
             " (the download may be incomplete; try downloading the model again)";
    return false;
  }
  return true;
}

// ---- §1.3 model type, §1.4 raw config -------------------------------------------------------

bool parse_model_type(Reader& r, ModelFile* out, std::string* error) {
  const uint64_t at = r.pos();
  int32_t type = 0, version = 0;
  if (!r.i32(&type) || !r.i32(&version)) {
    *error = truncated_msg("the model type and version", 8, at, r.size());
    return false;
  }
  out->model_type = static_cast<uint32_t>(type);
  if (out->model_type != kModelTypeQwen3Asr && out->model_type != kModelTypeQwen3ForcedAligner) {
    *error = "Model type " + hex32(out->model_type) + " is not Qwen3-ASR (" +
             hex32(kModelTypeQwen3Asr) + ") or Qwen3-ForcedAligner (" +
             hex32(kModelTypeQwen3ForcedAligner) + ")";
    return false;
  }
  if (version != 1) {
    *error = "Unsupported model version " + std::to_string(version) + " for " +
             (out->is_aligner() ? "Qwen3-ForcedAligner" : "Qwen3-ASR") + " (expected 1)";
    return false;
  }
  out->version = static_cast<uint32_t>(version);
  return true;
}

bool parse_raw_config(Reader& r, bool aligner, RawConfig* c, std::string* error) {
  const uint64_t at = r.pos();
  const size_t n = aligner ? kRawConfigAlignerBytes : kRawConfigAsrBytes;
  const uint8_t* p = nullptr;
  if (!r.bytes(n, &p)) {
    *error = truncated_msg("the config struct", n, at, r.size());
    return false;
  }
  c->dtype = le_i32(p + 0);
  c->vocab_size = le_i32(p + 4);
  c->hidden_size = le_i32(p + 8);
  c->num_attention_heads = le_i32(p + 12);
  c->num_hidden_layers = le_i32(p + 16);
  c->intermediate_size = le_i32(p + 20);
  c->max_length = le_i32(p + 24);
  c->bos_token_id = le_i32(p + 28);
  c->eos_token_id = le_i32(p + 32);
  c->pad_token_id = le_i32(p + 36);
  c->sep_token_id = le_i32(p + 40);
  c->num_key_value_heads = le_i32(p + 44);
  c->head_dim = le_i32(p + 48);
  c->rope_theta = le_f32(p + 52);
  c->yarn_factor = le_f32(p + 56);
  c->yarn_original_max = le_i32(p + 60);
  c->decoder_sparse_step = le_i32(p + 64);
  c->moe_intermediate_size = le_i32(p + 68);
  c->num_experts_per_tok = le_i32(p + 72);
  c->num_experts = le_i32(p + 76);
  c->norm_topk_prob = le_i32(p + 80);
  c->tie_word_embeddings = le_i32(p + 84);
  // 88: layer_is_sparse[128], unused.
  for (int i = 0; i < 4; ++i) c->mrope_section[i] = le_i32(p + 600 + 4 * i);
  c->classify_num = aligner ? le_i32(p + 616) : 0;
  return true;
}

// ---- §1.5 tokenizer section -----------------------------------------------------------------

// Reads records "int32 length, bytes[, uint8 type]" until a negative length.
bool parse_string_list(Reader& r, const char* what, bool has_type_byte, size_t max_count,
                       std::vector<std::string>* out, std::string* error) {
  for (;;) {
    const uint64_t at = r.pos();
    const std::string label = std::string(what) + " entry " + std::to_string(out->size());
    int32_t len = 0;
    if (!r.i32(&len)) {
      *error = truncated_msg(label, 4, at, r.size());
      return false;
    }
    if (len < 0) return true;
    if (static_cast<size_t>(len) > kMaxTokenBytes * 2 + 1) {
      *error = "Corrupt model file: " + label + " at offset " + std::to_string(at) +
               " claims " + std::to_string(len) + " bytes";
      return false;
    }
    if (out->size() >= max_count) {
      *error = "Corrupt model file: the " + std::string(what) + " has more than " +
               std::to_string(max_count) + " entries";
      return false;
    }
    const uint8_t* p = nullptr;
    uint8_t type = 0;
    if (!r.bytes(static_cast<uint64_t>(len), &p) || (has_type_byte && !r.u8(&type))) {
      *error = truncated_msg(label, 4 + static_cast<uint64_t>(len) + (has_type_byte ? 1 : 0), at,
                             r.size());
      return false;
    }
    out->emplace_back(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
  }
}

bool parse_tokenizer_section(Reader& r, ModelFile* out, std::string* error) {
  if (!parse_string_list(r, "vocabulary", true, kMaxVocabEntries, &out->vocab, error)) return false;
  for (size_t i = 0; i < out->vocab.size(); ++i) {
    if (out->vocab[i].size() > kMaxTokenBytes) {
      *error = "Corrupt model file: vocabulary entry " + std::to_string(i) + " is " +
               std::to_string(out->vocab[i].size()) + " bytes long";
      return false;
    }
  }
  return parse_string_list(r, "merge list", false, kMaxMerges, &out->merges, error);
}

// ---- §1.6 tensor records --------------------------------------------------------------------

bool read_tensor_shape(Reader& r, const std::string& name, uint64_t at, TensorView* t,
                       std::string* error) {
  int32_t ndim = 0;
  if (!r.i32(&ndim)) {
    *error = truncated_msg("the record of tensor " + quoted(name), 4, r.pos(), r.size());
    return false;
  }
  if (ndim < 1 || ndim > 4) {
    *error = "Corrupt model file: tensor " + quoted(name) + " (record at offset " +
             std::to_string(at) + ") has " + std::to_string(ndim) + " dimensions (expected 1 to 4)";
    return false;
  }
  int64_t numel = 1;
  for (int i = 0; i < ndim; ++i) {
    int32_t d = 0;
    if (!r.i32(&d)) {
      *error = truncated_msg("the record of tensor " + quoted(name), 4, r.pos(), r.size());
      return false;
    }
    if (d <= 0) {
      *error = "Corrupt model file: tensor " + quoted(name) + " has dimension " +
               std::to_string(i) + " = " + std::to_string(d);
      return false;
    }
    if (numel > kMaxElements / d) {  // checked before multiplying: no overflow
      *error = "Corrupt model file: tensor " + quoted(name) + " is impossibly large";
      return false;
    }
    numel *= d;
    t->shape.push_back(d);
  }
  return true;
}

bool read_tensor_type(Reader& r, const std::string& name, TensorView* t, std::string* error) {
  int32_t raw = 0;
  if (!r.i32(&raw)) {
    *error = truncated_msg("the record of tensor " + quoted(name), 4, r.pos(), r.size());
    return false;
  }
  if (!type_is_known(raw)) {
    *error = "Tensor " + quoted(name) + " has type " + std::to_string(raw) +
             (raw == 12 ? " (q4_k)" : "") +
             ", which this app cannot read (supported: f32, f16, bf16, q4_0, q4_1, q8_0)";
    return false;
  }
  t->type = static_cast<GgmlType>(raw);
  const int block = type_block_elems(t->type);
  if (t->shape.back() % block != 0) {
    *error = "Corrupt model file: tensor " + quoted(name) + " of type " + type_name(t->type) +
             " has a last dimension of " + std::to_string(t->shape.back()) +
             ", not a multiple of " + std::to_string(block);
    return false;
  }
  return true;
}

// Reads one record at r.pos() and moves past its payload.
bool parse_tensor_record(Reader& r, const uint8_t* data, TensorView* t, std::string* error) {
  const uint64_t at = r.pos();
  int32_t name_len = 0;
  if (!r.i32(&name_len)) {
    *error = truncated_msg("the tensor record", 4, at, r.size());
    return false;
  }
  if (name_len <= 0 || static_cast<size_t>(name_len) > kMaxTensorNameBytes) {
    *error = "Corrupt model file: the tensor record at offset " + std::to_string(at) +
             " has a name length of " + std::to_string(name_len) + " (expected 1 to " +
             std::to_string(kMaxTensorNameBytes) + ")";
    return false;
  }
  const uint8_t* name = nullptr;
  if (!r.bytes(static_cast<uint64_t>(name_len), &name)) {
    *error = truncated_msg("the name of the tensor record", static_cast<uint64_t>(name_len),
                           at + 4, r.size());
    return false;
  }
  t->name.assign(reinterpret_cast<const char*>(name), static_cast<size_t>(name_len));
  if (!read_tensor_shape(r, t->name, at, t, error)) return false;
  if (!read_tensor_type(r, t->name, t, error)) return false;
  const uint64_t start = (r.pos() + kTensorAlign - 1) / kTensorAlign * kTensorAlign;
  const int64_t numel = t->numel();
  const uint64_t nbytes = static_cast<uint64_t>(numel / type_block_elems(t->type)) *
                          static_cast<uint64_t>(type_block_bytes(t->type));
  if (start > r.size() || nbytes > r.size() - start) {
    *error = truncated_msg("tensor " + quoted(t->name), nbytes, start, r.size());
    return false;
  }
  t->data = data + start;
  t->nbytes = static_cast<size_t>(nbytes);
  r.seek(start + nbytes);
  return true;
}

bool parse_tensors(Reader& r, const uint8_t* data, ModelFile* out, std::string* error) {
  while (r.remaining() > 0) {
    if (out->tensor_order.size() >= kMaxTensors) {
      *error = "Corrupt model file: more than " + std::to_string(kMaxTensors) + " tensors";
      return false;
    }
    TensorView t;
    if (!parse_tensor_record(r, data, &t, error)) return false;
    if (out->tensors.count(t.name)) {
      *error = "Corrupt model file: tensor " + quoted(t.name) + " appears twice";
      return false;
    }
    out->tensor_order.push_back(t.name);
    std::string key = t.name;
    out->tensors.emplace(std::move(key), std::move(t));
  }
  return true;
}

// ---- configs from the metadata (qwen3-asr-official.md §1.1–1.2) ------------------------------

bool read_int(const Json& obj, const char* path, const char* key, int fallback, int lo, int hi,
              bool required, int* out, std::string* error) {
  const Json& v = obj[key];
  if (v.is_null() && !required) {
    *out = fallback;
    return true;
  }
  const double d = v.number_or(NAN);
  if (!(d >= lo && d <= hi) || d != std::floor(d)) {
    *error = std::string("The model metadata has ") + (v.is_null() ? "no" : "an invalid") + " " +
             path + "." + key + (v.is_null() ? "" : " (expected an integer from " +
                                                        std::to_string(lo) + " to " +
                                                        std::to_string(hi) + ")");
    return false;
  }
  *out = static_cast<int>(d);
  return true;
}

bool fill_audio_config(const Json& meta, AudioConfig* a, std::string* error) {
  const Json& config = meta["config.json"];
  if (!config.is_object()) {
    *error = "The model metadata has no config.json (convert the model with chatllm.cpp's convert.py)";
    return false;
  }
  const Json& ac = config["thinker_config"]["audio_config"];
  if (!ac.is_object()) {
    *error = "The model metadata has no config.json thinker_config.audio_config";
    return false;
  }
  const char* p = "config.json thinker_config.audio_config";
  const int big = 1 << 20;
  if (!read_int(ac, p, "d_model", 0, 1, 65536, true, &a->d_model, error) ||
      !read_int(ac, p, "encoder_layers", 0, 1, 1024, true, &a->encoder_layers, error) ||
      !read_int(ac, p, "encoder_attention_heads", 0, 1, 1024, true, &a->encoder_attention_heads,
                error) ||
      !read_int(ac, p, "encoder_ffn_dim", 0, 1, big, true, &a->encoder_ffn_dim, error) ||
      !read_int(ac, p, "downsample_hidden_size", 480, 1, 65536, false, &a->downsample_hidden_size,
                error) ||
      !read_int(ac, p, "num_mel_bins", 128, 1, 4096, false, &a->num_mel_bins, error) ||
      !read_int(ac, p, "n_window", 50, 1, big, false, &a->n_window, error) ||
      !read_int(ac, p, "n_window_infer", 800, 1, big, false, &a->n_window_infer, error) ||
      !read_int(ac, p, "max_source_positions", 1500, 1, big, false, &a->max_source_positions,
                error)) {
    return false;
  }
  if (a->d_model % a->encoder_attention_heads != 0) {
    *error = "The model metadata is inconsistent: audio d_model " + std::to_string(a->d_model) +
             " is not a multiple of encoder_attention_heads " +
             std::to_string(a->encoder_attention_heads);
    return false;
  }
  const Json& pre = meta["preprocessor_config.json"];  // optional: defaults are Whisper's
  const char* pp = "preprocessor_config.json";
  return read_int(pre, pp, "n_fft", 400, 1, 65536, false, &a->n_fft, error) &&
         read_int(pre, pp, "hop_length", 160, 1, 65536, false, &a->hop_length, error) &&
         read_int(pre, pp, "sampling_rate", 16000, 1000, 1000000, false, &a->sampling_rate, error);
}

bool fail_config(const std::string& what, std::string* error) {
  *error = "The model's config is corrupt: " + what;
  return false;
}

bool in_range(int32_t v, int32_t lo, int32_t hi) { return v >= lo && v <= hi; }

// Range checks of the raw config's LLM fields (§1.4), so a corrupt struct cannot ask for
// absurd allocations later.
bool check_raw_config(const RawConfig& raw, std::string* error) {
  struct Field {
    const char* name;
    int32_t value, lo, hi;
  };
  const Field fields[] = {
      {"hidden_size", raw.hidden_size, 1, 65536},
      {"num_hidden_layers", raw.num_hidden_layers, 1, 1024},
      {"num_attention_heads", raw.num_attention_heads, 1, 1024},
      {"head_dim", raw.head_dim, 0, 4096},  // 0: hidden_size / num_attention_heads
      {"intermediate_size", raw.intermediate_size, 1, 1 << 20},
      {"max_length", raw.max_length, 1, 1 << 24},
      {"vocab_size", raw.vocab_size, 1, 1 << 24},
  };
  for (const Field& f : fields) {
    if (!in_range(f.value, f.lo, f.hi)) {
      return fail_config(std::string(f.name) + " " + std::to_string(f.value), error);
    }
  }
  if (!in_range(raw.num_key_value_heads, 1, raw.num_attention_heads) ||
      raw.num_attention_heads % raw.num_key_value_heads != 0) {
    return fail_config("num_key_value_heads " + std::to_string(raw.num_key_value_heads) +
                           " does not divide num_attention_heads " + std::to_string(raw.num_attention_heads),
                       error);
  }
  if (raw.head_dim == 0 && raw.hidden_size < raw.num_attention_heads) return fail_config("head_dim 0", error);
  if (!(raw.rope_theta > 0.0f && std::isfinite(raw.rope_theta))) return fail_config("rope_theta", error);
  return true;
}

bool fill_text_config(const RawConfig& raw, const Json& meta, TextConfig* t, std::string* error) {
  if (!check_raw_config(raw, error)) return false;
  const int32_t head_dim = raw.head_dim > 0 ? raw.head_dim : raw.hidden_size / raw.num_attention_heads;
  t->hidden_size = raw.hidden_size;
  t->num_layers = raw.num_hidden_layers;
  t->num_heads = raw.num_attention_heads;
  t->num_kv_heads = raw.num_key_value_heads;
  t->head_dim = head_dim;
  t->intermediate_size = raw.intermediate_size;
  t->max_positions = raw.max_length;
  t->rope_theta = raw.rope_theta;
  const double eps = meta["config.json"]["thinker_config"]["text_config"]["rms_norm_eps"].number_or(1e-6);
  if (!(eps > 0.0 && eps < 1.0)) {
    *error = "The model metadata has an invalid config.json thinker_config.text_config.rms_norm_eps";
    return false;
  }
  t->rms_norm_eps = static_cast<float>(eps);
  return true;
}

// config.json keys that the HF configs keep at the top level (some copies nest them in
// thinker_config).
const Json& config_key(const Json& meta, const char* key) {
  const Json& config = meta["config.json"];
  return config.has(key) ? config[key] : config["thinker_config"][key];
}

bool fill_aligner_fields(const Json& meta, ModelFile* out, std::string* error) {
  const Json& langs = config_key(meta, "support_languages");
  for (const Json& l : langs.items()) {
    if (l.is_string()) out->languages.push_back(l.string_or(""));
  }
  if (!out->is_aligner()) return true;
  if (!in_range(out->raw.classify_num, 1, 1 << 20)) {
    return fail_config("classify_num " + std::to_string(out->raw.classify_num), error);
  }
  const double seg = config_key(meta, "timestamp_segment_time").number_or(80);
  if (!(seg >= 1 && seg <= 60000)) {
    *error = "The model metadata has an invalid config.json timestamp_segment_time";
    return false;
  }
  out->timestamp_segment_ms = static_cast<int>(seg);
  return true;
}

// Digits-only decimal id below 2^31.
bool parse_id(const std::string& s, int* id) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *id = v;
  return true;
}

void assign_special(const std::string& content, int id, SpecialIds* ids) {
  struct Named {
    const char* content;
    int SpecialIds::*field;
  };
  static const Named kNames[] = {
      {"<|endoftext|>", &SpecialIds::endoftext},   {"<|im_start|>", &SpecialIds::im_start},
      {"<|im_end|>", &SpecialIds::im_end},         {"<|audio_start|>", &SpecialIds::audio_start},
      {"<|audio_end|>", &SpecialIds::audio_end},   {"<|audio_pad|>", &SpecialIds::audio_pad},
      {"<asr_text>", &SpecialIds::asr_text},       {"<timestamp>", &SpecialIds::timestamp},
  };
  for (const Named& n : kNames) {
    if (content == n.content) ids->*(n.field) = id;
  }
}

bool fill_added_tokens(const Json& meta, ModelFile* out, std::string* error) {
  const Json& decoder = meta["tokenizer_config.json"]["added_tokens_decoder"];
  for (const auto& kv : decoder.members()) {
    int id = 0;
    const std::string content = kv.second["content"].string_or("");
    if (!parse_id(kv.first, &id) || content.empty() || content.size() > kMaxTokenBytes) {
      *error = "The model metadata has a corrupt tokenizer_config.json added_tokens_decoder entry " +
               quoted(kv.first);
      return false;
    }
    AddedToken tok;
    tok.content = content;
    tok.special = kv.second["special"].bool_or(false);
    out->added_tokens[id] = tok;
    assign_special(content, id, &out->ids);
  }
  return true;
}

bool check_token_ids(const ModelFile& f, std::string* error) {
  const int rows = f.text.vocab_size;
  if (f.vocab.size() > static_cast<size_t>(rows)) {
    *error = "The model file is inconsistent: the vocabulary has " + std::to_string(f.vocab.size()) +
             " entries but the embedding only " + std::to_string(rows) + " rows";
    return false;
  }
  for (const auto& kv : f.added_tokens) {
    if (kv.first >= rows) {
      *error = "The model file is inconsistent: token " + quoted(kv.second.content) + " has id " +
               std::to_string(kv.first) + " but the embedding has only " + std::to_string(rows) + " rows";
      return false;
    }
  }
  const int ids[] = {f.ids.endoftext, f.ids.im_start, f.ids.im_end, f.ids.audio_start,
                     f.ids.audio_end, f.ids.audio_pad, f.ids.asr_text, f.ids.timestamp};
  for (int id : ids) {
    if (id < 0 || id >= rows) {
      *error = "The model file is inconsistent: special token id " + std::to_string(id) +
               " is outside the " + std::to_string(rows) + "-row embedding "
               "(tokenizer_config.json added_tokens_decoder is missing or wrong)";
      return false;
    }
  }
  return true;
}

std::string quant_name_of(int32_t dtype) {
  if (dtype == 12) return "q4_k";
  if (type_is_known(dtype)) return type_name(static_cast<GgmlType>(dtype));
  return "type " + std::to_string(dtype);
}

// Sizes taken from tensors (the config struct does not hold them).
bool fill_from_tensors(ModelFile* out, std::string* error) {
  const TensorView* embed = out->find("model.embed_tokens.weight");
  if (!embed) {
    *error = missing_msg("model.embed_tokens.weight");
    return false;
  }
  if (embed->shape.size() != 2) {
    *error = "Tensor 'model.embed_tokens.weight' has shape " + shape_str(embed->shape) +
             " but the config says [" + std::to_string(out->raw.vocab_size) + "," +
             std::to_string(out->text.hidden_size) + "]";
    return false;
  }
  out->text.vocab_size = static_cast<int>(embed->shape[0]);
  const TensorView* head = out->find("lm_head.weight");
  // chatllm.cpp's converter writes tie_word_embeddings = 0 and always stores lm_head; a file that
  // says "untied" without it was cut short exactly at that record (GGMM has no tensor count).
  if (!head && !out->is_aligner() && out->raw.tie_word_embeddings == 0) {
    *error = missing_msg("lm_head.weight") + " (the file may be truncated)";
    return false;
  }
  out->tied_head = head == nullptr && !out->is_aligner();
  out->text.head_rows = head ? static_cast<int>(head->shape[0])
                             : (out->is_aligner() ? out->raw.classify_num : out->text.vocab_size);
  const TensorView* proj2 = out->find("multi_modal_projector.proj2.weight");
  out->audio.output_dim = proj2 ? static_cast<int>(proj2->shape[0]) : 0;
  return true;
}

// ---- tensor validation (§1.7) -----------------------------------------------------------------

class ShapeChecker {
 public:
  ShapeChecker(const ModelFile& f, std::string* error) : f_(f), error_(error) {}
  bool ok() const { return ok_; }

  void expect(const std::string& name, std::vector<int64_t> shape) {
    if (!ok_) return;
    const TensorView* t = f_.find(name);
    if (!t) {
      *error_ = missing_msg(name);
      ok_ = false;
    } else if (t->shape != shape) {
      *error_ = "Tensor " + quoted(name) + " has shape " + shape_str(t->shape) +
                " but the config says " + shape_str(shape);
      ok_ = false;
    }
  }
  void linear(const std::string& prefix, int64_t out, int64_t in, bool bias) {
    expect(prefix + ".weight", {out, in});
    if (bias) expect(prefix + ".bias", {out});
  }
  void norm(const std::string& prefix, int64_t n, bool bias) {
    expect(prefix + ".weight", {n});
    if (bias) expect(prefix + ".bias", {n});
  }

 private:
  const ModelFile& f_;
  std::string* error_;
  bool ok_ = true;
};

// Output size of a 3x3, stride-2, padding-1 convolution along one axis.
int64_t conv_out_size(int64_t n) { return (n - 1) / 2 + 1; }

void expect_audio(const ModelFile& f, ShapeChecker* c) {
  const AudioConfig& a = f.audio;
  const int64_t d = a.d_model, ch = a.downsample_hidden_size, ffn = a.encoder_ffn_dim;
  const int64_t freq = conv_out_size(conv_out_size(conv_out_size(a.num_mel_bins)));
  c->expect("audio.conv2d1.weight", {ch, 1, 3, 3});
  c->expect("audio.conv2d1.bias", {ch});
  c->expect("audio.conv2d2.weight", {ch, ch, 3, 3});
  c->expect("audio.conv2d2.bias", {ch});
  c->expect("audio.conv2d3.weight", {ch, ch, 3, 3});
  c->expect("audio.conv2d3.bias", {ch});
  c->expect("audio.conv_out.weight", {d, ch * freq});
  for (int i = 0; i < a.encoder_layers; ++i) {
    const std::string p = "audio.layers." + std::to_string(i) + ".";
    c->norm(p + "input_layernorm", d, true);
    c->norm(p + "post_attention_layernorm", d, true);
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "o_proj"}) {
      c->linear(p + "self_attn." + proj, d, d, true);
    }
    c->linear(p + "mlp.fc0", ffn, d, true);
    c->linear(p + "mlp.fc1", d, ffn, true);
  }
  c->norm("audio.ln_post", d, true);
  c->linear("multi_modal_projector.proj1", d, d, true);
  // The projector's output feeds the LLM, so output_dim must be the LLM's hidden size.
  c->linear("multi_modal_projector.proj2", f.text.hidden_size, d, true);
}

void expect_text(const ModelFile& f, ShapeChecker* c) {
  const TextConfig& t = f.text;
  const int64_t h = t.hidden_size, q = int64_t(t.num_heads) * t.head_dim,
                kv = int64_t(t.num_kv_heads) * t.head_dim, inter = t.intermediate_size;
  c->expect("model.embed_tokens.weight", {f.raw.vocab_size, h});
  for (int i = 0; i < t.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    c->norm(p + "input_layernorm", h, false);
    c->norm(p + "post_attention_layernorm", h, false);
    c->linear(p + "self_attn.q_proj", q, h, false);
    c->linear(p + "self_attn.k_proj", kv, h, false);
    c->linear(p + "self_attn.v_proj", kv, h, false);
    c->linear(p + "self_attn.o_proj", h, q, false);
    c->norm(p + "self_attn.q_norm", t.head_dim, false);
    c->norm(p + "self_attn.k_norm", t.head_dim, false);
    c->linear(p + "mlp.gate_proj", inter, h, false);
    c->linear(p + "mlp.up_proj", inter, h, false);
    c->linear(p + "mlp.down_proj", h, inter, false);
  }
  c->norm("model.norm", h, false);
  if (f.is_aligner()) {
    c->linear("lm_head", f.raw.classify_num, h, false);
  } else if (f.find("lm_head.weight")) {
    c->linear("lm_head", f.raw.vocab_size, h, false);
  }
}

}  // namespace

int64_t TensorView::numel() const {
  if (shape.empty()) return 0;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t TensorView::cols() const { return shape.empty() ? 0 : shape.back(); }

int64_t TensorView::rows() const {
  const int64_t c = cols();
  return c > 0 ? numel() / c : 0;
}

const TensorView* ModelFile::find(const std::string& name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

const TensorView* ModelFile::head() const {
  return tied_head ? find("model.embed_tokens.weight") : find("lm_head.weight");
}

bool validate_model_tensors(const ModelFile& file, std::string* error) {
  std::string local;
  ShapeChecker checker(file, error ? error : &local);
  expect_audio(file, &checker);
  expect_text(file, &checker);
  return checker.ok();
}

bool parse_ggmm(const uint8_t* data, size_t size, ModelFile* out, std::string* error) {
  std::string local;
  if (!error) error = &local;
  *out = ModelFile();
  if (static_cast<uint64_t>(size) > 0xFFFFFFFFull) {
    *error = "Model files of 4 GiB or more are not supported";
    return false;
  }
  if (!data && size) {
    *error = "No model data";
    return false;
  }
  Reader r(data, size);
  Header h;
  if (!parse_header(r, &h, &out->version, error)) return false;
  if (!parse_metadata(data, size, h, &out->meta, error)) return false;
  if (!check_section_offsets(h, size, error)) return false;
  r.seek(h.offset_config);
  // Like chatllm.cpp, read config, vocabulary and tensors in sequence from offset_config.
  if (!parse_model_type(r, out, error)) return false;
  if (!parse_raw_config(r, out->is_aligner(), &out->raw, error)) return false;
  if (!parse_tokenizer_section(r, out, error)) return false;
  if (!parse_tensors(r, data, out, error)) return false;
  out->quant_name = quant_name_of(out->raw.dtype);
  if (!fill_audio_config(out->meta, &out->audio, error)) return false;
  if (!fill_text_config(out->raw, out->meta, &out->text, error)) return false;
  if (!fill_aligner_fields(out->meta, out, error)) return false;
  if (!fill_added_tokens(out->meta, out, error)) return false;
  if (!fill_from_tensors(out, error)) return false;
  if (!validate_model_tensors(*out, error)) return false;
  return check_token_ids(*out, error);
}

}  // namespace qasr
