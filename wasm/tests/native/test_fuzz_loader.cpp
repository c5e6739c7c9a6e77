// Deterministic mutation fuzzing of the model loader and the tokenizer (meant for the ASan/UBSan
// build: `npm run test:asan`). The seed file is a small but complete Qwen3-ASR GGMM file
// (ggmm_builder.h, with a real byte-level vocabulary so that the tokenizer and build_model are
// reached); each case mutates one part of it:
//   0 header fields (magic, versions, section offsets)
//   1 the metadata JSON text (random bytes incl. non-UTF-8, truncation, hostile JSON fragments)
//   2 the raw config struct (int32 words, layout of the other model type)
//   3 vocabulary and merges (entries, lengths, order, raw record length fields)
//   4 tensor records through the spec (names, ndim, dims, types, payload sizes, order, duplicates)
//   5 tensor record headers in the bytes (fields overwritten in place)
//   6 random bytes anywhere and truncation
//   7 the tokenizer on random byte strings (and decode of random ids)
// Files 0–6 go through the public loader (qasr_model_load on an exact-size heap buffer, so ASan
// sees any read past the end): it must either fail with a message or give a model that answers
// qasr_model_info and tokenizes (and, for some, transcribes a short clip). Case i uses its own
// seed, so a failure names the case that reproduces it.
//
//   QASR_FUZZ_CASES=N   number of cases (default 100,000 under ASan, 20,000 otherwise)
//   QASR_FUZZ_FIRST=i   first case index (to replay one case: QASR_FUZZ_FIRST=i QASR_FUZZ_CASES=1)
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ggmm.h"
#include "ggmm_builder.h"
#include "json.h"
#include "qasr.h"
#include "test.h"
#include "tokenizer.h"

using namespace qasr;
using namespace ggmm_builder;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr long kDefaultCases = 100000;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr long kDefaultCases = 100000;
#else
constexpr long kDefaultCases = 20000;
#endif
#else
constexpr long kDefaultCases = 20000;
#endif

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return end && *end == '\0' && n >= 0 ? n : fallback;
}

// splitmix64: small, deterministic, good enough for choosing mutations.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }
  uint8_t byte() { return static_cast<uint8_t>(next()); }

 private:
  uint64_t s_;
};

// GPT-2's byte → printable code point map (bytes_to_unicode), as UTF-8.
std::string byte_token(int b) {
  int cp = b;
  if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))) {
    int n = 0;
    for (int x = 0; x < b; ++x)
      if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) ++n;
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

constexpr int kFuzzRows = 300, kFirstSpecial = 290;

// The seed file: the tiny spec with a byte-level vocabulary (256 byte tokens + 4 merged ones)
// and the added tokens at 290..297 of a 300-row embedding.
Spec seed_spec() {
  Spec s;
  s.model_type = kModelTypeQwen3Asr;
  s.meta = tiny_meta(false, kFirstSpecial);
  s.config = tiny_config(false, kFuzzRows);
  for (int b = 0; b < 256; ++b) s.vocab.push_back(byte_token(b));
  const std::string sp = byte_token(' ');
  s.vocab.insert(s.vocab.end(), {"ab", sp + "t", "he", sp + "the"});
  s.merges = {"a b", sp + " t", "h e", sp + "t he"};
  s.tensors = tiny_tensors(false, kFuzzRows);
  return s;
}

const int32_t kInteresting[] = {0,          1,          -1,         2,          3,         4,         7,
                                8,          15,         16,         31,         32,        33,        64,
                                127,        128,        255,        256,        1023,      1024,      1025,
                                4096,       4097,       65535,      65536,      1 << 20,   1 << 24,   0x7FFFFFFE,
                                0x7FFFFFFF, -2,         -4096,      -65536,     INT32_MIN, INT32_MIN + 1};

int32_t interesting(Rng& r) {
  if (r.chance(20)) return static_cast<int32_t>(r.next());
  return kInteresting[r.below(sizeof kInteresting / sizeof kInteresting[0])];
}

