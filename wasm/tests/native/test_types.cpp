// Tests of ggml_types: fp16/bf16 conversions and the block layouts of
// research/chatllm-qwen3-asr.md §1.8.
#include <cmath>
#include <cstring>
#include <limits>

#include "ggml_types.h"
#include "test.h"

using namespace qasr;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

bool is_nan_half(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0; }

}  // namespace

TEST(types_fp16_known_values) {
  CHECK(fp16_to_f32(0x0000) == 0.0f && !std::signbit(fp16_to_f32(0x0000)));
  CHECK(fp16_to_f32(0x8000) == 0.0f && std::signbit(fp16_to_f32(0x8000)));
  CHECK(fp16_to_f32(0x3C00) == 1.0f);
  CHECK(fp16_to_f32(0xC000) == -2.0f);
  CHECK(fp16_to_f32(0x7BFF) == 65504.0f);
  CHECK(fp16_to_f32(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(fp16_to_f32(0x03FF) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(fp16_to_f32(0x0400) == std::ldexp(1.0f, -14));  // smallest normal
  CHECK(std::isinf(fp16_to_f32(0x7C00)) && fp16_to_f32(0x7C00) > 0);
  CHECK(std::isinf(fp16_to_f32(0xFC00)) && fp16_to_f32(0xFC00) < 0);
  CHECK(std::isnan(fp16_to_f32(0x7E00)));
  CHECK(std::isnan(fp16_to_f32(0x7C01)));

  CHECK(f32_to_fp16(0.0f) == 0x0000);
  CHECK(f32_to_fp16(-0.0f) == 0x8000);
  CHECK(f32_to_fp16(1.0f) == 0x3C00);
  CHECK(f32_to_fp16(-2.0f) == 0xC000);
  CHECK(f32_to_fp16(65504.0f) == 0x7BFF);
  CHECK(f32_to_fp16(65519.996f) == 0x7BFF);  // just below the halfway point to 65536
  CHECK(f32_to_fp16(65520.0f) == 0x7C00);    // halfway ties to even = overflow to inf
  CHECK(f32_to_fp16(1e10f) == 0x7C00);
  CHECK(f32_to_fp16(-1e10f) == 0xFC00);
  CHECK(f32_to_fp16(std::numeric_limits<float>::infinity()) == 0x7C00);
  CHECK(f32_to_fp16(-std::numeric_limits<float>::infinity()) == 0xFC00);
  CHECK(is_nan_half(f32_to_fp16(std::numeric_limits<float>::quiet_NaN())));
  CHECK(is_nan_half(f32_to_fp16(from_bits(0x7F800001))));  // signalling NaN, payload in low bits
  CHECK(is_nan_half(f32_to_fp16(from_bits(0xFFC00000))));
  // Subnormals and underflow (unit u = 2^-24).
  const float u = std::ldexp(1.0f, -24);
  CHECK(f32_to_fp16(u) == 0x0001);
  CHECK(f32_to_fp16(0.5f * u) == 0x0000);                          // tie -> even (0)
  CHECK(f32_to_fp16(-0.5f * u) == 0x8000);
  CHECK(f32_to_fp16(std::nextafter(0.5f * u, 1.0f)) == 0x0001);   // just above the tie
  CHECK(f32_to_fp16(1.5f * u) == 0x0002);                          // tie -> even (2)
  CHECK(f32_to_fp16(2.5f * u) == 0x0002);                          // tie -> even (2)
  CHECK(f32_to_fp16(1023.5f * u) == 0x0400);  // rounds up into the smallest normal
  CHECK(f32_to_fp16(1e-30f) == 0x0000);
  CHECK(f32_to_fp16(std::numeric_limits<float>::denorm_min()) == 0x0000);
  // Normal rounding: 1 + 2^-11 is the tie between 1 and 1 + 2^-10 -> even (1).
  CHECK(f32_to_fp16(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);
  CHECK(f32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);
  CHECK(f32_to_fp16(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)) == 0x3C01);
}

TEST(types_fp16_exhaustive_round_trip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_f32(static_cast<uint16_t>(h));
    const uint16_t back = f32_to_fp16(f);
    if (is_nan_half(static_cast<uint16_t>(h))) {
      CHECK(std::isnan(f) && is_nan_half(back) && (back & 0x8000) == (h & 0x8000));
    } else {
      CHECK(back == h);
    }
  }
}

// Every midpoint between neighbouring halves rounds to the even one; a hair either side
// rounds to the nearer one.
TEST(types_fp16_exhaustive_midpoints) {
  for (uint32_t h = 0; h < 0x7BFF; ++h) {
    const double lo = fp16_to_f32(static_cast<uint16_t>(h));
    const double hi = fp16_to_f32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((lo + hi) / 2);  // exact: at most 12 significant bits
    CHECK(static_cast<double>(mid) == (lo + hi) / 2);
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : static_cast<uint16_t>(h);
    CHECK(f32_to_fp16(mid) == even);
    CHECK(f32_to_fp16(-mid) == (even | 0x8000));
    CHECK(f32_to_fp16(std::nextafter(mid, 0.0f)) == h);
    CHECK(f32_to_fp16(std::nextafter(mid, 1e30f)) == h + 1);
  }
}

TEST(types_bf16) {
  CHECK(bf16_to_f32(0x3F80) == 1.0f);
  CHECK(bf16_to_f32(0xC040) == -3.0f);
  CHECK(std::isinf(bf16_to_f32(0x7F80)));
  CHECK(std::isnan(bf16_to_f32(0x7FC0)));
  CHECK(f32_to_bf16(1.0f) == 0x3F80);
  CHECK(f32_to_bf16(-3.0f) == 0xC040);
  CHECK(f32_to_bf16(from_bits(0x3F808000)) == 0x3F80);  // tie -> even
  CHECK(f32_to_bf16(from_bits(0x3F818000)) == 0x3F82);  // tie -> even (up)
  CHECK(f32_to_bf16(from_bits(0x3F808001)) == 0x3F81);
  CHECK(f32_to_bf16(from_bits(0x7F7FFFFF)) == 0x7F80);  // max float rounds to inf
  const uint16_t nan = f32_to_bf16(from_bits(0x7F800001));  // NaN must not become inf
  CHECK((nan & 0x7F80) == 0x7F80 && (nan & 0x7F) != 0);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_f32(static_cast<uint16_t>(h));
    if (!std::isnan(f)) CHECK(f32_to_bf16(f) == h);
  }
  CHECK(bits(bf16_to_f32(0x8000)) == 0x80000000u);
}

TEST(types_block_sizes) {
  CHECK(type_is_known(0) && type_is_known(1) && type_is_known(2) && type_is_known(3));
  CHECK(type_is_known(8) && type_is_known(30));
  CHECK(!type_is_known(12) && !type_is_known(-1) && !type_is_known(4) && !type_is_known(31));
  CHECK(type_block_elems(GgmlType::F32) == 1 && type_block_bytes(GgmlType::F32) == 4);
  CHECK(type_block_elems(GgmlType::F16) == 1 && type_block_bytes(GgmlType::F16) == 2);
  CHECK(type_block_elems(GgmlType::BF16) == 1 && type_block_bytes(GgmlType::BF16) == 2);
  CHECK(type_block_elems(GgmlType::Q4_0) == 32 && type_block_bytes(GgmlType::Q4_0) == 18);
  CHECK(type_block_elems(GgmlType::Q4_1) == 32 && type_block_bytes(GgmlType::Q4_1) == 20);
  CHECK(type_block_elems(GgmlType::Q8_0) == 32 && type_block_bytes(GgmlType::Q8_0) == 34);
  CHECK(row_bytes(GgmlType::F32, 10) == 40);
  CHECK(row_bytes(GgmlType::Q4_0, 1024) == 32 * 18);
  CHECK(row_bytes(GgmlType::Q8_0, 64) == 68);
  CHECK(row_bytes(GgmlType::Q4_1, 0) == 0);
  CHECK(std::strcmp(type_name(GgmlType::Q4_0), "q4_0") == 0);
  CHECK(std::strcmp(type_name(GgmlType::BF16), "bf16") == 0);
}

TEST(types_dequant_q4_0) {
  BlockQ4_0 b[2];
  b[0].d = f32_to_fp16(0.5f);
  for (int j = 0; j < 16; ++j) b[0].qs[j] = static_cast<uint8_t>((j & 15) | ((15 - j) << 4));
  b[1].d = f32_to_fp16(-2.0f);
  std::memset(b[1].qs, 0x8F, 16);  // low nibble 15, high nibble 8
  float out[64];
  dequantize_row(GgmlType::Q4_0, b, out, 64);
  for (int j = 0; j < 16; ++j) {
    CHECK(out[j] == (j - 8) * 0.5f);             // low nibble -> element j
    CHECK(out[j + 16] == ((15 - j) - 8) * 0.5f);  // high nibble -> element j + 16
    CHECK(out[32 + j] == (15 - 8) * -2.0f);
    CHECK(out[48 + j] == 0.0f);
  }
}

TEST(types_dequant_q4_1) {
  BlockQ4_1 b;
  b.d = f32_to_fp16(0.25f);
  b.m = f32_to_fp16(-1.0f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | (3 << 4));
  float out[32];
  dequantize_row(GgmlType::Q4_1, &b, out, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(out[j] == j * 0.25f - 1.0f);
    CHECK(out[j + 16] == 3 * 0.25f - 1.0f);
  }
}

TEST(types_dequant_q8_0) {
  BlockQ8_0 b;
  b.d = f32_to_fp16(0.125f);
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j * 8 - 128);
  float out[32];
  dequantize_row(GgmlType::Q8_0, &b, out, 32);
  for (int j = 0; j < 32; ++j) CHECK(out[j] == (j * 8 - 128) * 0.125f);
  CHECK(out[0] == -16.0f);
}

