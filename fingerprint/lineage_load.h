// This file implements what lineage comparison needs from a model file:
// converting a tensor's canonical bytes to float32 (F64/F32/F16/BF16/F8 and
// the GGUF block types of fingerprint/dequant.h), reading a role's matrix (a slice of a fused
// tensor, or a transposed Conv1D weight) and undoing llama.cpp's Q/K row order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/artifact.h"
#include "fingerprint/dequant.h"
#include "fingerprint/error.h"
#include "fingerprint/lineage_math.h"

namespace pedigree {

/// Largest tensor (canonical bytes) lineage loads into memory.
inline constexpr uint64_t kMaxLineageTensorBytes = uint64_t{8} << 30;

/// Converts `n` elements of `dtype` stored canonically in `bytes` to float;
/// false when the type is not supported (integers, booleans, strings, complex)
/// or `n` is not a whole number of blocks. `bytes` must hold dtype_bytes(dtype, n) bytes.
bool to_float(DType dtype, const uint8_t* bytes, uint64_t n, float* out);

/// Loads a tensor of rank 2 as a rows x cols float matrix (shape outermost-first).
bool load_matrix(const ModelArtifact& art, const TensorInfo& t, Matrix* out, Error* err);

/// Loads rows `ids` (each < rows) of a rank-2 tensor as an ids.size() x cols
/// float matrix. Raw (mmapped) layouts read only those rows; other layouts
/// stream the whole tensor once. Fails on non-finite values.
bool load_rows(const ModelArtifact& art, const TensorInfo& t, const std::vector<uint64_t>& ids, Matrix* out,
               Error* err);

/// The matrix one lineage role reads: rows [row0, row0 + rows) of a stored
/// rank-2 tensor, or of its transpose when `transposed` (Hugging Face GPT-2
/// Conv1D weights are stored [in, out]). Fused tensors (GPT-2 and Phi-3 QKV,
/// Phi-3 gate_up) give one slice per role.
struct RoleMatrix {
  const TensorInfo* t = nullptr;
  uint64_t row0 = 0, rows = 0, cols = 0;
  bool transposed = false;
  explicit operator bool() const { return t != nullptr; }
};

/// The role's name in errors: "name", "name rows 32..47" for a slice, with
/// " (transposed)" for a Conv1D weight.
std::string role_name(const RoleMatrix& r);

/// Loads the role's rows x cols matrix. Fails on non-finite values.
bool load_role(const ModelArtifact& art, const RoleMatrix& r, Matrix* out, Error* err);

/// Loads rows `ids` (each < r.rows) of the role as an ids.size() x cols matrix;
/// untransposed raw layouts read only those rows.
bool load_role_rows(const ModelArtifact& art, const RoleMatrix& r, const std::vector<uint64_t>& ids, Matrix* out,
                    Error* err);

/// Loads Q or K in Hugging Face row order (undoing llama.cpp's interleaved
/// rope permutation, with `heads` heads, when `interleaved`).
bool load_qk(const ModelArtifact& art, const RoleMatrix& r, bool interleaved, uint64_t heads, Matrix* out,
             Error* err);

/// Undoes llama.cpp's Q/K row permutation in place (rows % (2*heads) == 0).
void unpermute_qk_rows(Matrix* m, uint64_t heads);

/// Applies llama.cpp's Q/K row permutation (the inverse of unpermute_qk_rows).
void permute_qk_rows(Matrix* m, uint64_t heads);

}  // namespace pedigree