void put_u32(std::vector<uint8_t>* b, size_t at, uint32_t v) {
  if (at + 4 > b->size()) return;
  for (int i = 0; i < 4; ++i) (*b)[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get_u32(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4 && at + i < b.size(); ++i) v |= static_cast<uint32_t>(b[at + i]) << (8 * i);
  return v;
}

// Random bytes biased towards what breaks parsers: non-UTF-8, NUL, quotes, brackets.
std::string random_bytes(Rng& r, size_t n) {
  static const char kSpecial[] = "\"\\{}[]:,0123456789.eE+-ntrfu \n\t<|>";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    switch (r.below(4)) {
      case 0: s += static_cast<char>(r.byte()); break;
      case 1: s += static_cast<char>(0x80 + r.below(0x80)); break;
      case 2: s += kSpecial[r.below(sizeof kSpecial - 1)]; break;
      default: s += static_cast<char>(0x20 + r.below(0x5F)); break;
    }
  }
  return s;
}

const char* const kJsonFragments[] = {
    "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\u0000\"", "1e999", "-1e999", "NaN", "Infinity", "-0", "0.0000001",
    "18446744073709551616", "-2147483649", "2147483648", "null", "true", "[]", "{}", "\"\"", "\xff\xfe",
    "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe4\xb8", "\x80", "\"\xff\"", "{\"config.json\": 1}",
    "\"config.json\"", "\"thinker_config\"", "\"audio_config\"", "\"added_tokens_decoder\"", "\"d_model\": 0,",
    "\"support_languages\": [1, null, \"\xff\"],", "\"content\": 5", "\"-1\": {\"content\": \"x\"}",
    "\"99999999999\": {\"content\": \"x\"}", "\\", "\"\\x\"", "\"\\u12\"", "\"unterminated",
};

void mutate_text(Rng& r, std::string* t) {
  const int ops = 1 + static_cast<int>(r.below(4));
  for (int k = 0; k < ops; ++k) {
    const size_t at = r.below(t->size() + 1);
    switch (r.below(8)) {
      case 0:  // replace one byte
        if (!t->empty()) (*t)[std::min(at, t->size() - 1)] = static_cast<char>(r.byte());
        break;
      case 1:  // a high (non-UTF-8 on its own) byte
        if (!t->empty()) (*t)[std::min(at, t->size() - 1)] = static_cast<char>(0x80 + r.below(0x80));
        break;
      case 2: t->insert(at, random_bytes(r, 1 + r.below(8))); break;
      case 3: t->erase(at, r.below(16)); break;
      case 4: t->resize(at); break;  // truncate
      case 5: t->insert(at, kJsonFragments[r.below(sizeof kJsonFragments / sizeof kJsonFragments[0])]); break;
      case 6: {  // deep nesting
        const size_t depth = 1 + r.below(400);
        t->insert(at, std::string(depth, r.chance(50) ? '[' : '{'));
        break;
      }
      default: {  // replace the digits of a number with an interesting one
        const size_t d = t->find_first_of("0123456789", at);
        if (d != std::string::npos) {
          size_t e = d;
          while (e < t->size() && std::isdigit(static_cast<unsigned char>((*t)[e]))) ++e;
          t->replace(d, e - d, std::to_string(interesting(r)));
        }
        break;
      }
    }
  }
}

std::string token_mutation(Rng& r) {
  switch (r.below(5)) {
    case 0: return "";
    case 1: return random_bytes(r, 1 + r.below(6));
    case 2: return std::string(1 + r.below(kMaxTokenBytes + 8), 'x');  // around the length limit
    case 3: return byte_token(static_cast<int>(r.below(256))) + byte_token(static_cast<int>(r.below(256)));
    default: return std::string("\xc4", 1);  // half a character
  }
}

