// A small JSON reader for the GGMM metadata blob (HF config.json, preprocessor_config.json,
// tokenizer_config.json) and for option strings passed from JavaScript.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qasr {

class Json {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  static constexpr int kMaxDepth = 256;

  // Parses text; returns false and fills *error (with a byte offset) on malformed input.
  // Strict JSON (RFC 8259) plus the NaN / Infinity / -Infinity literals that Python's json.dumps
  // writes; nesting deeper than kMaxDepth is rejected so hostile input cannot exhaust the stack.
  static bool parse(const std::string& text, Json* out, std::string* error);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_object() const { return kind_ == Kind::Object; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_bool() const { return kind_ == Kind::Bool; }

  // Member lookup; returns a shared null value when absent or when this is not an object.
  const Json& operator[](const std::string& key) const;
  const Json& at(size_t i) const;  // array element or null
  size_t size() const;             // array length or object member count
  bool has(const std::string& key) const;
  const std::map<std::string, Json>& members() const { return object_; }
  const std::vector<Json>& items() const { return array_; }

  double number_or(double fallback) const { return is_number() ? number_ : fallback; }
  // The number truncated toward zero; fallback when absent or not representable as an int.
  int int_or(int fallback) const;
  bool bool_or(bool fallback) const { return is_bool() ? bool_ : fallback; }
  std::string string_or(const std::string& fallback) const { return is_string() ? string_ : fallback; }

 private:
  friend class JsonParser;
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::map<std::string, Json> object_;
};

// Escapes s as a JSON string literal (with the quotes).
std::string json_quote(const std::string& s);

}  // namespace qasr
