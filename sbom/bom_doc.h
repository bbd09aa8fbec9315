// This file implements reading an existing CycloneDX document for `bom score`
// and `bom diff`: a size- and depth-bounded JSON parse with exact error
// positions, the few structural checks both need, and finding the model the
// BOM describes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/error.h"

namespace pedigree {

/// Deepest component nesting walked in a BOM.
constexpr int kMaxComponentDepth = 64;

/// Parses `text` with parse_bom() (bounded size and depth, exact positions)
/// and checks it is a CycloneDX BOM with the structure score and diff need.
bool parse_bom_document(std::string_view text, const std::string& path, nlohmann::json* out, Error* err);

/// Reads the file at `path` and parses it with parse_bom_document().
bool read_bom_document(const std::string& path, nlohmann::json* out, Error* err);

/// The machine-learning-model the BOM describes: metadata.component when it
/// is one, else the first such component in `components` (depth-first).
/// Sets `where` to a JSON-path-like location; nullptr when there is none.
const nlohmann::json* bom_model(const nlohmann::json& bom, std::string* where);

/// Every component of the BOM (metadata.component, components, and their
/// nested components, depth-first, at most kMaxComponentDepth levels).
std::vector<const nlohmann::json*> bom_components(const nlohmann::json& bom);

/// The string at `key` of object `o`, or "" when absent or not a string.
std::string json_str(const nlohmann::json* o, const char* key);

/// The array at `key` of object `o`, or nullptr.
const nlohmann::json* json_array(const nlohmann::json* o, const char* key);

/// The object at `key` of object `o`, or nullptr.
const nlohmann::json* json_object(const nlohmann::json* o, const char* key);

}  // namespace pedigree
