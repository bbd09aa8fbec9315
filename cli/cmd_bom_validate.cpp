// This file implements `pedigree bom validate FILE [--json]`: read a CycloneDX
// JSON document, validate it against the embedded schema of its specVersion
// and the beyond-schema checks, print every finding with its JSON pointer.
// Exit 0 valid, 1 invalid, 2 unreadable (see docs/bom-validation.md).
#include "cli/cli.h"
#include "sbom/validate.h"

namespace pedigree::cli {
namespace {

std::string shown(const std::string& pointer) { return pointer.empty() ? "(root)" : pointer; }

std::string text_report(const std::string& file, const BomValidation& v) {
  size_t n = v.schema_errors.size() + v.errors.size();
  std::string out = file + ": " + (v.valid() ? "valid" : "invalid") + " (CycloneDX " + v.spec_version + ")";
  if (n) out += ": " + std::to_string(n) + (n == 1 ? " error" : " errors");
  out += "\n";
  for (const BomIssue& e : v.schema_errors) out += "  " + shown(e.path) + ": " + e.message + "\n";
  for (const BomIssue& e : v.errors) out += "  " + shown(e.path) + ": " + e.message + "\n";
  for (const BomIssue& w : v.warnings) out += "  warning: " + shown(w.path) + ": " + w.message + "\n";
  if (!v.signatures.empty())
    out += "  note: " + std::to_string(v.signatures.size()) +
           " signature subtree(s) not schema-checked here; 'pedigree bom verify' checks the top-level one\n";
  return out;
}

nlohmann::json issues_json(const std::vector<BomIssue>& issues, const char* source) {
  nlohmann::json out = nlohmann::json::array();
  for (const BomIssue& i : issues) {
    nlohmann::json j = {{"path", i.path}, {"message", i.message}};
    if (source) j["source"] = source;
    out.push_back(std::move(j));
  }
  return out;
}

nlohmann::json json_report(const std::string& file, const BomValidation& v) {
  nlohmann::json errors = issues_json(v.schema_errors, "schema");
  for (auto& e : issues_json(v.errors, "pedigree")) errors.push_back(std::move(e));
  return {{"file", file},
          {"valid", v.valid()},
          {"spec_version", v.spec_version},
          {"errors", errors},
          {"warnings", issues_json(v.warnings, nullptr)},
          {"signatures_not_checked", v.signatures}};
}

}  // namespace

int run_bom_validate(const BomValidateArgs& a) {
  nlohmann::json doc;
  Error err;
  if (!read_bom_file(a.path, &doc, &err)) return report_error(err);
  BomValidation v;
  if (!validate_bom(doc, a.path, &v, &err)) return report_error(err);
  std::string text = a.json ? json_text(json_report(a.path, v)) : text_report(a.path, v);
  if (!write_output("", text, &err)) return report_error(err);
  return v.valid() ? kOk : kFlagged;
}

}  // namespace pedigree::cli
