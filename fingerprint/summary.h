// This file implements model totals computed from a TensorIndex: parameter
// count, bytes, and per-dtype counts, used by `inspect`, `scan` and the AI-BOM.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "fingerprint/artifact.h"

namespace pedigree {

/// Totals for one dtype.
struct DTypeTotals {
  uint64_t tensors = 0;
  uint64_t elements = 0;
  uint64_t bytes = 0;
};

/// Totals for a model.
struct ModelTotals {
  uint64_t tensors = 0;
  uint64_t parameters = 0;  ///< sum of element counts
  uint64_t bytes = 0;       ///< sum of canonical byte lengths
  std::map<std::string, DTypeTotals> by_dtype;  ///< keyed by canonical dtype name
};

/// Sums over every tensor (saturating, never overflowing).
ModelTotals summarize(const TensorIndex& idx);

/// True when any finding has severity "error" (the model is flagged).
bool has_error_findings(const ModelArtifact& art);

}  // namespace pedigree
