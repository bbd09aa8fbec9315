// This file implements the plain data types that flow through Pedigree:
// ModelArtifact (what was read: format, files, metadata, findings) and
// TensorIndex (every tensor: name, dtype, shape and where its bytes live).
// Readers fill them; hashing, the AI-BOM and lineage only consume them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/dtype.h"

namespace pedigree {

/// One file that belongs to the model.
struct ArtifactFile {
  std::string path;    ///< path as opened (absolute or relative to cwd)
  std::string name;    ///< name relative to the model root, '/'-separated; "." for a single-file model
  uint64_t size = 0;
  std::string format;  ///< reader that claimed it ("gguf", "config", ...), empty if unparsed
};

/// Something a reader noticed that a user should see (not a parse error).
struct Finding {
  std::string id;        ///< stable kebab-case id, e.g. "unsafe-import"
  std::string severity;  ///< "info", "warning" or "error"
  std::string path;
  std::optional<uint64_t> offset;
  std::string message;
};

/// How a tensor's bytes are stored; the tensor hasher turns every layout into
/// the canonical little-endian, C-contiguous byte stream.
enum class TensorLayout : uint8_t {
  kRaw,        ///< `length` bytes at `offset` of `file`, canonical as stored
  kByteSwap,   ///< like kRaw, but every element is big-endian (numpy '>f4')
  kStrided,    ///< a PyTorch view: elements at storage_offset + sum(i*stride) of the storage at `offset`
  kInline,     ///< canonical bytes already materialized in `inline_data` (ONNX typed fields)
  kZipEntry,   ///< bytes start at `entry_offset` of compressed zip member `zip_entry` of `file`
};

/// One tensor of the model.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<uint64_t> shape;  ///< outermost-first
  TensorLayout layout = TensorLayout::kRaw;
  uint32_t file = 0;            ///< index into ModelArtifact::files
  uint64_t offset = 0;          ///< absolute byte offset in the file (storage start for kStrided)
  uint64_t length = 0;          ///< canonical byte length (elements * element size)
  // kStrided (PyTorch):
  std::string storage;              ///< storage key, e.g. "archive/data/0"
  uint64_t storage_offset = 0;      ///< in elements
  std::vector<int64_t> strides;     ///< in elements, outermost-first
  uint64_t storage_bytes = 0;       ///< bytes available in the storage
  // kInline:
  std::shared_ptr<const std::string> inline_data;
  // kZipEntry:
  std::string zip_entry;
  uint64_t entry_offset = 0;
};

/// Every tensor of a model, in the order the files declare them.
struct TensorIndex {
  std::vector<TensorInfo> tensors;
};

/// What a reader learned about the model as a whole.
struct ModelArtifact {
  std::string root;                  ///< the path the user gave
  std::string format;                ///< "safetensors", "gguf", "onnx", "pytorch", "pickle", "npy", "npz", "hf-directory"
  std::vector<ArtifactFile> files;   ///< every file read, weight files first
  nlohmann::json metadata = nlohmann::json::object();  ///< format metadata, JSON-shaped
  std::vector<Finding> findings;
};

}  // namespace pedigree
