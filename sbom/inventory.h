// This file implements the interface of the audit inventory: one row per
// audited model or endpoint, rendered as a JSON report, an RFC 4180 CSV file,
// one self-contained HTML page (table, filters, charts; no network needed) and
// a CycloneDX BOM of the whole fleet. Every output is sorted and deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/error.h"

namespace pedigree {

/// One reader finding of a model.
struct InventoryFinding {
  std::string id;        ///< "unsafe-import", ...
  std::string severity;  ///< "info", "warning" or "error"
  std::string message;
};

/// One audited subject (the inventory row).
/// One check of the model's scan (cli/scan_core.h ScanCheck): what it said and why.
struct InventoryCheck {
  std::string name, status, detail;
};

/// One subject's result.
struct InventoryRow {
  std::string id;       ///< stable subject id (see sbom/audit_store.h)
  std::string subject;  ///< the path as found, or the endpoint URL
  std::string kind;     ///< "path" or "endpoint"
  std::string model;    ///< model name at the endpoint ("" for a path)
  std::string verdict;  ///< "pass", "flagged" or "error" (could not be scanned)
  std::string format;   ///< "gguf", "safetensors", "hf-dir", ...; "" when unknown
  std::string error;    ///< why it could not be scanned ("" unless verdict is "error")
  std::vector<InventoryFinding> findings;
  std::vector<InventoryCheck> checks;  ///< in scan order
  std::string manifest_root, tensor_named_root, tensor_content_root;  ///< "sha256:..." or ""
  uint64_t parameters = 0, files = 0, bytes = 0;
  nlohmann::json hashes = nlohmann::json::array();  ///< CycloneDX hashes from the model's AI-BOM (may be empty)
  std::string bom;         ///< the model's AI-BOM file relative to the output directory, "" when none
  std::string scanned_at;  ///< ISO 8601 UTC
};

/// The row as a JSON object (every field present) and back; from_json fails on a missing or mistyped field.
nlohmann::json row_to_json(const InventoryRow& r);
bool row_from_json(const nlohmann::json& j, InventoryRow* r, Error* err);

/// What the report says about the audit itself.
struct InventoryMeta {
  std::string generated_at;  ///< ISO 8601 UTC
  std::string tool_version = PEDIGREE_VERSION;
  std::vector<std::string> inputs;  ///< directories walked or the inventory file
};

/// Rows sorted by subject, then model, then id (the order of every output).
void sort_rows(std::vector<InventoryRow>* rows);

/// The JSON report: {"generated_at", "tool", "inputs", "summary", "findings", "subjects"}.
nlohmann::json inventory_json(const std::vector<InventoryRow>& rows, const InventoryMeta& meta);

/// The CSV report (RFC 4180: CRLF line ends, a header line, fields quoted when
/// they hold a comma, quote, CR or LF, quotes doubled). A field starting with
/// '=', '+', '-', '@', TAB or CR gets a leading apostrophe so spreadsheets do
/// not run it as a formula.
std::string inventory_csv(const std::vector<InventoryRow>& rows);

/// One self-contained HTML page: inline CSS and JavaScript, no external URL,
/// the JSON report embedded in a <script type="application/json"> block
/// ("</" written as "<\/"), the table and charts drawn by the script.
std::string inventory_html(const std::vector<InventoryRow>& rows, const InventoryMeta& meta);

/// Options of the fleet BOM.
struct FleetBomOptions {
  std::string name = "model fleet";  ///< metadata.component name
  int64_t timestamp = 0;             ///< seconds since the epoch
  std::string tool_version = PEDIGREE_VERSION;
};

/// A CycloneDX 1.6 BOM with the fleet as metadata.component and every row as a
/// machine-learning-model component (identity digests, format, verdict and
/// findings as pedigree:* properties). The serial number is derived from the
/// content, so the same inputs give the same document.
bool fleet_bom(const std::vector<InventoryRow>& rows, const FleetBomOptions& opts, nlohmann::json* out, Error* err);

/// A file name for a subject's AI-BOM: its readable tail plus a short hash of its id, ".cdx.json".
std::string bom_file_name(const InventoryRow& r);

}  // namespace pedigree
