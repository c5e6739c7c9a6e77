// Byte-level BPE tokenizer of Qwen2/Qwen3 (research/chatllm-qwen3-asr.md §1.5; special tokens
// from qwen3-asr-official.md §4.3): added tokens are split out first (longest match), the rest
// is cut by the Qwen2 pre-tokenizer regex, mapped through the GPT-2 byte↔unicode table and
// merged by rank. Input must already be NFC (official note addendum 1, point 4: the JavaScript
// side normalises). Nothing is cached, so memory does not grow with use.
#include "tokenizer.h"

#include <algorithm>
#include <queue>

#include "ggmm.h"
#include "unicode.h"

namespace qasr {
namespace {

// ---- GPT-2 byte ↔ unicode map ------------------------------------------------------------------
// Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes
// are given the code points 256, 257, … in byte order.

constexpr uint32_t kByteMapSize = 256 + 68;

bool byte_is_printable(int b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct ByteMap {
  uint32_t byte_to_cp[256];
  int16_t cp_to_byte[kByteMapSize];
  ByteMap() {
    std::fill(cp_to_byte, cp_to_byte + kByteMapSize, int16_t(-1));
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      byte_to_cp[b] = byte_is_printable(b) ? static_cast<uint32_t>(b) : next++;
      cp_to_byte[byte_to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

// "Ġthe" → " the". False if a character is outside the map (not byte-level BPE).
bool unmap_bytes(const std::string& token, std::string* raw) {
  const ByteMap& map = byte_map();
  raw->clear();
  const auto* p = reinterpret_cast<const uint8_t*>(token.data());
  size_t i = 0;
  while (i < token.size()) {
    uint32_t cp = 0;
    size_t len = 1;
    if (utf8_next(p + i, token.size() - i, &cp, &len) != Utf8Status::kOk) return false;
    if (cp >= kByteMapSize || map.cp_to_byte[cp] < 0) return false;
    raw->push_back(static_cast<char>(map.cp_to_byte[cp]));
    i += len;
  }
  return true;
}

uint64_t pair_key(int left, int right) {
  return static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32 | static_cast<uint32_t>(right);
}

// ---- pre-tokenizer character classes ----------------------------------------------------------

enum class CharClass : uint8_t { kLetter, kNumber, kSpace, kOther };

CharClass classify(uint32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::kLetter;
    if (cp >= '0' && cp <= '9') return CharClass::kNumber;
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D)) return CharClass::kSpace;
    return CharClass::kOther;
  }
  if (is_letter(cp)) return CharClass::kLetter;
  if (is_number(cp)) return CharClass::kNumber;
  if (is_space(cp)) return CharClass::kSpace;
  return CharClass::kOther;
}

bool is_newline(uint32_t cp) { return cp == '\r' || cp == '\n'; }

// Simple case folding for the contraction letters; U+017F (long s) folds to 's'.
uint32_t fold(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp == 0x17F) return 's';
  return cp;
}

struct Chars {
  std::vector<uint32_t> cp;
  std::vector<CharClass> cls;
  std::vector<size_t> offset;  // byte offset of each char, plus the end
};

Chars decode_chars(const std::string& text, size_t begin, size_t end) {
  Chars c;
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = begin;
  while (i < end) {
    uint32_t cp = 0;
    const size_t len = utf8_decode(p + i, end - i, &cp);  // ill-formed bytes: U+FFFD, kOther
    c.cp.push_back(cp);
    c.cls.push_back(classify(cp));
    c.offset.push_back(i);
    i += len;
  }
  c.offset.push_back(end);
  return c;
}

// Length (in chars) of the regex match starting at char i; the alternatives are tried in the
// regex's order, each resolved the way a backtracking engine would.
size_t match_length(const Chars& c, size_t i) {
  const size_t n = c.cp.size();
  const uint32_t c0 = c.cp[i];
  auto cls = [&](size_t k) { return c.cls[k]; };
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c0 == '\'' && i + 1 < n) {
    const uint32_t a = fold(c.cp[i + 1]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (i + 2 < n) {
      const uint32_t b = fold(c.cp[i + 2]);
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    }
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  size_t j = i;
  if (cls(i) != CharClass::kLetter && cls(i) != CharClass::kNumber && !is_newline(c0) &&
      i + 1 < n && cls(i + 1) == CharClass::kLetter) {
    j = i + 1;
  }
  if (cls(j) == CharClass::kLetter) {
    while (j < n && cls(j) == CharClass::kLetter) ++j;
    return j - i;
  }
  // \p{N}
  if (cls(i) == CharClass::kNumber) return 1;
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  j = (c0 == ' ' && i + 1 < n) ? i + 1 : i;
  if (cls(j) == CharClass::kOther) {
    while (j < n && cls(j) == CharClass::kOther) ++j;
    while (j < n && is_newline(c.cp[j])) ++j;
    return j - i;
  }
  // Only white space is left. \s*[\r\n]+ : up to the last newline of the run.
  size_t end = i, last_newline = n;
  while (end < n && cls(end) == CharClass::kSpace) {
    if (is_newline(c.cp[end])) last_newline = end;
    ++end;
  }
  if (last_newline < n) return last_newline + 1 - i;
  // \s+(?!\S) : the run, less its last char when a non-space follows (if that leaves any).
  if (end == n) return end - i;
  if (end - i >= 2) return end - 1 - i;
  // \s+
  return end - i;
}

// Candidate merge in the BPE queue: lowest rank first, then leftmost (as HF tokenizers).
struct Candidate {
  int rank;
  int pos;    // index of the left symbol
  int left;   // ids when the candidate was made, to detect stale entries
  int right;
  int result;
  bool operator<(const Candidate& o) const {  // "less urgent" for std::priority_queue
    return rank != o.rank ? rank > o.rank : pos > o.pos;
  }
};

struct Symbol {
  int id;
  int prev;
  int next;
};

}  // namespace

std::vector<std::pair<size_t, size_t>> pretokenize(const std::string& text) {
  std::vector<std::pair<size_t, size_t>> out;
  const Chars c = decode_chars(text, 0, text.size());
  for (size_t i = 0; i < c.cp.size();) {
    const size_t len = match_length(c, i);
    out.emplace_back(c.offset[i], c.offset[i + len]);
    i += len;
  }
  return out;
}

// ---- construction ---------------------------------------------------------------------------

bool Tokenizer::init_vocab(const ModelFile& file, std::string* error) {
  id_to_bytes_.assign(file.vocab.size(), std::string());
  bytes_to_id_.clear();
  bytes_to_id_.reserve(file.vocab.size());
  for (size_t id = 0; id < file.vocab.size(); ++id) {
    if (!unmap_bytes(file.vocab[id], &id_to_bytes_[id])) {
      *error = "Vocabulary entry " + std::to_string(id) + " is not a byte-level BPE token";
      return false;
    }
    if (!id_to_bytes_[id].empty()) bytes_to_id_.emplace(id_to_bytes_[id], static_cast<int>(id));
  }
  for (int b = 0; b < 256; ++b) {
    auto it = bytes_to_id_.find(std::string(1, static_cast<char>(b)));
    if (it == bytes_to_id_.end()) {
      *error = "The vocabulary has no token for the byte " + std::to_string(b) +
               " (not a byte-level BPE vocabulary)";
      return false;
    }
    byte_id_[b] = it->second;
  }
  return true;
}

bool Tokenizer::init_merges(const ModelFile& file, std::string* error) {
  merges_.clear();
  merges_.reserve(file.merges.size());
  std::string left, right;
  for (size_t rank = 0; rank < file.merges.size(); ++rank) {
    const std::string& line = file.merges[rank];
    const size_t space = line.size() > 1 ? line.find(' ', 1) : std::string::npos;
    auto bad = [&](const char* why) {
      *error = "Merge " + std::to_string(rank) + " of the vocabulary " + why;
      return false;
    };
    if (space == std::string::npos) return bad("is not a pair");
    if (!unmap_bytes(line.substr(0, space), &left) || !unmap_bytes(line.substr(space + 1), &right)) {
      return bad("is not in byte-level form");
    }
    const auto l = bytes_to_id_.find(left), r = bytes_to_id_.find(right),
               m = bytes_to_id_.find(left + right);
    if (l == bytes_to_id_.end() || r == bytes_to_id_.end() || m == bytes_to_id_.end()) {
      return bad("uses a token that is not in the vocabulary");
    }
    merges_.emplace(pair_key(l->second, r->second), Merge{static_cast<int>(rank), m->second});
  }
  return true;
}

void Tokenizer::init_added(const ModelFile& file) {
  added_.clear();
  added_special_.clear();
  added_by_length_.clear();
  std::fill(added_first_byte_, added_first_byte_ + 256, false);
  for (const auto& kv : file.added_tokens) {
    if (kv.first < 0 || kv.second.content.empty()) continue;
    added_[kv.first] = kv.second.content;
    added_special_[kv.first] = kv.second.special;
    added_by_length_.emplace_back(kv.second.content, kv.first);
    added_first_byte_[static_cast<uint8_t>(kv.second.content[0])] = true;
    vocab_size_ = std::max(vocab_size_, kv.first + 1);
  }
  std::sort(added_by_length_.begin(), added_by_length_.end(), [](const auto& a, const auto& b) {
    return a.first.size() != b.first.size() ? a.first.size() > b.first.size() : a.second < b.second;
  });
}

bool Tokenizer::init(const ModelFile& file, std::string* error) {
  std::string local;
  if (!error) error = &local;
  vocab_size_ = static_cast<int>(file.vocab.size());
  if (!init_vocab(file, error) || !init_merges(file, error)) {
    *this = Tokenizer();
    return false;
  }
  init_added(file);
  return true;
}

// ---- encoding -------------------------------------------------------------------------------

void Tokenizer::bpe(const uint8_t* piece, size_t n, std::vector<int>* out) const {
  if (n == 1) {
    out->push_back(byte_id_[piece[0]]);
    return;
  }
  std::vector<Symbol> sym(n);
  for (size_t k = 0; k < n; ++k) {
    sym[k] = {byte_id_[piece[k]], static_cast<int>(k) - 1, k + 1 < n ? static_cast<int>(k) + 1 : -1};
  }
  std::priority_queue<Candidate> queue;
  auto consider = [&](int pos) {
    if (pos < 0 || sym[pos].next < 0) return;
    const int left = sym[pos].id, right = sym[sym[pos].next].id;
    auto it = merges_.find(pair_key(left, right));
    if (it != merges_.end()) queue.push({it->second.rank, pos, left, right, it->second.result});
  };
  for (size_t k = 0; k + 1 < n; ++k) consider(static_cast<int>(k));
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& l = sym[top.pos];
    if (l.id != top.left || l.next < 0 || sym[l.next].id != top.right) continue;  // stale
    Symbol& r = sym[l.next];
    l.id = top.result;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = top.pos;
    r.id = -1;  // absorbed
    consider(l.prev);
    consider(top.pos);
  }
  for (int k = 0; k >= 0; k = sym[k].next) out->push_back(sym[k].id);
}

void Tokenizer::encode_plain(const std::string& text, size_t begin, size_t end,
                             std::vector<int>* out) const {
  if (begin >= end) return;
  const Chars c = decode_chars(text, begin, end);
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  for (size_t i = 0; i < c.cp.size();) {
    const size_t len = match_length(c, i);
    bpe(p + c.offset[i], c.offset[i + len] - c.offset[i], out);
    i += len;
  }
}

std::vector<int> Tokenizer::encode(const std::string& text, bool allow_added) const {
  std::vector<int> ids;
  if (id_to_bytes_.empty()) return ids;  // not initialised
  size_t segment = 0;
  if (allow_added && !added_by_length_.empty()) {
    for (size_t i = 0; i < text.size();) {
      int found = -1;
      size_t found_len = 0;
      if (added_first_byte_[static_cast<uint8_t>(text[i])]) {
        for (const auto& a : added_by_length_) {  // longest first
          if (text.compare(i, a.first.size(), a.first) == 0) {
            found = a.second;
            found_len = a.first.size();
            break;
          }
        }
      }
      if (found < 0) {
        ++i;
        continue;
      }
      encode_plain(text, segment, i, &ids);
      ids.push_back(found);
      i += found_len;
      segment = i;
    }
  }
  encode_plain(text, segment, text.size(), &ids);
  return ids;
}

// ---- decoding -------------------------------------------------------------------------------

std::string Tokenizer::token_bytes(int id) const {
  auto it = added_.find(id);
  if (it != added_.end()) return it->second;
  if (id >= 0 && static_cast<size_t>(id) < id_to_bytes_.size()) return id_to_bytes_[id];
  return std::string();
}

std::string Tokenizer::decode(const std::vector<int>& ids, bool skip_special) const {
  std::string bytes;
  for (int id : ids) {
    if (skip_special && is_special(id)) continue;
    bytes += token_bytes(id);
  }
  return utf8_sanitize(bytes);
}

int Tokenizer::vocab_size() const { return vocab_size_; }

int Tokenizer::token_id(const std::string& content) const {
  for (const auto& a : added_by_length_) {
    if (a.first == content) return a.second;
  }
  auto it = bytes_to_id_.find(content);
  return it == bytes_to_id_.end() ? -1 : it->second;
}

bool Tokenizer::is_special(int id) const {
  auto it = added_special_.find(id);
  return it != added_special_.end() && it->second;
}

// ---- streaming ------------------------------------------------------------------------------

std::string Utf8Stream::push(const std::string& bytes) {
  pending_ += bytes;
  std::string out;
  const auto* p = reinterpret_cast<const uint8_t*>(pending_.data());
  const size_t n = pending_.size();
  size_t i = 0;
  while (i < n) {
    uint32_t cp = 0;
    size_t len = 1;
    const Utf8Status st = utf8_next(p + i, n - i, &cp, &len);
    if (st == Utf8Status::kIncomplete) break;  // keep the cut character for the next push
    if (st == Utf8Status::kOk) {
      out.append(pending_, i, len);
    } else {
      utf8_append(kReplacementChar, &out);
    }
    i += len;
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Stream::flush() {
  std::string out = utf8_sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace qasr
