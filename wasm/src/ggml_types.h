// Tensor element types of the GGMM container and their block layouts
// (research/chatllm-qwen3-asr.md §1.8). Pure data description: no model knowledge.
#pragma once
#include <cstddef>
#include <cstdint>

namespace qasr {

enum class GgmlType : int32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q8_0 = 8,
  BF16 = 30,
  // Not a file type (type_is_known refuses it): q4_0 rearranged in memory by the loader for the
  // WASM kernels (kernels.h pack_q4_0_x4), in groups of 4 blocks (72 bytes, as 4 q4_0 blocks): the
  // 4 fp16 scales, then 4 × 16 code bytes where vector j holds bytes 4j..4j+3 of each block's 16
  // code bytes, block l in bytes 4l..4l+3 (the kernels' 4 × 4 word transpose, done once). Rows
  // hold a multiple of 128 elements.
  Q4_0_X4 = 1000,
};

constexpr int kQuantBlock = 32;  // elements per q4_0 / q4_1 / q8_0 block

#pragma pack(push, 1)
struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };          // 18 bytes
struct BlockQ4_1 { uint16_t d; uint16_t m; uint8_t qs[16]; }; // 20 bytes
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };           // 34 bytes
#pragma pack(pop)
static_assert(sizeof(BlockQ4_0) == 18, "q4_0 block");
static_assert(sizeof(BlockQ4_1) == 20, "q4_1 block");
static_assert(sizeof(BlockQ8_0) == 34, "q8_0 block");

// Q4_0_X4: bytes per group, and the offset inside a group of code byte m (0..15) of block l (0..3);
// the scale of block l is at 2·l.
constexpr size_t kQ4_0X4GroupBytes = 4 * sizeof(BlockQ4_0);
constexpr size_t q4_0_x4_code_offset(int l, int m) { return 8 + 16 * (m >> 2) + 4 * l + (m & 3); }

// True for the types this engine can read.
bool type_is_known(int32_t raw);
const char* type_name(GgmlType t);
// Elements per block (1 for float types) and bytes per block.
int type_block_elems(GgmlType t);
int type_block_bytes(GgmlType t);
// Bytes of one row of n elements; n must be a multiple of the block size.
size_t row_bytes(GgmlType t, int64_t n);

// IEEE half / bfloat16 conversions (round to nearest even on the way down).
float fp16_to_f32(uint16_t h);
uint16_t f32_to_fp16(float f);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);  // round to nearest even; NaN stays a (quiet) NaN

// Dequantise one row of n elements of type t into dst (reference, scalar). For block types,
// n should be a multiple of 32; a trailing partial block (no data) is written as zeros.
void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n);

}  // namespace qasr
