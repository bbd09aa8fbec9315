// This file implements the AI-BOM completeness score: eight field groups
// (identity, integrity, provenance, model parameters, datasets,
// considerations, licences, signatures), each with weighted checks, a score
// out of 100 and the list of what is missing. Defined in docs/bom-score.md.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pedigree {

/// One field (or condition) the score looks for.
struct ScoreCheck {
  std::string field;   ///< e.g. "model.version", "model.modelCard.modelParameters.task"
  double weight = 0;   ///< share of its group
  bool present = false;
};

/// One field group.
struct ScoreGroup {
  std::string id;      ///< "identity", "integrity", ...
  double weight = 0;   ///< points of 100 the group is worth
  double points = 0;   ///< weight * (present check weight / all check weight)
  std::vector<ScoreCheck> checks;
};

/// The score of one BOM.
struct BomScore {
  double total = 0;          ///< 0..100, rounded to one decimal
  std::string model_name;    ///< name of the model component ("" when none)
  std::string model_where;   ///< where it was found, e.g. "metadata.component"
  std::vector<ScoreGroup> groups;
};

/// Scores a parsed CycloneDX BOM (any shape; wrong types count as missing).
BomScore score_bom(const nlohmann::json& bom);

/// The score as JSON: total, model, groups with points, present and missing.
nlohmann::json score_json(const BomScore& s);

}  // namespace pedigree
