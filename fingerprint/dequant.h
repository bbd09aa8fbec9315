// This file implements the decoders of ggml's quantized block types (Q4_0,
// Q4_1, Q5_0, Q5_1, Q8_0, the K-quants Q2_K..Q8_K, IQ4_NL, IQ4_XS) to float32,
// written from the public block layouts. Lineage uses them to compare
// quantized GGUF weights with their float sources.
#pragma once

#include <cstdint>
#include <string_view>

#include "fingerprint/dtype.h"

namespace pedigree {

/// IEEE half to float (exact, including subnormals, inf and NaN).
float half_to_float(uint16_t h);

/// True when dequantize_blocks decodes the block type `t`.
bool dequant_supported(DType t);

/// Decodes `blocks` consecutive blocks of type `t` from `p` (which must hold
/// blocks * dtype_info(t).block_bytes bytes) into blocks * block_elems floats
/// at `out`. False, with nothing written, when `t` is not supported.
bool dequantize_blocks(DType t, const uint8_t* p, uint64_t blocks, float* out);

/// The supported block types, comma-separated, for error messages.
std::string_view dequant_type_list();

}  // namespace pedigree
