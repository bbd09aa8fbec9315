// This file implements the decoders of every ggml quantized block type the
// GGUF reader knows (Q4_0..Q8_1, the K-quants Q2_K..Q8_K, the lattice types
// IQ1_S..IQ3_S, IQ4_NL, IQ4_XS, TQ1_0, TQ2_0, MXFP4, NVFP4, Q1_0, Q2_0) to
// float32, written from the public block layouts (codebooks: dequant_grids.h).
// Lineage uses them to compare quantized GGUF weights with their float sources.
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
