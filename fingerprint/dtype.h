// This file implements the canonical element types shared by every format
// reader: one name per type (safetensors spelling for plain types, ggml
// spelling for quantized block types) with the block geometry needed to
// turn a shape into a byte count.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace pedigree {

/// Element types across formats. Plain types have block_elems == 1.
enum class DType : uint8_t {
  F64, F32, F16, BF16, F8_E4M3, F8_E5M2, C64, C128,
  I64, I32, I16, I8, U64, U32, U16, U8, I4, U4, BOOL, STRING,
  Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K,
  IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S, IQ4_NL, IQ3_S, IQ2_S, IQ4_XS, IQ1_M,
  TQ1_0, TQ2_0, MXFP4, NVFP4, Q1_0, Q2_0,
};

/// Geometry of a type: `block_bytes` bytes hold `block_elems` elements.
/// STRING has block_bytes == 0 (variable length).
struct DTypeInfo {
  DType type;
  std::string_view name;
  uint32_t block_elems;
  uint32_t block_bytes;
  bool quantized;
};

/// Geometry of `t`.
const DTypeInfo& dtype_info(DType t);
/// Canonical name ("F32", "BF16", "Q4_K").
std::string_view dtype_name(DType t);
/// Parses a canonical name; nullopt when unknown.
std::optional<DType> dtype_from_name(std::string_view name);

/// Byte count of `elems` elements of `t`; nullopt when elems is not a whole
/// number of blocks, the type is variable-length, or the product overflows.
std::optional<uint64_t> dtype_bytes(DType t, uint64_t elems);

/// Product of dims; nullopt on overflow. The empty shape has 1 element.
std::optional<uint64_t> shape_elems(const uint64_t* dims, size_t n);

}  // namespace pedigree
