// Tensor element types and block layouts of the GGMM container
// (research/chatllm-qwen3-asr.md §1.8 block layouts, §6 tensor types).
#include "ggml_types.h"

#include <cstring>

namespace qasr {
namespace {

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

void dequant_q4_0(const uint8_t* src, float* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, src += sizeof(BlockQ4_0), dst += kQuantBlock) {
    const float d = fp16_to_f32(load_u16(src));
    const uint8_t* qs = src + 2;
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
      dst[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
  }
}

void dequant_q4_0_x4(const uint8_t* src, float* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, dst += kQuantBlock) {
    const uint8_t* g = src + (b / 4) * kQ4_0X4GroupBytes;
    const int l = static_cast<int>(b % 4);
    const float d = fp16_to_f32(load_u16(g + 2 * l));
    for (int j = 0; j < 16; ++j) {
      const uint8_t q = g[q4_0_x4_code_offset(l, j)];
      dst[j] = static_cast<float>((q & 0x0F) - 8) * d;
      dst[j + 16] = static_cast<float>((q >> 4) - 8) * d;
    }
  }
}

void dequant_q4_1(const uint8_t* src, float* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, src += sizeof(BlockQ4_1), dst += kQuantBlock) {
    const float d = fp16_to_f32(load_u16(src));
    const float m = fp16_to_f32(load_u16(src + 2));
    const uint8_t* qs = src + 4;
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
      dst[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
    }
  }
}

void dequant_q8_0(const uint8_t* src, float* dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b, src += sizeof(BlockQ8_0), dst += kQuantBlock) {
    const float d = fp16_to_f32(load_u16(src));
    for (int j = 0; j < kQuantBlock; ++j) {
      dst[j] = static_cast<float>(static_cast<int8_t>(src[2 + j])) * d;
    }
  }
}

}  // namespace

bool type_is_known(int32_t raw) {
  switch (raw) {
    case static_cast<int32_t>(GgmlType::F32):
    case static_cast<int32_t>(GgmlType::F16):
    case static_cast<int32_t>(GgmlType::Q4_0):
    case static_cast<int32_t>(GgmlType::Q4_1):
    case static_cast<int32_t>(GgmlType::Q8_0):
    case static_cast<int32_t>(GgmlType::BF16):
      return true;
    default:
      return false;
  }
}

const char* type_name(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return "f32";
    case GgmlType::F16: return "f16";
    case GgmlType::Q4_0: return "q4_0";
    case GgmlType::Q4_0_X4: return "q4_0 (packed)";
    case GgmlType::Q4_1: return "q4_1";
    case GgmlType::Q8_0: return "q8_0";
    case GgmlType::BF16: return "bf16";
  }
  return "unknown";
}

int type_block_elems(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_0_X4:
    case GgmlType::Q4_1:
    case GgmlType::Q8_0:
      return kQuantBlock;
    default:
      return 1;
  }
}

int type_block_bytes(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 4;
    case GgmlType::F16: return 2;
    case GgmlType::BF16: return 2;
    case GgmlType::Q4_0:
    case GgmlType::Q4_0_X4: return static_cast<int>(sizeof(BlockQ4_0));
    case GgmlType::Q4_1: return static_cast<int>(sizeof(BlockQ4_1));
    case GgmlType::Q8_0: return static_cast<int>(sizeof(BlockQ8_0));
  }
  return 0;
}

size_t row_bytes(GgmlType t, int64_t n) {
  if (n <= 0) return 0;
  return static_cast<size_t>(n / type_block_elems(t)) * static_cast<size_t>(type_block_bytes(t));
}

float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t mant = h & 0x3FF;
  if (exp == 0x1F) return bits_float(sign | 0x7F800000 | (mant << 13));  // inf / nan
  if (exp != 0) return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
  // Zero or subnormal: mant * 2^-24, exact in f32.
  const float magnitude = static_cast<float>(mant) * (1.0f / 16777216.0f);
  return bits_float(sign | float_bits(magnitude));
}

uint16_t f32_to_fp16(float f) {
  const uint32_t x = float_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7FFFFFFF;
  if (ax > 0x7F800000) {  // NaN: keep the top payload bits, force quiet
    return static_cast<uint16_t>(sign | 0x7E00 | ((ax >> 13) & 0x3FF));
  }
  if (ax >= 0x477FF000) return static_cast<uint16_t>(sign | 0x7C00);  // >= 65520 (or inf) -> inf
  if (ax >= 0x38800000) {                                            // normal half
    uint32_t h = ((ax >> 23) - 112) << 10 | ((ax >> 13) & 0x3FF);
    const uint32_t rem = ax & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // may carry into the exponent: fine
    return static_cast<uint16_t>(sign | h);
  }
  if (ax <= 0x33000000) return sign;  // <= 2^-25 rounds (ties to even) to zero
  // Subnormal half: value / 2^-24 = mant24 * 2^(e - 126).
  const uint32_t e = ax >> 23;  // 102..112
  const uint32_t mant = (ax & 0x7FFFFF) | 0x800000;
  const uint32_t shift = 126 - e;  // 14..24
  uint32_t h = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (h & 1))) ++h;  // 0x400 = smallest normal is correct
  return static_cast<uint16_t>(sign | h);
}

float bf16_to_f32(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

uint16_t f32_to_bf16(float f) {
  const uint32_t x = float_bits(f);
  if ((x & 0x7FFFFFFF) > 0x7F800000) return static_cast<uint16_t>((x >> 16) | 0x0040);  // quiet NaN
  const uint32_t rounding = 0x7FFF + ((x >> 16) & 1);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n) {
  if (n <= 0) return;
  const auto* s = static_cast<const uint8_t*>(src);
  const int64_t block = type_block_elems(t);
  const int64_t whole = n / block * block;
  switch (t) {
    case GgmlType::F32:
      std::memcpy(dst, s, static_cast<size_t>(n) * sizeof(float));
      break;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(load_u16(s + 2 * i));
      break;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load_u16(s + 2 * i));
      break;
    case GgmlType::Q4_0:
      dequant_q4_0(s, dst, whole / block);
      break;
    case GgmlType::Q4_0_X4:
      dequant_q4_0_x4(s, dst, whole / block);
      break;
    case GgmlType::Q4_1:
      dequant_q4_1(s, dst, whole / block);
      break;
    case GgmlType::Q8_0:
      dequant_q8_0(s, dst, whole / block);
      break;
  }
  for (int64_t i = whole; i < n; ++i) dst[i] = 0.0f;
}

}  // namespace qasr
