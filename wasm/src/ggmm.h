// Reader for chatllm.cpp's GGMM v1 container (research/chatllm-qwen3-asr.md §1): header and
// offsets, JSON metadata, model type, the raw config struct, vocabulary + merges, tensor records.
// It only reads and validates; the model parts (encoder, decoder, aligner) compute from it.
// Tensors are views into the caller's buffer, which must outlive the ModelFile (no copy).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ggml_types.h"
#include "json.h"

namespace qasr {

constexpr uint32_t kModelTypeQwen3Asr = 0x1000010F;
constexpr uint32_t kModelTypeQwen3ForcedAligner = 0x04000002;

struct TensorView {
  std::string name;
  std::vector<int64_t> shape;  // PyTorch order (outermost first), as stored in the file
  GgmlType type = GgmlType::F32;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  int64_t numel() const;
  // For 2-D tensors: shape[0] rows of shape[1] elements. 1-D: 1 row.
  int64_t rows() const;
  int64_t cols() const;
};

// The raw config struct (616 bytes for ASR, 620 for the aligner), field by field (§1.4).
struct RawConfig {
  int32_t dtype = 0;
  int32_t vocab_size = 0;
  int32_t hidden_size = 0;
  int32_t num_attention_heads = 0;
  int32_t num_hidden_layers = 0;
  int32_t intermediate_size = 0;
  int32_t max_length = 0;
  int32_t bos_token_id = -1;
  int32_t eos_token_id = -1;
  int32_t pad_token_id = -1;
  int32_t sep_token_id = -1;
  int32_t num_key_value_heads = 0;
  int32_t head_dim = 0;
  float rope_theta = 0;
  float yarn_factor = -1;
  int32_t yarn_original_max = -1;
  int32_t decoder_sparse_step = 0;
  int32_t moe_intermediate_size = -1;
  int32_t num_experts_per_tok = -1;
  int32_t num_experts = -1;
  int32_t norm_topk_prob = 0;
  int32_t tie_word_embeddings = 0;
  int32_t mrope_section[4] = {0, 0, 0, 0};
  int32_t classify_num = 0;  // aligner only
};

// Encoder settings from config.json thinker_config.audio_config (and the preprocessor).
struct AudioConfig {
  int num_mel_bins = 128;
  int d_model = 0;
  int encoder_layers = 0;
  int encoder_attention_heads = 0;
  int encoder_ffn_dim = 0;
  int downsample_hidden_size = 0;
  int n_window = 50;           // conv/position chunk = 2 * n_window mel frames
  int n_window_infer = 800;    // attention window = 13 * n_window_infer / 100 tokens
  int max_source_positions = 1500;
  int output_dim = 0;          // from proj2's shape
  // preprocessor_config.json
  int n_fft = 400;
  int hop_length = 160;
  int sampling_rate = 16000;
};

struct TextConfig {
  int vocab_size = 0;       // rows of embed_tokens
  int hidden_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int intermediate_size = 0;
  int max_positions = 0;
  float rope_theta = 1e6f;
  float rms_norm_eps = 1e-6f;  // config.json text_config.rms_norm_eps
  int head_rows = 0;           // rows of lm_head: vocab (ASR) or classify_num (aligner)
};

struct AddedToken {
  std::string content;
  bool special = false;
};

struct SpecialIds {
  int endoftext = 151643;
  int im_start = 151644;
  int im_end = 151645;
  int audio_start = 151669;
  int audio_end = 151670;
  int audio_pad = 151676;
  int asr_text = 151704;
  int timestamp = 151705;
};

struct ModelFile {
  uint32_t model_type = 0;
  uint32_t version = 0;
  Json meta;  // the whole JSON metadata object
  RawConfig raw;
  AudioConfig audio;
  TextConfig text;
  SpecialIds ids;
  std::vector<std::string> languages;  // config.json support_languages
  int timestamp_segment_ms = 80;       // aligner
  std::string quant_name;              // e.g. "q4_0" (from raw.dtype)
  std::vector<std::string> vocab;      // byte-level strings, id order
  std::vector<std::string> merges;     // "a b", rank order
  std::unordered_map<int, AddedToken> added_tokens;  // from added_tokens_decoder
  std::unordered_map<std::string, TensorView> tensors;
  std::vector<std::string> tensor_order;
  // True when an ASR file has no lm_head.weight: the output head is model.embed_tokens.weight
  // (HF tie_word_embeddings). Never true for the aligner, whose head is [classify_num, hidden].
  bool tied_head = false;
  // The output head to use: lm_head.weight, or the embedding when tied_head.
  const TensorView* head() const;

  bool is_aligner() const { return model_type == kModelTypeQwen3ForcedAligner; }
  const TensorView* find(const std::string& name) const;
};

// Parses and validates a whole file held in memory. Returns false with a clear, user-facing
// message in *error on any malformed input (bad magic, wrong version, unknown model type,
// truncated section or record, unknown tensor type, payload past the end, missing metadata,
// a tensor shape that disagrees with the config, a missing required tensor).
bool parse_ggmm(const uint8_t* data, size_t size, ModelFile* out, std::string* error);

// Checks that every tensor the ASR / aligner forward pass needs exists with the right shape
// (called by parse_ggmm; exposed for tests). Uses file.raw, file.audio and file.text
// (hidden/heads/layers/...), and file.tensors; an ASR file may lack lm_head.weight (tied head).
bool validate_model_tensors(const ModelFile& file, std::string* error);

// Limits enforced by parse_ggmm (a corrupt length field must not make the reader allocate or
// scan absurd amounts).
constexpr size_t kMaxTensorNameBytes = 1024;
constexpr size_t kMaxTokenBytes = 4096;       // one vocabulary record
constexpr size_t kMaxVocabEntries = 1 << 21;  // vocabulary records (Qwen: 151,643)
constexpr size_t kMaxMerges = 1 << 21;        // merge records (Qwen: 151,387)
constexpr size_t kMaxTensors = 1 << 16;       // tensor records (Qwen3-ASR 1.7B: ~ 700)

}  // namespace qasr
