// Byte-level BPE tokenizer of Qwen2/Qwen3 built from the file's vocabulary and merges
// (research/chatllm-qwen3-asr.md §1.5): the Qwen2 pre-tokenizer regex, GPT-2 byte↔unicode map,
// merges by rank. Added tokens (from added_tokens_decoder) are split out of the text first.
// Input text must already be NFC-normalised (the JavaScript side does `text.normalize('NFC')`).
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace qasr {

struct ModelFile;

class Tokenizer {
 public:
  // Builds from the parsed file; false + *error if vocab/merges are inconsistent.
  bool init(const ModelFile& file, std::string* error);

  // Encodes text. When allow_added is true, added tokens written literally in the text
  // (e.g. "<|im_start|>") become their ids; otherwise they are encoded as plain text.
  std::vector<int> encode(const std::string& text, bool allow_added = true) const;

  // Raw bytes of one token (added tokens give their content; unknown ids give "").
  std::string token_bytes(int id) const;
  // Decodes ids into UTF-8 (bytes concatenated; invalid sequences become U+FFFD).
  std::string decode(const std::vector<int>& ids, bool skip_special = true) const;

  int vocab_size() const;  // largest id + 1 (added tokens included)
  // Id of an added token ("<asr_text>") or of a regular token given as raw bytes (" the", "\n",
  // not the GPT-2 form "Ġthe"); -1 if none.
  int token_id(const std::string& content) const;
  bool is_special(int id) const;

 private:
  struct Merge {
    int rank;    // 0-based line of merges.txt: lower merges first
    int result;  // id of the merged token
  };
  std::vector<std::string> id_to_bytes_;                 // decoded bytes per regular id
  std::unordered_map<std::string, int> bytes_to_id_;     // raw bytes → id
  std::unordered_map<uint64_t, Merge> merges_;           // (left id << 32 | right id) → merge
  int byte_id_[256] = {};                                // id of each single-byte token
  std::unordered_map<int, std::string> added_;           // id → content
  std::unordered_map<int, bool> added_special_;
  std::vector<std::pair<std::string, int>> added_by_length_;  // longest first for matching
  bool added_first_byte_[256] = {};                      // quick filter for added-token matching
  int vocab_size_ = 0;
  bool init_vocab(const ModelFile& file, std::string* error);
  bool init_merges(const ModelFile& file, std::string* error);
  void init_added(const ModelFile& file);
  // Pre-tokenises text[begin, end) (no added tokens inside) and appends the BPE ids.
  void encode_plain(const std::string& text, size_t begin, size_t end, std::vector<int>* out) const;
  // Byte-level BPE of one pre-token (raw bytes).
  void bpe(const uint8_t* piece, size_t n, std::vector<int>* out) const;
};

// The Qwen2 pre-tokenizer regex (§1.5) as a scanner over code points: splits text into the
// pieces the regex would match, as [begin, end) byte ranges of text. Exposed for tests.
std::vector<std::pair<size_t, size_t>> pretokenize(const std::string& text);

// Streaming UTF-8 assembly: feed token bytes, get only complete characters back, so a token
// stream never shows half a character.
class Utf8Stream {
 public:
  std::string push(const std::string& bytes);
  std::string flush();  // what is left (incomplete sequences become U+FFFD)
 private:
  std::string pending_;
};

}  // namespace qasr
