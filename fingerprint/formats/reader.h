// This file implements the one interface every format reader sits behind, and
// the registry that detects a file's format by its magic bytes (the file
// extension only breaks ties) and dispatches to the matching reader.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/artifact.h"
#include "fingerprint/error.h"
#include "fingerprint/mapped_file.h"

namespace pedigree {

/// How sure a reader is that bytes are its format.
enum class Confidence : int { kNo = 0, kHint = 1, kMagic = 2 };

/// A reader for one model file format.
class FormatReader {
 public:
  virtual ~FormatReader() = default;
  /// Short stable name: "gguf", "safetensors", "onnx", "pytorch", "npy", ...
  virtual std::string_view name() const = 0;
  /// Looks at the first bytes of a file (at least 64 when the file has them)
  /// and its path; kMagic when the magic bytes match, kHint when only the
  /// extension does.
  virtual Confidence probe(std::string_view head, std::string_view path) const = 0;
  /// Parses `file` and appends to `art` and `idx`. The reader adds `file` to
  /// art->files itself (plus any sibling files it reads, such as ONNX
  /// external data or safetensors shards) and sets TensorInfo::file to those
  /// indices. Returns false with `err` set on malformed input; never throws.
  virtual bool read(const MappedFile& file, ModelArtifact* art, TensorIndex* idx,
                    Error* err) const = 0;
};

/// Every built-in reader, in probe order.
const std::vector<const FormatReader*>& all_readers();

/// The reader whose probe is most confident for `head`/`path`; nullptr if none.
const FormatReader* detect_reader(std::string_view head, std::string_view path);

/// Opens a file or directory, detects its format and reads it. Directories are
/// read as a Hugging Face style model directory.
bool read_model(const std::string& path, ModelArtifact* art, TensorIndex* idx, Error* err);

/// Adds `file` to art->files (name relative to the model root) and returns its index.
uint32_t add_artifact_file(ModelArtifact* art, const MappedFile& file, std::string_view format);

}  // namespace pedigree
