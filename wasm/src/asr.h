// Speech recognition on one chunk: ChatML prompt with the audio between <|audio_start|> and
// <|audio_end|>, optional context (system turn) and forced language, greedy decoding with a KV
// cache, a repetition guard, and parsing of `language X<asr_text>text`
// (research/qwen3-asr-official.md §4.2–4.5).
#pragma once
#include <string>
#include <vector>

#include "decoder.h"
#include "encoder.h"
#include "model.h"
#include "numerics.h"
#include "tokenizer.h"

namespace qasr {

struct AsrOptions {
  Numerics numerics;
  std::string language;  // "" = detect
  std::string context;
  int max_new_tokens = 0;  // 0 = proportional to the audio
  bool repetition_guard = true;
  bool ignore_eos = false;  // benchmarks: decode exactly max_new_tokens
};

struct AsrParsed {
  std::string language;  // "" when no speech / unknown
  std::string text;
};

// Canonical spelling of a language name among the model's languages ("english" → "English");
// "" if not supported.
std::string canonical_language(const ModelFile& f, const std::string& name);

// Prompt ids for `audio_tokens` audio positions (official template, always with a system turn).
std::vector<int> build_asr_prompt(const Model& m, int audio_tokens, const std::string& context,
                                  const std::string& language);

// Parses the decoded output (special tokens skipped): repetition repair, then the language tag.
AsrParsed parse_asr_output(const std::string& raw, const std::string& forced_language);

// Collapses runaway repetitions (any run of one character longer than `threshold`, and a pattern
// of up to `threshold` characters repeated `threshold` times), as the toolkit does (§4.4).
std::string repair_repetitions(const std::string& text, int threshold = 20);

// Length of a looping tail of token ids to cut, or 0 if the ids do not end in a loop.
size_t repetition_tail(const std::vector<int>& ids);

class AsrSession {
 public:
  bool start(Model* m, const float* pcm, int64_t n, const AsrOptions& opt, std::string* error);
  // Next token id, -1 when finished, -2 on error (see error()).
  int next();
  std::string take_text();
  std::string result_json() const;
  const std::string& error() const { return error_; }

 private:
  bool step_logits();
  Model* m_ = nullptr;
  AsrOptions opt_;
  std::vector<int> prompt_, generated_;
  KvCache cache_;
  std::vector<float> hidden_, logits_;
  int candidate_ = -1;
  int max_new_ = 0;
  int audio_tokens_ = 0;
  bool done_ = false;
  bool stopped_by_guard_ = false;
  Utf8Stream utf8_;
  std::string pending_text_;
  std::string error_;
  double audio_sec_ = 0, mel_ms_ = 0, encoder_ms_ = 0, prefill_ms_ = 0, decode_ms_ = 0;
};

double now_ms();

}  // namespace qasr