// One mutated file of the given kind.
std::vector<uint8_t> mutate_file(Rng& r, int kind, const Spec& seed, const Built& base) {
  switch (kind) {
    case 0: {  // header
      std::vector<uint8_t> b = base.bytes;
      const int ops = 1 + static_cast<int>(r.below(3));
      for (int k = 0; k < ops; ++k) {
        if (r.chance(30)) {
          b[r.below(20)] = r.byte();
        } else {
          const size_t field = 4 + 4 * r.below(4);  // version, config, tokenizer, tensors offsets
          const uint32_t old = get_u32(b, field);
          const uint32_t pick[] = {0u, 1u, 19u, 20u, 21u, static_cast<uint32_t>(b.size() - 1),
                                   static_cast<uint32_t>(b.size()), static_cast<uint32_t>(b.size() + 1),
                                   0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu, old + 1, old - 1, old + 4, old - 4,
                                   static_cast<uint32_t>(interesting(r))};
          put_u32(&b, field, pick[r.below(sizeof pick / sizeof pick[0])]);
        }
      }
      return b;
    }
    case 1: {  // metadata JSON
      Spec s = seed;
      mutate_text(r, &s.meta);
      return build(s).bytes;
    }
    case 2: {  // config struct
      Spec s = seed;
      const int ops = 1 + static_cast<int>(r.below(3));
      for (int k = 0; k < ops; ++k) {
        size_t i = r.chance(70) ? r.below(22) : 150 + r.below(s.config.size() - 150);
        s.config[i] = interesting(r);
      }
      if (r.chance(10)) s.config.resize(r.chance(50) ? 155 : 153, 5);
      if (r.chance(5)) s.model_type = r.chance(50) ? kModelTypeQwen3ForcedAligner : static_cast<uint32_t>(r.next());
      if (r.chance(5)) s.file_version = interesting(r);
      return build(s).bytes;
    }
    case 3: {  // vocabulary and merges
      Spec s = seed;
      if (r.chance(25)) {  // raw length fields inside the tokenizer section
        Built b = build(s);
        const size_t span = b.offset_tensors - b.offset_tokenizer;
        const size_t at = b.offset_tokenizer + (r.below(span) & ~size_t{3});
        put_u32(&b.bytes, at, static_cast<uint32_t>(interesting(r)));
        return b.bytes;
      }
      const int ops = 1 + static_cast<int>(r.below(3));
      for (int k = 0; k < ops; ++k) {
        switch (r.below(6)) {
          case 0: s.vocab[r.below(s.vocab.size())] = token_mutation(r); break;
          case 1: s.vocab.erase(s.vocab.begin() + static_cast<long>(r.below(s.vocab.size()))); break;
          case 2: s.vocab.push_back(s.vocab[r.below(s.vocab.size())]); break;  // duplicate entry
          case 3: std::swap(s.vocab[r.below(s.vocab.size())], s.vocab[r.below(s.vocab.size())]); break;
          case 4: s.merges.push_back(r.chance(50) ? token_mutation(r) : token_mutation(r) + " " + token_mutation(r)); break;
          default:
            if (!s.merges.empty()) s.merges[r.below(s.merges.size())] = token_mutation(r);
            break;
        }
      }
      if (r.chance(10)) s.vocab.resize(kFuzzRows + 1 + r.below(4), "z");  // more entries than rows
      return build(s).bytes;
    }
    case 4: {  // tensor records via the spec
      Spec s = seed;
      const int ops = 1 + static_cast<int>(r.below(2));
      for (int k = 0; k < ops; ++k) {
        TensorSpec& t = s.tensors[r.below(s.tensors.size())];
        switch (r.below(8)) {
          case 0: t.name = r.chance(50) ? random_bytes(r, r.below(40)) : t.name.substr(0, r.below(t.name.size() + 1)); break;
          case 1: t.name_len = interesting(r); break;
          case 2: t.ndim = interesting(r) % 12; break;
          case 3: {
            if (!t.dims.empty()) t.dims[r.below(t.dims.size())] = interesting(r);
            // The builder writes the payload the dims imply: keep the file small (the parser must
            // notice that the claimed size runs past the end).
            double numel = 1;
            for (int32_t d : t.dims) numel *= d < 0 ? 1.0 : static_cast<double>(d);
            if (r.chance(50) || numel * 4 > (1 << 20)) t.payload = static_cast<int64_t>(r.below(64));
            break;
          }
          case 4: t.type = r.chance(70) ? static_cast<int32_t>(r.below(40)) - 2 : interesting(r); break;
          case 5: t.payload = static_cast<int64_t>(r.below(64)); break;
          case 6: s.tensors.push_back(t); break;  // duplicate
          default: {
            const size_t a = r.below(s.tensors.size());
            if (r.chance(50)) s.tensors.erase(s.tensors.begin() + static_cast<long>(a));
            else std::swap(s.tensors[a], s.tensors[r.below(s.tensors.size())]);
            break;
          }
        }
      }
      return build(s).bytes;
    }
    case 5: {  // tensor record headers in place
      std::vector<uint8_t> b = base.bytes;
      auto it = base.record_at.begin();
      std::advance(it, static_cast<long>(r.below(base.record_at.size())));
      const size_t rec = it->second;
      const size_t header = 4 + it->first.size() + 4 + 4 * 4 + 4;  // upper bound of the fields
      const int ops = 1 + static_cast<int>(r.below(2));
      for (int k = 0; k < ops; ++k) {
        if (r.chance(50)) {
          b[rec + r.below(header)] = r.byte();
        } else {
          const size_t at = rec + (r.chance(30) ? 0 : 4 + it->first.size() + 4 * r.below(6));
          put_u32(&b, at, static_cast<uint32_t>(interesting(r)));
        }
      }
      return b;
    }
    default: {  // anywhere + truncation
      std::vector<uint8_t> b = base.bytes;
      if (!r.chance(20)) {
        const int flips = 1 + static_cast<int>(r.below(8));
        for (int k = 0; k < flips; ++k) {
          const size_t at = r.below(b.size());
          switch (r.below(3)) {
            case 0: b[at] ^= static_cast<uint8_t>(1u << r.below(8)); break;
            case 1: b[at] = r.byte(); break;
            default: b[at] = r.chance(50) ? 0xFF : 0x00; break;
          }
        }
      }
      if (r.chance(40)) b.resize(r.below(b.size()));
      return b;
    }
  }
}

