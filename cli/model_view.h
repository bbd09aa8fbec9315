// This file implements the rendering of a read model for people (text) and
// machines (JSON): format, files, metadata, tensor table, totals, findings.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "fingerprint/artifact.h"
#include "fingerprint/summary.h"

namespace pedigree::cli {

/// Machine-readable description of a model (the `inspect --json` document).
nlohmann::json model_json(const ModelArtifact& art, const TensorIndex& idx, bool with_tensors);

/// Findings as a JSON array.
nlohmann::json findings_json(const ModelArtifact& art);

/// Human-readable description; `max_tensors` rows of the tensor table (0 = all).
std::string model_text(const ModelArtifact& art, const TensorIndex& idx, size_t max_tensors);

/// One line per finding, "  error  unsafe-import  path: offset 0x10: message".
std::string findings_text(const ModelArtifact& art);
std::string findings_text(const std::vector<Finding>& findings);

/// "F32 12 tensors 1.0 MiB, F16 ..." sorted by bytes.
std::string dtype_summary(const ModelTotals& t);

}  // namespace pedigree::cli
