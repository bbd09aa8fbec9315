// This file implements the SARIF 2.1.0 writer (OASIS SARIF v2.1.0, with the
// subset GitHub code scanning reads): tool.driver.rules from the policy rule
// table, results with ruleId/ruleIndex, level, message, physical locations
// relative to %SRCROOT%, partialFingerprints, and suppressions for exceptions.
#include "sbom/sarif.h"

#include <filesystem>

#include "fingerprint/digest.h"

namespace pedigree {
namespace {

using nlohmann::json;

constexpr size_t kMaxLocations = 10;  // GitHub reads the first location; keep a few for people

std::string uri_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

json rule_json(const RuleInfo& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"shortDescription", {{"text", r.short_description}}},
          {"fullDescription", {{"text", r.help}}},
          {"help", {{"text", r.help}}},
          {"defaultConfiguration", {{"level", "error"}}},
          {"properties", {{"tags", {"security", "supply-chain", "ai-model"}}}}};
}

json result_json(const RuleResult& x, size_t rule_index, const std::string& base) {
  json locs = json::array();
  for (size_t i = 0; i < x.locations.size() && i < kMaxLocations; ++i)
    locs.push_back({{"physicalLocation", {{"artifactLocation", sarif_artifact_location(x.locations[i], base)}}}});
  std::string first = locs.empty() ? "" : locs[0]["physicalLocation"]["artifactLocation"]["uri"].get<std::string>();
  std::string fp = to_hex(digest_bytes(HashAlgorithm::kSha256, x.id + "\n" + x.subject + "\n" + first));
  json props = {{"status", status_name(x.status)}};
  props["evidence"] = evidence_json(x.evidence);
  if (!x.notes.empty()) props["notes"] = x.notes;
  if (!x.subject.empty()) props["subject"] = x.subject;
  std::string text = x.status == RuleStatus::kNotEvaluated ? "not evaluated: " + x.message : x.message;
  json j = {{"ruleId", x.id},
            {"ruleIndex", rule_index},
            {"level", x.level},
            {"message", {{"text", text}}},
            {"locations", locs},
            {"partialFingerprints", {{"pedigreeResult/v1", fp}}},
            {"properties", props}};
  if (x.status == RuleStatus::kExcepted)
    j["suppressions"] = json::array({{{"kind", "external"}, {"status", "accepted"}, {"justification", x.exception}}});
  return j;
}

}  // namespace

json sarif_artifact_location(const std::string& path, const std::string& base_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path abs = fs::absolute(fs::path(path), ec).lexically_normal();
  fs::path base = fs::path(base_dir).lexically_normal();
  if (!base_dir.empty()) {
    fs::path rel = abs.lexically_relative(base);
    std::string r = rel.generic_string();
    if (!rel.empty() && r != "." && r.rfind("..", 0) != 0) return {{"uri", uri_encode(r)}, {"uriBaseId", "%SRCROOT%"}};
  }
  return {{"uri", "file://" + uri_encode(abs.generic_string())}};
}

json report_sarif(const CheckReport& r, const SarifOptions& opts) {
  json rules = json::array();
  const std::vector<RuleInfo>& all = policy_rules();
  for (const RuleInfo& info : all) rules.push_back(rule_json(info));
  json results = json::array();
  for (const RuleResult& x : r.results) {
    if (x.status == RuleStatus::kPass) continue;
    size_t index = 0;
    while (index < all.size() && x.id != all[index].id) ++index;
    results.push_back(result_json(x, index, opts.base_dir));
  }
  json driver = {{"name", "pedigree"},
                 {"version", opts.tool_version},
                 {"semanticVersion", opts.tool_version},
                 {"rules", rules}};
  if (!opts.information_uri.empty()) driver["informationUri"] = opts.information_uri;
  json run = {{"tool", {{"driver", driver}}},
              {"columnKind", "unicodeCodePoints"},
              {"results", results},
              {"properties", {{"policy", r.policy_path}, {"model", r.model_path}, {"date", r.today},
                              {"violations", r.violations()}}}};
  if (!opts.base_dir.empty()) {
    std::string b = opts.base_dir.back() == '/' ? opts.base_dir : opts.base_dir + "/";
    run["originalUriBaseIds"] = {{"%SRCROOT%", {{"uri", "file://" + uri_encode(b)}}}};
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"}, {"version", "2.1.0"}, {"runs", {run}}};
}

}  // namespace pedigree
