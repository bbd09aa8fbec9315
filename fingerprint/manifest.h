// This file implements the OpenSSF Model Signing v1.0 manifest: the walk of a
// model directory (or single file), the per-file or per-shard digests computed
// in parallel, and the root digest over the raw resource digests. See
// docs/manifest.md for the exact definition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fingerprint/digest.h"
#include "fingerprint/error.h"

namespace pedigree {

/// How a model is serialized into resources.
enum class SerializationMethod { kFiles, kShards };

/// Options that decide which resources exist and how they are hashed.
struct ManifestOptions {
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  SerializationMethod method = SerializationMethod::kFiles;
  uint64_t shard_size = 1000000000;       ///< bytes per shard (the reference default)
  std::vector<std::string> ignore_paths;  ///< relative to the model root; a directory ignores its subtree
  bool allow_symlinks = false;
  bool ignore_defaults = true;            ///< also ignore .git, .gitattributes, .gitignore, .github
  std::string signature_name = "model.sig";  ///< ignored as well (relative to the root), empty for none
  unsigned jobs = 0;                      ///< worker threads; 0 = all cores
  std::optional<HashAlgorithm> also;      ///< a second digest per resource, computed in the same read
};

/// One hashed file or shard.
struct Resource {
  std::string name;               ///< "dir/file" (files) or "dir/file:start:end" (shards); "." for a single-file model
  std::string path;               ///< filesystem path that was hashed
  uint64_t start = 0, end = 0;    ///< byte range hashed
  std::vector<uint8_t> digest;
  std::vector<uint8_t> also_digest;  ///< with ManifestOptions::also
};

/// The manifest of a model.
struct Manifest {
  std::string model_name;         ///< last path component of the model path (informative)
  ManifestOptions options;
  std::vector<std::string> effective_ignore_paths;  ///< what was ignored, as recorded in a signature
  std::vector<Resource> resources;  ///< sorted by name in code-point order
  uint64_t total_bytes = 0;
};

/// Lists the files of a model (no hashing): sorted resources with empty digests.
bool enumerate_model(const std::string& path, const ManifestOptions& opts, Manifest* out, Error* err);

/// Hashes the resources of a manifest made by enumerate_model() (in parallel,
/// `m->options.jobs` threads). `progress` counts hashed bytes when non-null.
bool hash_manifest(Manifest* m, Error* err, ProgressCounter* progress = nullptr);

/// Enumerates and hashes a model. `progress` counts hashed bytes when non-null.
bool build_manifest(const std::string& path, const ManifestOptions& opts, Manifest* out, Error* err,
                    ProgressCounter* progress = nullptr);

/// SHA-256 over the concatenated raw digests of `resources`, in the given order
/// (the OMS subject digest).
std::vector<uint8_t> manifest_root(const std::vector<Resource>& resources);

/// Sorts resources by name in code-point (byte) order, as OMS v1.0 5.2.1 requires.
void sort_resources(std::vector<Resource>* resources);

}  // namespace pedigree
