// This file declares the scan pipeline shared by `scan`, `check` and `audit`:
// everything Pedigree can learn about one model (or endpoint) gathered into
// plain data, without printing. The commands decide how to show it and which
// exit code it means.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/digest.h"
#include "fingerprint/artifact.h"
#include "fingerprint/error.h"

namespace pedigree::cli {

/// What to scan and which optional evidence to gather.
struct ScanRequest {
  std::string path;                  ///< model file or directory (empty with `endpoint`)
  std::string endpoint;              ///< OpenAI-compatible base URL (empty with `path`)
  std::vector<std::string> packs;    ///< probe packs (built-in names or files)
  std::string signature;             ///< signature bundle; empty: look beside the model
  std::string registry;              ///< lineage registry; empty: the default one when it exists
  unsigned jobs = 0;                 ///< hashing threads (0: all cores)
  /// Called once the number of bytes to hash is known; returns the counter to
  /// advance (or nullptr). Lets the caller draw progress without knowing the model.
  std::function<ProgressCounter*(uint64_t total_bytes)> start_progress;
};

/// One piece of evidence and what it says.
struct ScanCheck {
  std::string name;      ///< "reader", "signature", "lineage", "probe:identity", ...
  std::string status;    ///< "pass", "flagged", "not-evaluated"
  std::string detail;    ///< one line: what was found or why it was not evaluated
  std::string evidence;  ///< where to look: a file written, or the command that shows it
};

/// Everything a scan learned.
struct ScanOutcome {
  std::string subject;               ///< the path or endpoint as given
  std::string format;                ///< detected format ("gguf", "safetensors", ...); empty for endpoints
  bool flagged = false;              ///< any check flagged
  std::vector<ScanCheck> checks;     ///< in a fixed order
  std::vector<Finding> findings;     ///< the reader's findings
  /// Summary lines for the one-screen view: {label, value}, in order.
  std::vector<std::pair<std::string, std::string>> summary;
  nlohmann::json report;             ///< the machine-readable report (`scan --json`)
  nlohmann::json bom;                ///< the AI-BOM with every result as properties (null when none)
};

/// Scans one model or endpoint. Returns false (with `err`) only when the scan
/// could not run (unreadable or malformed input); flagged findings are data.
bool scan_model(const ScanRequest& req, ScanOutcome* out, Error* err);

}  // namespace pedigree::cli
