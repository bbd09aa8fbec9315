// This file implements the libFuzzer target for `pedigree check` policies:
// bytes -> parse_policy (YAML, every field checked); when the policy parses,
// evaluate it on fixed evidence and render text, JSON, SARIF and JUnit.
// Must never crash, whatever the YAML.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sbom/junit.h"
#include "sbom/policy.h"
#include "sbom/sarif.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  pedigree::Policy policy;
  pedigree::Error err;
  if (!pedigree::parse_policy(bytes, "fuzz.yaml", &policy, &err)) return 0;
  pedigree::CheckEvidence ev;
  ev.model_path = "models/m";
  ev.format = "pytorch";
  ev.files = {{"models/m/w.pt", "w.pt", 1, "pytorch"}};
  ev.findings = {{"unsafe-import", "error", "models/m/w.pt", 3, "pickle imports posix.system"}};
  ev.manifest_root = "sha256:" + std::string(64, '0');
  ev.bom = nlohmann::json{{"metadata", {{"component", {{"name", "m"}, {"licenses", {{{"expression", "MIT OR (GPL-2.0+ WITH x)"}}}}}}}}};
  ev.bom_score = 50;
  ev.signature.bundle_path = "models/m/model.sig";
  pedigree::CheckReport r = pedigree::evaluate_policy(policy, ev, "2026-06-01");
  (void)pedigree::report_text(r);
  (void)pedigree::report_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)pedigree::report_junit(r);
  pedigree::SarifOptions o;
  o.base_dir = "/repo";
  (void)pedigree::report_sarif(r, o).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
