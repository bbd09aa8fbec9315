// This file implements what lineage comparison needs from a model file:
// converting a tensor's canonical bytes to float32 (F64/F32/F16/BF16/F8 and
// the GGUF Q8_0/Q4_0 blocks) and mapping llama-style tensor names (Hugging
// Face and llama.cpp schemes) to roles, undoing llama.cpp's Q/K row order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/artifact.h"
#include "fingerprint/error.h"
#include "fingerprint/lineage_math.h"

namespace pedigree {

/// Largest tensor (canonical bytes) lineage loads into memory.
inline constexpr uint64_t kMaxLineageTensorBytes = uint64_t{8} << 30;

/// Converts `n` elements of `dtype` stored canonically in `bytes` to float;
/// false when the type is not supported (quantized types other than Q8_0/Q4_0,
/// integers...). `bytes` must hold dtype_bytes(dtype, n) bytes.
bool to_float(DType dtype, const uint8_t* bytes, uint64_t n, float* out);

/// IEEE half to float.
float half_to_float(uint16_t h);

/// Loads a tensor of rank 2 as a rows x cols float matrix (shape outermost-first).
bool load_matrix(const ModelArtifact& art, const TensorInfo& t, Matrix* out, Error* err);

/// Loads rows `ids` (each < rows) of a rank-2 tensor as an ids.size() x cols
/// float matrix. Raw (mmapped) layouts read only those rows; other layouts
/// stream the whole tensor once. Fails on non-finite values.
bool load_rows(const ModelArtifact& art, const TensorInfo& t, const std::vector<uint64_t>& ids, Matrix* out,
               Error* err);

/// The tensors of one llama decoder layer (nullptr when absent).
struct LlamaLayer {
  const TensorInfo* q = nullptr;
  const TensorInfo* k = nullptr;
  const TensorInfo* v = nullptr;
  const TensorInfo* o = nullptr;
  const TensorInfo* gate = nullptr;
  const TensorInfo* up = nullptr;
  const TensorInfo* down = nullptr;
};

/// A llama-style model's tensors by role.
struct LlamaModel {
  std::string scheme;                 ///< "hf" or "gguf"
  const TensorInfo* embed = nullptr;  ///< [vocab, hidden]
  std::vector<LlamaLayer> layers;
  uint64_t vocab = 0;
  uint64_t hidden = 0;
  uint64_t n_head = 0;     ///< GGUF only: llama.attention.head_count
  uint64_t n_head_kv = 0;  ///< GGUF only: llama.attention.head_count_kv (defaults to n_head)
};

/// Maps `idx` to roles. Fails with the reason (the model's path in err.path)
/// for unsupported architectures, missing or malformed embeddings and
/// layers without Q/K.
bool map_llama(const ModelArtifact& art, const TensorIndex& idx, LlamaModel* out, Error* err);

/// Loads Q or K of a layer in Hugging Face row order (undoing llama.cpp's
/// interleaved rope permutation for GGUF, with `heads` heads).
bool load_qk(const ModelArtifact& art, const LlamaModel& m, const TensorInfo& t, uint64_t heads, Matrix* out,
             Error* err);

/// Undoes llama.cpp's Q/K row permutation in place (rows % (2*heads) == 0).
void unpermute_qk_rows(Matrix* m, uint64_t heads);

/// Applies llama.cpp's Q/K row permutation (the inverse of unpermute_qk_rows).
void permute_qk_rows(Matrix* m, uint64_t heads);

}  // namespace pedigree
