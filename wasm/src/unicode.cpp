// Character classes and UTF-8 helpers for the tokenizer (research/chatllm-qwen3-asr.md §1.5).
#include "unicode.h"

#include <iterator>

namespace qasr {
namespace {

struct CodeRange {
  uint32_t first;
  uint32_t last;
};

#include "unicode_tables.inc"

template <size_t N>
bool in_ranges(const CodeRange (&table)[N], uint32_t cp) {
  size_t lo = 0, hi = N;  // binary search for the last range with first <= cp
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (table[mid].first <= cp) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo > 0 && cp <= table[lo - 1].last;
}

bool is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

// Sequence length announced by a lead byte and the allowed range of the second byte
// (Unicode Table 3-7, well-formed UTF-8 byte sequences). 0 for bytes that cannot lead.
int lead_info(uint8_t b, uint8_t* lo2, uint8_t* hi2) {
  *lo2 = 0x80;
  *hi2 = 0xBF;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b == 0xE0) { *lo2 = 0xA0; return 3; }
  if (b >= 0xE1 && b <= 0xEC) return 3;
  if (b == 0xED) { *hi2 = 0x9F; return 3; }
  if (b >= 0xEE && b <= 0xEF) return 3;
  if (b == 0xF0) { *lo2 = 0x90; return 4; }
  if (b >= 0xF1 && b <= 0xF3) return 4;
  if (b == 0xF4) { *hi2 = 0x8F; return 4; }
  return 0;
}

}  // namespace

bool is_letter(uint32_t cp) { return in_ranges(kLetterRanges, cp); }
bool is_number(uint32_t cp) { return in_ranges(kNumberRanges, cp); }
bool is_space(uint32_t cp) { return in_ranges(kSpaceRanges, cp); }

Utf8Status utf8_next(const uint8_t* s, size_t n, uint32_t* cp, size_t* len) {
  *cp = kReplacementChar;
  *len = 1;
  if (n == 0) return Utf8Status::kIncomplete;
  uint8_t lo2 = 0, hi2 = 0;
  const int total = lead_info(s[0], &lo2, &hi2);
  if (total == 0) return Utf8Status::kInvalid;
  if (total == 1) {
    *cp = s[0];
    return Utf8Status::kOk;
  }
  uint32_t value = s[0] & (0x7F >> total);
  for (int k = 1; k < total; ++k) {
    if (static_cast<size_t>(k) >= n) {
      *len = n;
      return Utf8Status::kIncomplete;
    }
    const uint8_t b = s[k];
    const bool ok = k == 1 ? (b >= lo2 && b <= hi2) : is_continuation(b);
    if (!ok) {
      *len = static_cast<size_t>(k);  // the maximal subpart ends before the bad byte
      return Utf8Status::kInvalid;
    }
    value = (value << 6) | (b & 0x3F);
  }
  *cp = value;
  *len = static_cast<size_t>(total);
  return Utf8Status::kOk;
}

size_t utf8_decode(const uint8_t* s, size_t n, uint32_t* cp) {
  if (n == 0) {
    *cp = kReplacementChar;
    return 0;
  }
  size_t len = 1;
  if (utf8_next(s, n, cp, &len) != Utf8Status::kOk) *cp = kReplacementChar;
  return len;
}

void utf8_append(uint32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementChar;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_sanitize(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t len = 1;
    if (utf8_next(p + i, s.size() - i, &cp, &len) == Utf8Status::kOk) {
      out.append(s, i, len);
    } else {
      utf8_append(kReplacementChar, &out);
    }
    i += len;
  }
  return out;
}

}  // namespace qasr
