// Tests of the byte-level BPE tokenizer, the Qwen2 pre-tokenizer scanner and the UTF-8 /
// Unicode helpers (research/chatllm-qwen3-asr.md §1.5), on a tiny hand-made vocabulary.
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "ggmm.h"
#include "test.h"
#include "tokenizer.h"
#include "unicode.h"

using namespace qasr;

namespace {

// GPT-2 form of one byte (independent re-statement of the map for the test).
std::string byte_char(int b) {
  static std::vector<uint32_t> map;
  if (map.empty()) {
    uint32_t next = 256;
    for (int i = 0; i < 256; ++i) {
      const bool printable = (i >= 0x21 && i <= 0x7E) || (i >= 0xA1 && i <= 0xAC) || i >= 0xAE;
      map.push_back(printable ? static_cast<uint32_t>(i) : next++);
    }
  }
  std::string s;
  utf8_append(map[static_cast<size_t>(b)], &s);
  return s;
}

std::string gpt2(const std::string& raw) {
  std::string s;
  for (unsigned char c : raw) s += byte_char(c);
  return s;
}

enum : int {
  kAb = 256, kBc, kAbc, kSpT, kHe, kSpThe, kAa, kNlNl,
  kImStart = 300, kImEnd, kAsrText, kX, kXy
};

// Ids 0..255 are the single bytes (id == byte value), then merged tokens, then added tokens.
ModelFile tiny_file(bool bc_first = false) {
  ModelFile f;
  for (int b = 0; b < 256; ++b) f.vocab.push_back(byte_char(b));
  for (const char* t : {"ab", "bc", "abc", " t", "he", " the", "aa", "\n\n"}) f.vocab.push_back(gpt2(t));
  if (bc_first) {
    f.merges = {gpt2("b") + " " + gpt2("c"), gpt2("a") + " " + gpt2("b")};
  } else {
    for (const char* m : {" |t", "h|e", "a|b", "b|c", "ab|c", " t|he", "a|a", "\n|\n"}) {
      const std::string pair = m;
      const size_t bar = pair.find('|');
      f.merges.push_back(gpt2(pair.substr(0, bar)) + " " + gpt2(pair.substr(bar + 1)));
    }
  }
  f.added_tokens[kImStart] = {"<|im_start|>", true};
  f.added_tokens[kImEnd] = {"<|im_end|>", true};
  f.added_tokens[kAsrText] = {"<asr_text>", false};
  f.added_tokens[kX] = {"<x>", true};
  f.added_tokens[kXy] = {"<x>y", true};
  return f;
}

Tokenizer tiny_tokenizer(bool bc_first = false) {
  Tokenizer t;
  std::string err;
  CHECK(t.init(tiny_file(bc_first), &err));
  CHECK(err.empty());
  return t;
}

std::vector<std::string> pieces(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& r : pretokenize(text)) out.push_back(text.substr(r.first, r.second - r.first));
  return out;
}

using Ids = std::vector<int>;
using Strs = std::vector<std::string>;

}  // namespace

// ---- unicode helpers --------------------------------------------------------------------------

TEST(unicode_classes) {
  CHECK(is_letter('a') && is_letter('Z') && !is_letter('1') && !is_letter(' ') && !is_letter('_'));
  CHECK(is_letter(0x00E9) && is_letter(0x4E2D) && is_letter(0x3042) && is_letter(0xAC00));  // é 中 あ 가
  CHECK(is_letter(0x0627) && is_letter(0x0E01) && is_letter(0x02B0));  // Arabic alef, Thai ko kai, Lm
  CHECK(!is_letter(0x0E31));  // Thai vowel sign (Mn) is not a letter
  CHECK(!is_letter(0x1F600) && !is_letter(0x3002) && !is_letter(0xFFFD));
  CHECK(is_number('0') && is_number('9') && is_number(0x0663) && is_number(0x2167));  // ٣ Ⅷ
  CHECK(is_number(0x00B2) && is_number(0xFF15) && is_number(0x3007) && !is_number(0x4E00));  // ² ５ 〇
  CHECK(is_space(' ') && is_space('\t') && is_space('\n') && is_space('\r') && is_space(0x0B));
  CHECK(is_space(0x0C) && is_space(0x85) && is_space(0xA0) && is_space(0x3000) && is_space(0x2028));
  CHECK(!is_space(0xFEFF) && !is_space(0x200B) && !is_space('x') && !is_space(0x1F));
  CHECK(!is_letter(0x110000) && !is_number(0xFFFFFFFF) && !is_space(0x10FFFF));
}