TEST(types_dequant_float_rows_and_tail) {
  const float f[3] = {1.5f, -2.25f, 3e-5f};
  float out[3];
  dequantize_row(GgmlType::F32, f, out, 3);
  CHECK(out[0] == 1.5f && out[1] == -2.25f && out[2] == 3e-5f);
  uint16_t h[3] = {f32_to_fp16(1.5f), f32_to_fp16(-2.25f), 0x0001};
  dequantize_row(GgmlType::F16, h, out, 3);
  CHECK(out[0] == 1.5f && out[1] == -2.25f && out[2] == std::ldexp(1.0f, -24));
  uint16_t bf[3] = {0x3FC0, 0xC010, 0x0000};
  dequantize_row(GgmlType::BF16, bf, out, 3);
  CHECK(out[0] == 1.5f && out[1] == -2.25f && out[2] == 0.0f);
  // Unaligned source (tensor data in a file is only 16-byte aligned; blocks are packed).
  uint8_t raw[1 + sizeof(BlockQ8_0)] = {};
  BlockQ8_0 q;
  q.d = f32_to_fp16(1.0f);
  for (int j = 0; j < 32; ++j) q.qs[j] = static_cast<int8_t>(j);
  std::memcpy(raw + 1, &q, sizeof q);
  float row[40];
  for (float& v : row) v = 99.0f;
  dequantize_row(GgmlType::Q8_0, raw + 1, row, 40);  // partial second block -> zeros
  for (int j = 0; j < 32; ++j) CHECK(row[j] == j);
  for (int j = 32; j < 40; ++j) CHECK(row[j] == 0.0f);
}
