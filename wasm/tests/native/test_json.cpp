// Tests of the JSON reader used for the GGMM metadata (research/chatllm-qwen3-asr.md §1.2).
#include <cmath>
#include <string>

#include "json.h"
#include "test.h"

using namespace qasr;

namespace {

bool parses(const std::string& text, Json* out = nullptr) {
  Json j;
  std::string err;
  const bool ok = Json::parse(text, out ? out : &j, &err);
  if (ok) CHECK(err.empty());
  return ok;
}

std::string error_of(const std::string& text) {
  Json j;
  std::string err;
  CHECK(!Json::parse(text, &j, &err));
  CHECK(!err.empty());
  return err;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(json_objects_arrays_literals) {
  Json j;
  CHECK(parses(" { \"a\" : [1, 2.5, -3e2, true, false, null, {}], \"b\": {\"c\": \"d\"}, \"e\": [] } ", &j));
  CHECK(j.is_object() && j.size() == 3);
  CHECK(j["a"].is_array() && j["a"].size() == 7);
  CHECK(j["a"].at(0).int_or(0) == 1);
  CHECK(j["a"].at(1).number_or(0) == 2.5);
  CHECK(j["a"].at(2).number_or(0) == -300);
  CHECK(j["a"].at(3).bool_or(false) == true);
  CHECK(j["a"].at(4).is_bool() && !j["a"].at(4).bool_or(true));
  CHECK(j["a"].at(5).is_null());
  CHECK(j["a"].at(6).is_object() && j["a"].at(6).size() == 0);
  CHECK(j["a"].at(99).is_null());
  CHECK(j["b"]["c"].string_or("") == "d");
  CHECK(j["e"].is_array() && j["e"].size() == 0);
  CHECK(j.has("e") && !j.has("zzz"));
  // Lookups on missing members and wrong kinds give the shared null.
  CHECK(j["missing"]["deeper"].is_null());
  CHECK(j["b"]["c"]["x"].is_null());
  CHECK(j["a"]["x"].is_null() && j.at(0).is_null());
  CHECK(j["missing"].int_or(7) == 7 && j["b"].string_or("fb") == "fb");
  // Scalars as documents; duplicate keys keep the last.
  CHECK(parses("42", &j) && j.int_or(0) == 42);
  CHECK(parses("\"s\"", &j) && j.string_or("") == "s");
  CHECK(parses("null", &j) && j.is_null());
  CHECK(parses("{\"k\":1,\"k\":2}", &j) && j["k"].int_or(0) == 2 && j.size() == 1);
  CHECK(parses("[[[[]]]]", &j) && j.at(0).at(0).at(0).is_array());
}

TEST(json_numbers) {
  Json j;
  CHECK(parses("-0", &j) && j.number_or(1) == 0 && std::signbit(j.number_or(1)));
  CHECK(parses("0.000001", &j) && j.number_or(0) == 1e-6);
  CHECK(parses("1E-2", &j) && j.number_or(0) == 0.01);
  CHECK(parses("1e+2", &j) && j.number_or(0) == 100);
  CHECK(parses("1000000.0", &j) && j.int_or(0) == 1000000);
  CHECK(parses("-7.9", &j) && j.int_or(0) == -7);  // truncation toward zero
  CHECK(parses("123456789012345678901234567890", &j) && j.number_or(0) == 1.2345678901234568e29);
  CHECK(j.int_or(-5) == -5);  // not representable as int
  CHECK(parses("2147483647", &j) && j.int_or(0) == 2147483647);
  CHECK(parses("2147483648", &j) && j.int_or(3) == 3);
  CHECK(parses("-2147483648", &j) && j.int_or(0) == -2147483647 - 1);
  // Huge and tiny numbers: +-inf and 0 like Python's float(); never UB in int_or.
  CHECK(parses("1e400", &j) && std::isinf(j.number_or(0)) && j.int_or(9) == 9);
  CHECK(parses("-1e400", &j) && std::isinf(j.number_or(0)) && j.number_or(0) < 0);
  CHECK(parses("1e-400", &j) && j.number_or(1) == 0);
  CHECK(parses(std::string(5000, '9'), &j) && std::isinf(j.number_or(0)));
  // Python json.dumps extensions.
  CHECK(parses("[NaN, Infinity, -Infinity]", &j));
  CHECK(std::isnan(j.at(0).number_or(0)) && j.at(0).int_or(4) == 4);
  CHECK(std::isinf(j.at(1).number_or(0)) && j.at(2).number_or(0) < 0);
}

TEST(json_strings_and_escapes) {
  Json j;
  CHECK(parses(R"("a\"b\\c\/d\be\ff\ng\rh\ti")", &j));
  CHECK(j.string_or("") == "a\"b\\c/d\be\ff\ng\rh\ti");
  CHECK(parses(R"("\u00e9\u4E2D")", &j) && j.string_or("") == "\xC3\xA9\xE4\xB8\xAD");
  CHECK(parses(R"("\ud83d\ude00")", &j) && j.string_or("") == "\xF0\x9F\x98\x80");  // 😀
  CHECK(parses(R"("\u0000x")", &j) && j.string_or("") == std::string("\0x", 2));
  // Lone surrogates cannot be UTF-8: U+FFFD.
  CHECK(parses(R"("\ud83d")", &j) && j.string_or("") == "\xEF\xBF\xBD");
  CHECK(parses(R"("\ude00x")", &j) && j.string_or("") == "\xEF\xBF\xBDx");
  CHECK(parses(R"("\ud83d\u0041")", &j) && j.string_or("") == "\xEF\xBF\xBD" "A");
  // Raw UTF-8 passes through.
  CHECK(parses("\"中文 \xF0\x9F\x98\x80\"", &j) && j.string_or("") == "中文 \xF0\x9F\x98\x80");
  CHECK(parses("{\"ключ\": 1}", &j) && j["ключ"].int_or(0) == 1);
}

TEST(json_errors_name_the_offset) {
  std::string e = error_of("{\"a\": \"unterminated");
  CHECK(contains(e, "unterminated string") && contains(e, "byte 6"));
  e = error_of(R"(["bad \x escape"])");
  CHECK(contains(e, "bad escape") && contains(e, "byte 7"));
  CHECK(contains(error_of(R"("\u12G4")"), "hex digit"));
  CHECK(contains(error_of(R"("\u12")"), "\\u"));
  CHECK(contains(error_of("{} x"), "after the end"));
  CHECK(contains(error_of("[1] [2]"), "after the end"));
  CHECK(contains(error_of(""), "end of input"));
  CHECK(contains(error_of("   "), "end of input"));
  CHECK(contains(error_of("01"), "leading zeros"));
  CHECK(contains(error_of("1."), "decimal point"));
  CHECK(contains(error_of("1e"), "exponent"));
  CHECK(contains(error_of("-"), "digit"));
  CHECK(contains(error_of("+1"), "unexpected character"));
  CHECK(contains(error_of(".5"), "unexpected character"));
  CHECK(contains(error_of("[1,]"), "unexpected character"));
  CHECK(contains(error_of("[1 2]"), "expected ','"));
  CHECK(contains(error_of("{\"a\" 1}"), "expected ':'"));
  CHECK(contains(error_of("{\"a\":1,}"), "string key"));
  CHECK(contains(error_of("{1:2}"), "string key"));
  CHECK(contains(error_of("{\"a\":1"), "unterminated object"));
  CHECK(contains(error_of("[1"), "unterminated array"));
  CHECK(contains(error_of("tru"), "unexpected character"));
  CHECK(contains(error_of("nul"), "unexpected character"));
  CHECK(contains(error_of("\"a\nb\""), "control character"));
  CHECK(contains(error_of("\"a\tb\""), "control character"));
  CHECK(contains(error_of("'single'"), "unexpected character"));
  CHECK(contains(error_of(std::string("[\x01]")), "\\x01"));
  Json keep;
  CHECK(parses("{\"x\":1}", &keep));
  std::string err;
  CHECK(!Json::parse("{\"y\":", &keep, &err));
  CHECK(keep["x"].int_or(0) == 1);  // a failed parse leaves *out untouched
}

TEST(json_depth_limit) {
  Json j;
  const int limit = Json::kMaxDepth;
  CHECK(parses(std::string(limit, '[') + std::string(limit, ']'), &j));
  CHECK(contains(error_of(std::string(limit + 2, '[') + std::string(limit + 2, ']')), "nesting"));
  // Hostile input far beyond the limit must fail cleanly, not overflow the stack.
  CHECK(contains(error_of(std::string(1000000, '[')), "nesting"));
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  CHECK(contains(error_of(objects), "nesting"));
}

TEST(json_quote_round_trip) {
  CHECK(json_quote("plain") == "\"plain\"");
  CHECK(json_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json_quote("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\"");
  CHECK(json_quote(std::string("\x01\x1f", 2)) == "\"\\u0001\\u001f\"");
  CHECK(json_quote(std::string("\0", 1)) == "\"\\u0000\"");
  CHECK(json_quote("中文😀") == "\"中文😀\"");
  CHECK(json_quote("bad\xFF") == "\"bad\xEF\xBF\xBD\"");      // always valid UTF-8
  CHECK(json_quote("cut\xE4\xB8") == "\"cut\xEF\xBF\xBD\"");
  const std::string samples[] = {"", "x", "a\"\\/\n\x01 é 中 😀", std::string("\0z", 2)};
  for (const std::string& s : samples) {
    Json j;
    CHECK(parses(json_quote(s), &j));
    CHECK(j.string_or("?") == s);
  }
}
