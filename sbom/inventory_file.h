// This file implements the interface of the audit inventory file parser: a
// plain text list of model paths and endpoints, one per line, as given to
// `pedigree audit --inventory FILE` (format in docs/audit.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/error.h"

namespace pedigree {

/// Largest inventory file read (bytes).
inline constexpr uint64_t kMaxInventoryBytes = uint64_t{16} << 20;
/// Most entries in one inventory file.
inline constexpr uint64_t kMaxInventoryEntries = 1000000;
/// Longest line (bytes, without the line ending).
inline constexpr uint64_t kMaxInventoryLine = 8192;

/// One line of an inventory: a model path, or an endpoint with a model name.
struct InventoryEntry {
  std::string path;      ///< model file or directory (empty for an endpoint)
  std::string endpoint;  ///< http:// or https:// base URL (empty for a path)
  std::string model;     ///< model name at the endpoint
  uint64_t line = 0;     ///< 1-based line number, for messages
};

/// Parses inventory text named `name` (for messages). Lines: blank or
/// starting with '#' are ignored; "endpoint: URL model: NAME" is an endpoint;
/// "path: PATH" or any other line is a model path (surrounding spaces
/// trimmed). Relative paths are returned as written. Errors read
/// "NAME: line N: what".
bool parse_inventory(std::string_view text, const std::string& name, std::vector<InventoryEntry>* out, Error* err);

/// Reads and parses the inventory file at `path` (size checked first), and
/// resolves relative model paths against the file's directory.
bool read_inventory(const std::string& path, std::vector<InventoryEntry>* out, Error* err);

}  // namespace pedigree
