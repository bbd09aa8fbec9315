// This file implements the dtype table: names and block geometry. Quantized
// block sizes follow ggml's type traits (block of 32 or 256 elements).
#include "fingerprint/dtype.h"

#include <array>

namespace pedigree {
namespace {

constexpr std::array<DTypeInfo, 47> kTable = {{
    {DType::F64, "F64", 1, 8, false},       {DType::F32, "F32", 1, 4, false},
    {DType::F16, "F16", 1, 2, false},       {DType::BF16, "BF16", 1, 2, false},
    {DType::F8_E4M3, "F8_E4M3", 1, 1, false}, {DType::F8_E5M2, "F8_E5M2", 1, 1, false},
    {DType::C64, "C64", 1, 8, false},       {DType::C128, "C128", 1, 16, false},
    {DType::I64, "I64", 1, 8, false},       {DType::I32, "I32", 1, 4, false},
    {DType::I16, "I16", 1, 2, false},       {DType::I8, "I8", 1, 1, false},
    {DType::U64, "U64", 1, 8, false},       {DType::U32, "U32", 1, 4, false},
    {DType::U16, "U16", 1, 2, false},       {DType::U8, "U8", 1, 1, false},
    {DType::I4, "I4", 2, 1, false},         {DType::U4, "U4", 2, 1, false},
    {DType::BOOL, "BOOL", 1, 1, false},     {DType::STRING, "STRING", 1, 0, false},
    {DType::Q4_0, "Q4_0", 32, 18, true},    {DType::Q4_1, "Q4_1", 32, 20, true},
    {DType::Q5_0, "Q5_0", 32, 22, true},    {DType::Q5_1, "Q5_1", 32, 24, true},
    {DType::Q8_0, "Q8_0", 32, 34, true},    {DType::Q8_1, "Q8_1", 32, 36, true},
    {DType::Q2_K, "Q2_K", 256, 84, true},   {DType::Q3_K, "Q3_K", 256, 110, true},
    {DType::Q4_K, "Q4_K", 256, 144, true},  {DType::Q5_K, "Q5_K", 256, 176, true},
    {DType::Q6_K, "Q6_K", 256, 210, true},  {DType::Q8_K, "Q8_K", 256, 292, true},
    {DType::IQ2_XXS, "IQ2_XXS", 256, 66, true}, {DType::IQ2_XS, "IQ2_XS", 256, 74, true},
    {DType::IQ3_XXS, "IQ3_XXS", 256, 98, true}, {DType::IQ1_S, "IQ1_S", 256, 50, true},
    {DType::IQ4_NL, "IQ4_NL", 32, 18, true},  {DType::IQ3_S, "IQ3_S", 256, 110, true},
    {DType::IQ2_S, "IQ2_S", 256, 82, true},   {DType::IQ4_XS, "IQ4_XS", 256, 136, true},
    {DType::IQ1_M, "IQ1_M", 256, 56, true},   {DType::TQ1_0, "TQ1_0", 256, 54, true},
    {DType::TQ2_0, "TQ2_0", 256, 66, true},   {DType::MXFP4, "MXFP4", 32, 17, true},
    {DType::NVFP4, "NVFP4", 64, 36, true},    {DType::Q1_0, "Q1_0", 128, 18, true},
    {DType::Q2_0, "Q2_0", 64, 18, true},
}};

}  // namespace

const DTypeInfo& dtype_info(DType t) { return kTable[static_cast<size_t>(t)]; }

std::string_view dtype_name(DType t) { return dtype_info(t).name; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& d : kTable)
    if (d.name == name) return d.type;
  return std::nullopt;
}

std::optional<uint64_t> dtype_bytes(DType t, uint64_t elems) {
  const DTypeInfo& d = dtype_info(t);
  if (d.block_bytes == 0 || elems % d.block_elems != 0) return std::nullopt;
  uint64_t blocks = elems / d.block_elems;
  uint64_t out = 0;
  if (__builtin_mul_overflow(blocks, uint64_t{d.block_bytes}, &out)) return std::nullopt;
  return out;
}

std::optional<uint64_t> shape_elems(const uint64_t* dims, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (dims[i] == 0) return 0;  // an empty tensor, whatever its other extents
  uint64_t p = 1;
  for (size_t i = 0; i < n; ++i)
    if (__builtin_mul_overflow(p, dims[i], &p)) return std::nullopt;
  return p;
}

}  // namespace pedigree
