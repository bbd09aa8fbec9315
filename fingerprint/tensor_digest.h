// This file implements format-independent tensor digests: SHA-256 of each
// tensor's canonical bytes (little-endian, C-contiguous, outermost-first),
// a named root over sorted (name, dtype, shape, digest) records and a content
// root over sorted (dtype, shape, digest) records. Defined in docs/tensor-digests.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/artifact.h"
#include "fingerprint/digest.h"
#include "fingerprint/error.h"

namespace pedigree {

/// The digest of one tensor.
struct TensorDigest {
  std::string name;
  DType dtype = DType::F32;
  std::vector<uint64_t> shape;
  uint64_t bytes = 0;
  std::array<uint8_t, 32> sha256{};
};

/// Digests of every tensor plus the two roots.
struct TensorFingerprint {
  std::vector<TensorDigest> tensors;  ///< in TensorIndex order
  std::array<uint8_t, 32> named_root{};
  std::array<uint8_t, 32> content_root{};
};

/// Streams the canonical bytes of `t` to `sink(const uint8_t*, size_t)`.
bool stream_canonical_bytes(const ModelArtifact& art, const TensorInfo& t,
                            const std::function<void(const uint8_t*, size_t)>& sink, Error* err);

/// Hashes every tensor (in parallel, `jobs` threads, 0 = all cores) and computes the roots.
bool compute_tensor_fingerprint(const ModelArtifact& art, const TensorIndex& idx, TensorFingerprint* out,
                                Error* err, unsigned jobs = 0, ProgressCounter* progress = nullptr);

/// The record bytes that enter the roots (exposed for tests and docs).
std::string tensor_record(const TensorDigest& d, bool with_name);

/// Computes the two roots from digests (any order in, sorted inside).
void compute_roots(TensorFingerprint* fp);

}  // namespace pedigree
