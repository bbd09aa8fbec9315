// This file implements the SARIF 2.1.0 writer for `pedigree check` reports:
// one run whose tool.driver lists every policy rule (stable ids, short
// description, help), and one result per failed, not-evaluated or excepted
// rule, located at the model's files, shaped as GitHub code scanning accepts.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sbom/policy.h"

namespace pedigree {

/// Where result URIs are made relative to, and the tool identity.
struct SarifOptions {
  std::string base_dir;  ///< absolute directory; files under it get relative URIs with uriBaseId %SRCROOT%
  std::string tool_version = PEDIGREE_VERSION;
  std::string information_uri;  ///< tool.driver.informationUri (optional in SARIF 2.1.0); empty: left out
};

/// The report as a SARIF 2.1.0 log (passed rules are in tool.driver.rules, not in results).
nlohmann::json report_sarif(const CheckReport& r, const SarifOptions& opts);

/// A path as a SARIF artifactLocation: {"uri": relative, "uriBaseId": "%SRCROOT%"} under `base_dir`,
/// else {"uri": "file:///absolute"}; URI characters outside RFC 3986's unreserved and '/' are percent-encoded.
nlohmann::json sarif_artifact_location(const std::string& path, const std::string& base_dir);

}  // namespace pedigree