struct Counts {
  long cases = 0, loaded = 0, rejected = 0, sessions = 0, tokenized = 0;
  long by_kind[8] = {};
  long loaded_by_kind[8] = {};
};

// Loads through the public API; anything accepted must be usable.
void try_load(Rng& r, const std::vector<uint8_t>& bytes, Counts* c, long case_index, int kind) {
  uint8_t* buf = qasr_buffer_alloc(bytes.size());
  if (!buf) qtest::fail(__FILE__, __LINE__, "buffer alloc failed");
  if (!bytes.empty()) std::memcpy(buf, bytes.data(), bytes.size());
  qasr_model* m = qasr_model_load(buf, bytes.size(), 1);
  if (!m) {
    ++c->rejected;
    const std::string err = qasr_last_error();
    if (err.empty()) qtest::fail(__FILE__, __LINE__, "case " + std::to_string(case_index) + ": rejected without a message");
    return;
  }
  ++c->loaded;
  ++c->loaded_by_kind[kind];
  const std::string info = qasr_model_info(m);
  if (info.size() < 10 || info[0] != '{')
    qtest::fail(__FILE__, __LINE__, "case " + std::to_string(case_index) + ": bad model info");
  int32_t ids[64];
  const int n = qasr_tokenize(m, "<|im_start|>the ab\xe4\xb8\xad\n", 1, ids, 64);
  if (n < 0) qtest::fail(__FILE__, __LINE__, "case " + std::to_string(case_index) + ": tokenize failed");
  qasr_detokenize(m, ids, std::min(n, 64), 0);
  if (r.chance(12)) {  // a short transcription on the accepted (maybe odd) model
    std::vector<float> pcm(4000 + r.below(4000));
    for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = 0.1f * static_cast<float>((i * 7919) % 200) / 200.0f - 0.05f;
    qasr_options o = qasr_default_options();
    o.max_new_tokens = 2;
    o.numerics = r.chance(50) ? QASR_EXACT_F32_MATMUL : 0;
    qasr_session* s = qasr_session_start(m, pcm.data(), static_cast<int32_t>(pcm.size()), &o);
    if (s) {
      while (qasr_session_next(s) >= 0) {
      }
      qasr_session_result(s);
      qasr_session_free(s);
      ++c->sessions;
    }
  }
  qasr_model_free(m);
}

