// This file implements the error type every library function reports through:
// a path, an optional byte offset and a lowercase message, rendered as
// "model.gguf: offset 0x18: tensor count 2^40 exceeds file size 4.1 GiB".
// Library code never prints; only cli/ renders errors for the user.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pedigree {

/// Where and what went wrong; `offset` is a byte offset into `path` when known.
struct Error {
  std::string path;
  std::optional<uint64_t> offset;
  std::string message;

  /// "path: offset 0xNN: message" (parts that are empty are left out).
  std::string str() const;
};

/// Fills `err` (when non-null) and returns false, so readers can write
/// `return fail(err, path, off, "...")`.
bool fail(Error* err, const std::string& path, std::optional<uint64_t> offset,
          std::string message);

/// Human-readable size: "512 B", "4.0 KiB", "4.1 GiB".
std::string human_bytes(uint64_t n);

/// Size as a power of two when it is one and large ("2^40"), else decimal.
std::string count_str(uint64_t n);

/// "0x1f" style offset.
std::string hex_offset(uint64_t off);

/// `s` for an error message: control bytes and DEL (and, when `ascii_only`,
/// bytes >= 0x80) as \xNN, cut with "..." after `max_bytes` bytes.
std::string escape_bytes(std::string_view s, bool ascii_only = true, size_t max_bytes = SIZE_MAX);

}  // namespace pedigree