TEST(unicode_utf8_decoding) {
  auto next = [](const std::string& s, uint32_t* cp, size_t* len) {
    return utf8_next(reinterpret_cast<const uint8_t*>(s.data()), s.size(), cp, len);
  };
  uint32_t cp = 0;
  size_t len = 0;
  CHECK(next("A", &cp, &len) == Utf8Status::kOk && cp == 'A' && len == 1);
  CHECK(next("\xC3\xA9", &cp, &len) == Utf8Status::kOk && cp == 0xE9 && len == 2);
  CHECK(next("\xE2\x82\xAC", &cp, &len) == Utf8Status::kOk && cp == 0x20AC && len == 3);
  CHECK(next("\xF0\x9F\x98\x80", &cp, &len) == Utf8Status::kOk && cp == 0x1F600 && len == 4);
  CHECK(next("\xF4\x8F\xBF\xBF", &cp, &len) == Utf8Status::kOk && cp == 0x10FFFF);
  CHECK(next("\xE2\x82", &cp, &len) == Utf8Status::kIncomplete && len == 2);
  CHECK(next("\xF0\x9F\x98", &cp, &len) == Utf8Status::kIncomplete && len == 3);
  CHECK(next("\x80", &cp, &len) == Utf8Status::kInvalid && len == 1 && cp == 0xFFFD);
  CHECK(next("\xC0\xAF", &cp, &len) == Utf8Status::kInvalid && len == 1);   // overlong
  CHECK(next("\xE0\x80\x80", &cp, &len) == Utf8Status::kInvalid && len == 1);  // overlong
  CHECK(next("\xED\xA0\x80", &cp, &len) == Utf8Status::kInvalid && len == 1);  // surrogate
  CHECK(next("\xF4\x90\x80\x80", &cp, &len) == Utf8Status::kInvalid && len == 1);  // > U+10FFFF
  CHECK(next("\xF5", &cp, &len) == Utf8Status::kInvalid && len == 1);
  CHECK(next("\xE2\x82x", &cp, &len) == Utf8Status::kInvalid && len == 2);  // maximal subpart
  CHECK(utf8_sanitize("a\xFF" "b\xE2\x82" "c\xE2\x82") == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD");
  CHECK(utf8_sanitize("ok é 中 😀") == "ok é 中 😀");
  std::string s;
  utf8_append(0xD800, &s);
  utf8_append(0x110000, &s);
  utf8_append(0x7FF, &s);
  CHECK(s == "\xEF\xBF\xBD\xEF\xBF\xBD\xDF\xBF");
}

// ---- the pre-tokenizer --------------------------------------------------------------------------

TEST(pretokenize_qwen2_regex) {
  CHECK((pieces("Hello world") == Strs{"Hello", " world"}));
  CHECK((pieces("I'M don't we'll they're I'VE she'd") ==
         Strs{"I", "'M", " don", "'t", " we", "'ll", " they", "'re", " I", "'VE", " she", "'d"}));
  CHECK((pieces("'hello") == Strs{"'hello"}));  // not a contraction: punctuation + letters
  CHECK((pieces("x'ſ") == Strs{"x", "'ſ"}));     // (?i) folds U+017F to s
  CHECK((pieces("2024年3月5日 12:30") ==
         Strs{"2", "0", "2", "4", "年", "3", "月", "5", "日", " ", "1", "2", ":", "3", "0"}));
  CHECK((pieces("a  b") == Strs{"a", " ", " b"}));
  CHECK((pieces("a   ") == Strs{"a", "   "}));
  CHECK((pieces("x\n\ny") == Strs{"x", "\n\n", "y"}));
  CHECK((pieces("  \n  x") == Strs{"  \n", " ", " x"}));
  CHECK((pieces("a \n\n b") == Strs{"a", " \n\n", " b"}));
  CHECK((pieces("\thello\tworld") == Strs{"\thello", "\tworld"}));
  CHECK((pieces("...!!!") == Strs{"...!!!"}));
  CHECK((pieces("Hi!\n\nOk") == Strs{"Hi", "!\n\n", "Ok"}));
  CHECK((pieces(" ...\nx") == Strs{" ...\n", "x"}));
  CHECK((pieces("$100") == Strs{"$", "1", "0", "0"}));
  CHECK((pieces("@user") == Strs{"@user"}));
  CHECK((pieces("我用iPhone拍照") == Strs{"我用iPhone拍照"}));
  CHECK((pieces("😀😀 ok") == Strs{"😀😀", " ok"}));
  CHECK((pieces("a\r\nb") == Strs{"a", "\r\n", "b"}));
  CHECK((pieces(" \n") == Strs{" \n"}));
  CHECK((pieces("\n") == Strs{"\n"}));
  CHECK((pieces("  ") == Strs{"  "}));
  CHECK((pieces("a\xFF" "b") == Strs{"a", "\xFF" "b"}));  // ill-formed byte counts as a symbol
  CHECK(pieces("").empty());
  // Pieces always tile the input exactly.
  const std::string mixed = "Mixed 文字, numbers ١٢٣ and\ttabs\r\n\u3000end  ";
  std::string joined;
  for (const auto& p : pieces(mixed)) joined += p;
  CHECK(joined == mixed);
}

// ---- BPE ----------------------------------------------------------------------------------------

TEST(tokenizer_bpe_merge_order) {
  const Tokenizer t = tiny_tokenizer();
  CHECK((t.encode("abc") == Ids{kAbc}));     // a+b (rank 2) first, then ab+c (rank 4)
  CHECK((t.encode("aaa") == Ids{kAa, 'a'}));  // equal ranks: leftmost first
  CHECK((t.encode("aaaa") == Ids{kAa, kAa}));
  CHECK((t.encode(" the") == Ids{kSpThe}));
  CHECK((t.encode("the the") == Ids{'t', kHe, kSpThe}));
  CHECK((t.encode("x\n\ny") == Ids{'x', kNlNl, 'y'}));
  CHECK((t.encode("cab") == Ids{'c', kAb}));
  const Tokenizer u = tiny_tokenizer(true);  // "b c" ranked before "a b"
  CHECK((u.encode("abc") == Ids{'a', kBc}));
  CHECK(t.encode("").empty());
}

TEST(tokenizer_byte_fallback) {
  const Tokenizer t = tiny_tokenizer();
  CHECK((t.encode("é") == Ids{0xC3, 0xA9}));
  CHECK((t.encode("中") == Ids{0xE4, 0xB8, 0xAD}));
  CHECK((t.encode(std::string("\0\xFF", 2)) == Ids{0, 0xFF}));
  CHECK(t.token_bytes(0xC3) == "\xC3");
  CHECK(t.token_bytes(kSpThe) == " the");
}

TEST(tokenizer_added_tokens) {
  const Tokenizer t = tiny_tokenizer();
  CHECK((t.encode("<|im_start|>abc<|im_end|>") == Ids{kImStart, kAbc, kImEnd}));
  CHECK((t.encode("<x>yab") == Ids{kXy, kAb}));  // longest match first
  CHECK((t.encode("<x>ab") == Ids{kX, kAb}));
  CHECK((t.encode("ab<asr_text>ab") == Ids{kAb, kAsrText, kAb}));
  CHECK((t.encode("<<x>") == Ids{'<', kX}));
  CHECK((t.encode("<|im_start") == Ids{'<', '|', 'i', 'm', '_', 's', 't', 'a', 'r', 't'}));
  // Plain text when added tokens are not allowed.
  const Ids plain = t.encode("<x>", false);
  CHECK((plain == Ids{'<', 'x', '>'}));
  // The text around an added token is pre-tokenised on its own.
  CHECK((t.encode(" the<x> the") == Ids{kSpThe, kX, kSpThe}));
}

TEST(tokenizer_decode_and_lookup) {
  const Tokenizer t = tiny_tokenizer();
  const Ids ids = {kImStart, kAb, kAsrText, ' ', 0xE4, 0xB8, 0xAD, kImEnd};
  CHECK(t.decode(ids) == "ab<asr_text> 中");  // specials dropped, <asr_text> kept
  CHECK(t.decode(ids, false) == "<|im_start|>ab<asr_text> 中<|im_end|>");
  CHECK(t.decode({0xE4, 0xB8}) == "\xEF\xBF\xBD");  // cut character -> U+FFFD
  CHECK(t.decode({-1, 99999, kAb}) == "ab");          // unknown ids are ignored
  CHECK(t.token_bytes(-5).empty() && t.token_bytes(1 << 30).empty());
  CHECK(t.token_bytes(kImEnd) == "<|im_end|>");
  CHECK(t.vocab_size() == kXy + 1);
  CHECK(t.token_id("<|im_start|>") == kImStart && t.token_id("<asr_text>") == kAsrText);
  CHECK(t.token_id(" the") == kSpThe && t.token_id("\n\n") == kNlNl && t.token_id("nope") == -1);
  CHECK(t.is_special(kImStart) && !t.is_special(kAsrText) && !t.is_special(kAb) && !t.is_special(-1));
}

TEST(tokenizer_round_trip_random_bytes) {
  const Tokenizer t = tiny_tokenizer();
  std::mt19937 rng(7);
  const char alphabet[] = "abct he\n\r\t <x>y|_'sSlL1\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\xFF\x80";
  for (int iter = 0; iter < 2000; ++iter) {
    std::string s;
    const size_t len = rng() % 40;
    for (size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % (sizeof alphabet - 1)]);
    for (bool allow : {true, false}) {
      std::string back;
      for (int id : t.encode(s, allow)) back += t.token_bytes(id);
      CHECK(back == s);  // every byte is covered exactly once, in order
    }
  }
}

