// JSON reader for the GGMM metadata blob (research/chatllm-qwen3-asr.md §1.2: config.json,
// preprocessor_config.json, tokenizer_config.json as written by Python's json.dumps) and for
// option strings from JavaScript. Recursive descent with a depth limit; every error names the
// byte offset where it was found.
#include "json.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "unicode.h"

namespace qasr {

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : s_(text) {}

  bool parse_document(Json* out, std::string* error) {
    skip_space();
    if (!parse_value(out, 0)) return report(error);
    skip_space();
    if (pos_ != s_.size()) {
      fail("unexpected text after the end of the JSON value");
      return report(error);
    }
    return true;
  }

 private:
  const std::string& s_;
  size_t pos_ = 0;
  size_t err_pos_ = 0;
  std::string err_;

  bool report(std::string* error) {
    if (error) *error = "JSON error at byte " + std::to_string(err_pos_) + ": " + err_;
    return false;
  }
  bool fail(const std::string& what) { return fail_at(pos_, what); }
  bool fail_at(size_t at, const std::string& what) {
    if (err_.empty()) {
      err_pos_ = at;
      err_ = what;
    }
    return false;
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }

  void skip_space() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool consume_word(const char* word) {
    const size_t n = std::strlen(word);
    if (s_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  bool parse_value(Json* out, int depth) {
    if (depth > Json::kMaxDepth) {
      return fail("nesting deeper than " + std::to_string(Json::kMaxDepth) + " levels");
    }
    if (at_end()) return fail("unexpected end of input, expected a value");
    const char c = peek();
    if (c == '{') return parse_object(out, depth);
    if (c == '[') return parse_array(out, depth);
    if (c == '"') {
      out->kind_ = Json::Kind::String;
      return parse_string(&out->string_);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
    return parse_literal(out);
  }

  bool parse_literal(Json* out) {
    if (consume_word("true")) {
      out->kind_ = Json::Kind::Bool;
      out->bool_ = true;
    } else if (consume_word("false")) {
      out->kind_ = Json::Kind::Bool;
      out->bool_ = false;
    } else if (consume_word("null")) {
      out->kind_ = Json::Kind::Null;
    } else if (consume_word("NaN")) {  // Python json.dumps extension
      out->kind_ = Json::Kind::Number;
      out->number_ = std::numeric_limits<double>::quiet_NaN();
    } else if (consume_word("Infinity")) {
      out->kind_ = Json::Kind::Number;
      out->number_ = std::numeric_limits<double>::infinity();
    } else {
      return fail(std::string("unexpected character '") + printable(peek()) + "'");
    }
    return true;
  }

  static std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string(1, c);
    static const char* hex = "0123456789ABCDEF";
    return std::string("\\x") + hex[u >> 4] + hex[u & 15];
  }

  bool parse_object(Json* out, int depth) {
    out->kind_ = Json::Kind::Object;
    ++pos_;  // '{'
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_space();
      if (peek() != '"') return fail(at_end() ? "unterminated object" : "expected a string key in object");
      std::string key;
      if (!parse_string(&key)) return false;
      skip_space();
      if (peek() != ':') return fail("expected ':' after object key");
      ++pos_;
      skip_space();
      Json value;
      if (!parse_value(&value, depth + 1)) return false;
      out->object_[key] = std::move(value);  // a repeated key keeps its last value
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return fail(at_end() ? "unterminated object" : "expected ',' or '}' in object");
    }
  }

  bool parse_array(Json* out, int depth) {
    out->kind_ = Json::Kind::Array;
    ++pos_;  // '['
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_space();
      Json value;
      if (!parse_value(&value, depth + 1)) return false;
      out->array_.push_back(std::move(value));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return fail(at_end() ? "unterminated array" : "expected ',' or ']' in array");
    }
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  size_t skip_digits() {
    const size_t start = pos_;
    while (!at_end() && is_digit(s_[pos_])) ++pos_;
    return pos_ - start;
  }

  bool parse_number(Json* out) {
    const size_t start = pos_;
    if (peek() == '-') {
      ++pos_;
      if (consume_word("Infinity")) {
        out->kind_ = Json::Kind::Number;
        out->number_ = -std::numeric_limits<double>::infinity();
        return true;
      }
    }
    if (peek() == '0') {
      ++pos_;
      if (is_digit(peek())) return fail("numbers may not have leading zeros");
    } else if (skip_digits() == 0) {
      return fail("expected a digit");
    }
    if (peek() == '.') {
      ++pos_;
      if (skip_digits() == 0) return fail("expected a digit after the decimal point");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (skip_digits() == 0) return fail("expected a digit in the exponent");
    }
    // The grammar was checked above, so strtod sees a plain C-locale number. Values beyond the
    // double range become +-infinity (as Python's float() does); tiny ones become 0.
    const std::string literal = s_.substr(start, pos_ - start);
    out->kind_ = Json::Kind::Number;
    out->number_ = std::strtod(literal.c_str(), nullptr);
    return true;
  }

  bool read_hex4(uint32_t* value) {
    if (s_.size() - pos_ < 4) return fail("unterminated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_ + i];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return fail_at(pos_ + i, "bad hex digit in \\u escape");
      }
    }
    pos_ += 4;
    *value = v;
    return true;
  }

