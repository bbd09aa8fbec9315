// This file implements the interface of model discovery for `pedigree audit`:
// walking a directory tree and naming every model in it, by the rule in
// docs/audit.md (a directory with a model config and weights is one model;
// every other weight file is one model on its own).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/error.h"

namespace pedigree {

/// Deepest directory nesting walked below a root.
inline constexpr uint64_t kMaxDiscoverDepth = 64;
/// Most models one walk returns.
inline constexpr uint64_t kMaxDiscoveredModels = 1000000;

/// One model found by the walk.
struct DiscoveredModel {
  std::string path;  ///< root joined with the relative path ("fleet/a/model.gguf"); the root itself for a model root
  bool directory = false;  ///< a model directory (config plus weights) rather than a single file
};

/// Whether the file at `path` is a model file: a reader recognizes its magic
/// bytes, or its name ends in a model extension (.gguf, .safetensors, .onnx,
/// .pt, .pth, .npz, .npy, .pkl, .pickle).
bool is_model_file(const std::string& path);

/// Whether `dir` is one model: it holds config.json, adapter_config.json or
/// model.safetensors.index.json and at least one model file directly in it.
bool is_model_directory(const std::string& dir);

/// Walks `root` (a directory or a single file) and appends every model in it,
/// in bytewise path order. Names starting with '.' are skipped; symbolic links
/// to directories are never followed; a symbolic link to a file counts only
/// when its target lies inside `root`. Fails when `root` cannot be read, the
/// nesting exceeds kMaxDiscoverDepth or the count exceeds kMaxDiscoveredModels.
bool discover_models(const std::string& root, std::vector<DiscoveredModel>* out, Error* err);

}  // namespace pedigree