TEST(tokenizer_init_errors) {
  Tokenizer t;
  std::string err;
  ModelFile f = tiny_file();
  f.vocab[5] = "中";  // not a GPT-2 byte character
  CHECK(!t.init(f, &err) && err.find("Vocabulary entry 5") != std::string::npos);
  CHECK(t.encode("abc").empty());  // a failed init leaves an empty tokenizer
  f = tiny_file();
  f.vocab[0x41] = gpt2("zz");  // no token for byte 'A' any more
  CHECK(!t.init(f, &err) && err.find("byte 65") != std::string::npos);
  f = tiny_file();
  f.merges.push_back(gpt2("q") + " " + gpt2("z"));  // "qz" is not in the vocabulary
  CHECK(!t.init(f, &err) && err.find("not in the vocabulary") != std::string::npos);
  f = tiny_file();
  f.merges.push_back("nospace");
  CHECK(!t.init(f, &err) && err.find("not a pair") != std::string::npos);
  f = tiny_file();
  f.merges.push_back(" ");
  CHECK(!t.init(f, &err));
}

TEST(tokenizer_long_inputs_are_fast) {
  const Tokenizer t = tiny_tokenizer();
  // One 200 kB "word" and one 200 kB run of spaces: the merge queue keeps this O(n log n).
  const auto start = std::chrono::steady_clock::now();
  const Ids word = t.encode(std::string(200000, 'a'));
  CHECK(word.size() == 100000);
  const Ids spaces = t.encode(std::string(200000, ' ') + "x");
  CHECK(spaces.size() == 200001);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  CHECK(ms < 20000);
}