bool valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    const uint8_t b = p[i];
    size_t len;
    uint32_t cp;
    if (b < 0x80) { ++i; continue; }
    if ((b & 0xE0) == 0xC0) { len = 2; cp = b & 0x1F; }
    else if ((b & 0xF0) == 0xE0) { len = 3; cp = b & 0x0F; }
    else if ((b & 0xF8) == 0xF0) { len = 4; cp = b & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

// Random text for the tokenizer: raw bytes, valid UTF-8 from many planes, or pieces that stress
// the pre-tokenizer and the added-token matcher.
std::string random_text(Rng& r) {
  static const char* const kPieces[] = {
      "<|im_start|>", "<|im_end|>", "<|im_", "|>", "<asr_text>", "<", " ", "  ", "\t", "\n", "\r\n", "'s", "'LL",
      "the", " the", "ab", "a", "7", "\xc2\xa0", "\xe3\x80\x80", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xe2\x80\x8d",
      "\xcc\x81", "\xef\xbb\xbf", "\xc2\x85", "\xc5\xbf", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\xff", "\x00"};
  std::string s;
  const size_t n = r.below(r.chance(5) ? 2000 : 64);
  const int mode = static_cast<int>(r.below(3));
  while (s.size() < n) {
    if (mode == 0) {
      s += static_cast<char>(r.byte());
    } else if (mode == 1) {
      uint32_t cp;
      switch (r.below(5)) {
        case 0: cp = static_cast<uint32_t>(r.below(0x80)); break;
        case 1: cp = static_cast<uint32_t>(0x80 + r.below(0x780)); break;
        case 2: cp = static_cast<uint32_t>(0x800 + r.below(0xF800)); break;
        case 3: cp = static_cast<uint32_t>(0x10000 + r.below(0x100000)); break;
        default: cp = static_cast<uint32_t>(0x4E00 + r.below(0x5200)); break;
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
      if (cp < 0x80) {
        s += static_cast<char>(cp);
      } else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        s += static_cast<char>(0xF0 | (cp >> 18));
        s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      }
    } else {
      const char* p = kPieces[r.below(sizeof kPieces / sizeof kPieces[0])];
      s += p[0] ? std::string(p) : std::string(1, '\0');
    }
  }
  return s;
}

void fuzz_tokenizer(Rng& r, const Tokenizer& tok, Counts* c, long case_index) {
  const std::string text = random_text(r);
  const bool allow_added = r.chance(50);
  const std::vector<int> ids = tok.encode(text, allow_added);
  for (int id : ids) {
    if (id < 0 || id >= tok.vocab_size())
      qtest::fail(__FILE__, __LINE__, "case " + std::to_string(case_index) + ": id out of range");
  }
  const std::string back = tok.decode(ids, false);
  if (valid_utf8(text) && back != text)
    qtest::fail(__FILE__, __LINE__, "case " + std::to_string(case_index) + ": round trip of " + json_quote(text) +
                                        " gave " + json_quote(back));
  if (!valid_utf8(back))
    qtest::fail(__FILE__, __LINE__, "case " + std::to_string(case_index) + ": decode gave invalid UTF-8");
  pretokenize(text);
  // Random ids, in and out of range.
  std::vector<int> junk(r.below(16));
  for (int& id : junk) id = r.chance(80) ? static_cast<int>(r.below(tok.vocab_size() + 10)) : interesting(r);
  tok.decode(junk, r.chance(50));
  for (int id : junk) tok.token_bytes(id), tok.is_special(id);
  Utf8Stream st;
  std::string streamed;
  for (int id : ids) streamed += st.push(tok.token_bytes(id));
  streamed += st.flush();
  ++c->tokenized;
}

bool slurp(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

TEST(fuzz_seed_file_loads_and_transcribes) {
  const Built b = build(seed_spec());
  uint8_t* buf = qasr_buffer_alloc(b.bytes.size());
  std::memcpy(buf, b.bytes.data(), b.bytes.size());
  qasr_model* m = qasr_model_load(buf, b.bytes.size(), 1);
  if (!m) qtest::fail(__FILE__, __LINE__, std::string("the fuzz seed file does not load: ") + qasr_last_error());
  std::vector<float> pcm(8000, 0.01f);
  qasr_options o = qasr_default_options();
  o.max_new_tokens = 3;
  qasr_session* s = qasr_session_start(m, pcm.data(), static_cast<int32_t>(pcm.size()), &o);
  CHECK(s != nullptr);
  int n = 0;
  while (qasr_session_next(s) >= 0) ++n;
  CHECK(n <= 3);
  qasr_session_free(s);
  int32_t ids[16];
  // " the" merges to one token; " ab" is " " + "ab"; then the added <|im_end|>.
  CHECK(qasr_tokenize(m, " the ab<|im_end|>", 1, ids, 16) == 4);
  CHECK(ids[0] == 259 && ids[1] == ' ' && ids[2] == 256 && ids[3] == kFirstSpecial + 2);
  qasr_model_free(m);
}

TEST(fuzz_loader_and_tokenizer) {
  const long n_cases = env_long("QASR_FUZZ_CASES", kDefaultCases);
  const long first = env_long("QASR_FUZZ_FIRST", 0);
  const Spec seed = seed_spec();
  const Built base = build(seed);
  // Tokenizers for case kind 7: the seed file's, and the real Qwen vocabulary when present.
  ModelFile seed_file;
  std::string err;
  CHECK(parse_ggmm(base.bytes.data(), base.bytes.size(), &seed_file, &err));
  Tokenizer seed_tok;
  CHECK(seed_tok.init(seed_file, &err));
  std::vector<uint8_t> real_bytes;
  ModelFile real_file;
  Tokenizer real_tok;
  bool have_real = false;
  const std::string dir = qtest::data_dir();
  if (!dir.empty() && (slurp(dir + "/vocab-model.bin", &real_bytes) || slurp(dir + "/models/tiny-q4_0-s1.bin", &real_bytes)))
    have_real = parse_ggmm(real_bytes.data(), real_bytes.size(), &real_file, &err) && real_tok.init(real_file, &err);

  Counts c;
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = first; i < first + n_cases; ++i) {
    Rng r(0x5EED0000ull + static_cast<uint64_t>(i) * 0x100000001B3ull);
    const int kind = static_cast<int>(i % 8);
    ++c.cases;
    ++c.by_kind[kind];
    try {
      if (kind == 7) {
        fuzz_tokenizer(r, have_real && r.chance(50) ? real_tok : seed_tok, &c, i);
      } else {
        try_load(r, mutate_file(r, kind, seed, base), &c, i, kind);
      }
    } catch (const std::exception& e) {
      std::printf("     case %ld (kind %d) failed: replay with QASR_FUZZ_FIRST=%ld QASR_FUZZ_CASES=1\n", i, kind, i);
      throw;
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("     %ld cases in %.1f s (%.0f/s): %ld files rejected with a message, %ld loaded (%ld short "
              "transcriptions), %ld tokenizer runs%s\n",
              c.cases, s, c.cases / std::max(s, 1e-9), c.rejected, c.loaded, c.sessions, c.tokenized,
              have_real ? " (seed and real vocabulary)" : " (seed vocabulary only)");
  std::printf("     loaded per kind (header, json, config, vocab, tensors, records, bytes):");
  for (int k = 0; k < 7; ++k) std::printf(" %ld/%ld", c.loaded_by_kind[k], c.by_kind[k]);
  std::printf("\n");
  CHECK(c.rejected + c.loaded + c.tokenized == c.cases);
  if (n_cases >= 800) {
    for (int k = 0; k < 7; ++k) CHECK(c.loaded_by_kind[k] < c.by_kind[k]);  // every kind reaches errors
    CHECK(c.rejected > c.cases / 4);
  }
}
