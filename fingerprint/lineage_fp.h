// This file implements the compact stored lineage fingerprint: a per-model
// summary (token-embedding rows, sampled Q/K rows and sampled MLP neurons, all
// int8 with one scale per row) from which `compare_fingerprints` computes the
// lineage scores, its binary format and its parser (untrusted input).
// The design and the estimator's measured error are in docs/lineage.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/artifact.h"
#include "fingerprint/error.h"
#include "fingerprint/lineage.h"
#include "fingerprint/lineage_math.h"

namespace pedigree {

inline constexpr uint32_t kLineageFpVersion = 2;          ///< binary format version written (1 is read too)
inline constexpr uint64_t kMaxLineageFpBytes = uint64_t{64} << 20;  ///< largest fingerprint parsed
inline constexpr uint64_t kLineageFpBudget = uint64_t{8} << 20;     ///< the size the default plan stays under

/// How many rows a fingerprint keeps (docs/lineage.md, "Stored fingerprints").
struct FpPlan {
  uint64_t embed_rows = 0;  ///< token-embedding rows (ids i * vocab / n)
  uint64_t qk_rows = 0;     ///< rows kept of Q and of K (HF row order, i * out / r)
  uint64_t neurons = 0;     ///< MLP neurons kept (gate and up rows, i * ffn / m)
};

/// The default plan for a hidden size: about 1 MiB of embedding rows, 48 KiB
/// per role per layer, at least 64 / 8 / 8 rows, at most 8192 embedding rows;
/// counts larger than the tensor keep the whole tensor.
FpPlan default_fp_plan(uint64_t hidden);

/// Rows of a matrix stored as int8 with one float scale per row (x = scale * q).
struct Int8Rows {
  uint64_t rows = 0, cols = 0;
  std::vector<float> scale;
  std::vector<int8_t> q;
};

/// One decoder layer of a fingerprint.
struct FpLayer {
  uint64_t q_out = 0, k_out = 0;  ///< full output sizes of Q and K
  uint64_t ffn = 0;               ///< MLP width (0: no up)
  bool gated = false;             ///< the MLP has a gate (false: GPT-2's c_fc / c_proj)
  Int8Rows q, k;                  ///< sampled Q and K rows, hidden units as columns
  Int8Rows gate, up;              ///< sampled neurons' gate (when gated) and up rows
};

/// A stored lineage fingerprint.
struct LineageFp {
  uint32_t version = kLineageFpVersion;  ///< the binary version it was read in (and is written in)
  std::string arch = "llama";            ///< architecture (v1 fingerprints: llama)
  bool arch_declared = false;            ///< declared by the model (else inferred from tensor names)
  uint64_t vocab = 0, hidden = 0;
  Int8Rows embed;  ///< sampled token-embedding rows
  std::vector<FpLayer> layers;
};

/// Quantizes a float matrix to int8 rows (symmetric, scale = max|x| / 127).
Int8Rows quantize_rows(const Matrix& m);

/// The float matrix of int8 rows.
Matrix dequantize_rows(const Int8Rows& r);

/// Builds the fingerprint of a decoder model (lineage_arch.h), reading only the sampled
/// rows (raw layouts) or streaming one tensor at a time. A plan of zeros
/// (`FpPlan{}`) means default_fp_plan(hidden size of the model).
bool build_lineage_fp(const ModelArtifact& art, const TensorIndex& idx, const FpPlan& plan, LineageFp* out,
                      Error* err);

/// The binary form (docs/lineage.md): magic "PDGLNFP\0", version, counts,
/// architecture (v2), rows; written in fp.version.
std::string serialize_lineage_fp(const LineageFp& fp);

/// Parses the binary form; every count is checked against the remaining
/// bytes and the caps first. `where` names the input in errors.
bool parse_lineage_fp(std::string_view bytes, const std::string& where, LineageFp* out, Error* err);

/// Whether the file at `path` starts with the fingerprint magic (false for
/// directories and unreadable files): how `pedigree lineage` tells a stored
/// fingerprint from a model, whatever its name.
bool is_lineage_fp_file(const std::string& path);

/// Reads and parses the fingerprint file at `path` (errors name the file,
/// the byte offset and the field).
bool read_lineage_fp_file(const std::string& path, LineageFp* out, Error* err);

/// Empty when the two fingerprints can be compared, else why not
/// (e.g. "vocabulary sizes differ: 32000 vs 32001 tokens").
std::string fp_incompatibility(const LineageFp& a, const LineageFp& b);

/// Lineage scores of B against A from their fingerprints (no HuRef column).
/// `name_a` / `name_b` label the models in errors.
bool compare_fingerprints(const LineageFp& a, const LineageFp& b, const std::string& name_a,
                          const std::string& name_b, LineageReport* out, Error* err);

}  // namespace pedigree