// ---- streaming ------------------------------------------------------------------------------

TEST(utf8_stream_splits) {
  Utf8Stream s;
  CHECK(s.push("a\xE2") == "a");  // € = E2 82 AC, cut after its first byte
  CHECK(s.push("\x82") == "");
  CHECK(s.push("\xAC" "b") == "€b");
  CHECK(s.push("\xF0\x9F") == "");  // 😀 = F0 9F 98 80, in two halves
  CHECK(s.push("\x98\x80") == "😀");
  CHECK(s.push("\xF0") == "");  // then one byte at a time
  CHECK(s.push("\x9F") == "");
  CHECK(s.push("\x98") == "");
  CHECK(s.push("\x80!") == "😀!");
  CHECK(s.push("\xFF" "x") == "\xEF\xBF\xBDx");  // an invalid byte is replaced at once
  CHECK(s.push("\xE2\x82" "x") == "\xEF\xBF\xBDx");  // a broken sequence too
  CHECK(s.push("\xE4\xB8") == "");
  CHECK(s.flush() == "\xEF\xBF\xBD");  // what is left at the end
  CHECK(s.flush().empty());
  CHECK(s.push("") == "");
  // Feeding any token stream byte by byte gives the sanitised whole.
  const std::string text = "Zürich 東京 😀 \xFF end";
  Utf8Stream t;
  std::string out;
  for (char c : text) out += t.push(std::string(1, c));
  out += t.flush();
  CHECK(out == utf8_sanitize(text));
}
