// This file implements the interface of the CycloneDX BOM validator: bounded
// reading of a BOM (size, nesting depth, malformed JSON), validation against
// the embedded official JSON schema of the document's specVersion (1.4 to 1.7)
// and the checks the schema cannot express (references, hash lengths, model cards).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/error.h"

namespace pedigree {

/// Largest BOM document read (bytes).
inline constexpr uint64_t kMaxBomBytes = uint64_t{64} << 20;
/// Deepest nesting of arrays and objects accepted in a BOM.
inline constexpr uint64_t kMaxBomDepth = 128;
/// Longest string checked against a schema `pattern` or date `format`; the
/// regex engine valijson uses recurses once per character.
inline constexpr uint64_t kMaxPatternStringBytes = 4096;

/// One finding, located by an RFC 6901 JSON pointer ("/components/0/hashes/1/content").
struct BomIssue {
  std::string path;
  std::string message;
};

/// Outcome of validating one parseable BOM.
struct BomValidation {
  std::string spec_version;            ///< "1.6"
  std::vector<BomIssue> schema_errors;   ///< violations of the official JSON schema
  std::vector<BomIssue> errors;          ///< beyond-schema errors (refs, hash lengths, model cards)
  std::vector<BomIssue> warnings;        ///< ML completeness; never make a BOM invalid
  std::vector<std::string> signatures;   ///< pointers of `signature` subtrees left to the signature verifier
  bool valid() const { return schema_errors.empty() && errors.empty(); }
};

/// Parses BOM bytes named `path` (for messages) with the size and depth caps;
/// malformed JSON fails with the byte offset, line and column.
bool parse_bom(std::string_view bytes, const std::string& path, nlohmann::json* doc, Error* err);

/// Reads and parses the file at `path` (size checked before reading).
bool read_bom_file(const std::string& path, nlohmann::json* doc, Error* err);

/// Validates a parsed BOM. Returns false (with `err`) only when it cannot be
/// validated at all: root not an object, specVersion missing or unsupported,
/// a string too long to check. Schema and beyond-schema findings go to `out`.
bool validate_bom(const nlohmann::json& doc, const std::string& path, BomValidation* out, Error* err);

/// The spec versions whose schema is embedded: "1.4" to "1.7".
const std::vector<std::string>& supported_spec_versions();

}  // namespace pedigree