  // After "\u": reads one code unit, and its low surrogate when it is a high one. Lone
  // surrogates become U+FFFD (they cannot be written as UTF-8).
  bool parse_unicode_escape(std::string* out) {
    uint32_t unit = 0;
    if (!read_hex4(&unit)) return false;
    if (unit >= 0xD800 && unit <= 0xDBFF && s_.compare(pos_, 2, "\\u") == 0) {
      const size_t save = pos_;
      pos_ += 2;
      uint32_t low = 0;
      if (!read_hex4(&low)) return false;
      if (low >= 0xDC00 && low <= 0xDFFF) {
        utf8_append(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), out);
        return true;
      }
      pos_ = save;  // not a pair: the second escape is read on its own
    }
    utf8_append(unit, out);  // surrogates map to U+FFFD
    return true;
  }

  bool parse_escape(std::string* out) {
    if (at_end()) return fail("unterminated string");
    const char c = s_[pos_++];
    switch (c) {
      case '"': out->push_back('"'); return true;
      case '\\': out->push_back('\\'); return true;
      case '/': out->push_back('/'); return true;
      case 'b': out->push_back('\b'); return true;
      case 'f': out->push_back('\f'); return true;
      case 'n': out->push_back('\n'); return true;
      case 'r': out->push_back('\r'); return true;
      case 't': out->push_back('\t'); return true;
      case 'u': return parse_unicode_escape(out);
      default: return fail_at(pos_ - 1, std::string("bad escape '\\") + printable(c) + "'");
    }
  }

  bool parse_string(std::string* out) {
    const size_t open = pos_;
    ++pos_;  // opening quote
    for (;;) {
      if (at_end()) return fail_at(open, "unterminated string");
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character inside a string");
      ++pos_;
      if (c == '\\') {
        if (!parse_escape(out)) return false;
      } else if (static_cast<unsigned char>(c) < 0x80) {
        out->push_back(c);
      } else {
        // JSON text is UTF-8 (RFC 8259 §8.1): an ill-formed sequence is an error, not data.
        uint32_t cp = 0;
        size_t len = 0;
        const size_t start = pos_ - 1;
        const auto* bytes = reinterpret_cast<const uint8_t*>(s_.data());
        if (utf8_next(bytes + start, s_.size() - start, &cp, &len) != Utf8Status::kOk)
          return fail_at(start, "invalid UTF-8 inside a string");
        out->append(s_, start, len);
        pos_ = start + len;
      }
    }
  }
};

namespace {
const Json& null_json() {
  static const Json kNull;
  return kNull;
}
}  // namespace

bool Json::parse(const std::string& text, Json* out, std::string* error) {
  Json result;
  JsonParser parser(text);
  if (!parser.parse_document(&result, error)) return false;
  *out = std::move(result);
  return true;
}

int Json::int_or(int fallback) const {
  if (!is_number() || !(number_ > -2147483649.0 && number_ < 2147483648.0)) return fallback;
  return static_cast<int>(number_);
}

const Json& Json::operator[](const std::string& key) const {
  if (!is_object()) return null_json();
  auto it = object_.find(key);
  return it == object_.end() ? null_json() : it->second;
}

const Json& Json::at(size_t i) const { return is_array() && i < array_.size() ? array_[i] : null_json(); }

size_t Json::size() const {
  if (is_array()) return array_.size();
  if (is_object()) return object_.size();
  return 0;
}

bool Json::has(const std::string& key) const { return is_object() && object_.count(key) > 0; }

std::string json_quote(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  const std::string clean = utf8_sanitize(s);  // the result is always valid UTF-8
  std::string out;
  out.reserve(clean.size() + 2);
  out.push_back('"');
  for (char c : clean) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(hex[u >> 4]);
          out.push_back(hex[u & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace qasr
