// This file implements `bom diff`: what changed between two CycloneDX BOMs
// that procurement must see — the described model's identity, hashes,
// licences, external references, model-card fields, pedigree and properties,
// and components added, removed or changed. Defined in docs/bom.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pedigree {

/// One field that differs; `before` absent = added, `after` absent = removed.
struct FieldChange {
  std::string field;  ///< "version", "hashes/SHA-256", "licenses", "modelCard/modelParameters/task", ...
  std::optional<std::string> before, after;
};

/// A component present in both BOMs whose fields differ.
struct ComponentChange {
  std::string key;  ///< "type:group/name" (see docs/bom.md)
  std::vector<FieldChange> changes;
};

/// Differences between BOM A (before) and BOM B (after).
struct BomDiff {
  std::string model_before, model_after;  ///< names of the described models
  std::vector<FieldChange> model;         ///< changes of the described model (and specVersion)
  std::vector<std::string> added, removed;
  std::vector<ComponentChange> changed;
  /// True when nothing differs.
  bool equal() const { return model.empty() && added.empty() && removed.empty() && changed.empty(); }
};

/// Compares two parsed BOMs (any shape; wrong types are compared as text).
BomDiff diff_boms(const nlohmann::json& a, const nlohmann::json& b);

/// The diff as JSON (sorted, stable).
nlohmann::json diff_json(const BomDiff& d);

/// The fields of a component as the diff compares them (exposed for tests).
std::vector<std::pair<std::string, std::string>> component_fields(const nlohmann::json& c);

}  // namespace pedigree
