// Tests of the SARIF 2.1.0 writer (sbom/sarif.cpp): driver and rules, which
// results are emitted and at which level, relative and absolute artifact
// locations with percent-encoding, fingerprints and suppressions.
#include <gtest/gtest.h>

#include "sbom/sarif.h"

namespace pedigree {
namespace {

using nlohmann::json;

RuleResult result(const char* id, const char* name, RuleStatus status, const char* level, const char* message,
                  const std::string& location) {
  RuleResult r;
  r.id = id, r.name = name, r.status = status, r.level = level, r.message = message;
  r.locations = {location};
  return r;
}

CheckReport sample_report() {
  CheckReport r;
  r.model_path = "models/m";
  r.policy_path = "p.yaml";
  r.today = "2026-01-01";
  RuleResult pass = result("PDG001", "signature.required", RuleStatus::kPass, "note", "verified",
                           "/repo/models/m/model.sig");
  RuleResult fail = result("PDG020", "pickle.unsafe_imports", RuleStatus::kFail, "error", "1 unsafe pickle import",
                           "/repo/models/m/evil pt#1.pt");
  fail.evidence = {{"pickle imports os.system", "/repo/models/m/evil pt#1.pt", "", "pedigree inspect models/m"}};
  RuleResult ne = result("PDG040", "lineage.max_similarity", RuleStatus::kNotEvaluated, "warning", "no registry",
                         "/elsewhere/w.bin");
  RuleResult exc = result("PDG021", "pickle.formats", RuleStatus::kExcepted, "note", "excepted: r", "/repo/models/m/a.pt");
  exc.exception = "r (expires 2030-01-01, policy line 9)";
  r.results = {pass, fail, ne, exc};
  return r;
}

TEST(Sarif, DriverRulesAndResults) {
  SarifOptions o;
  o.base_dir = "/repo";
  o.tool_version = "1.2.3";
  json s = report_sarif(sample_report(), o);
  EXPECT_EQ(s["version"], "2.1.0");
  ASSERT_EQ(s["runs"].size(), 1u);
  const json& run = s["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "pedigree");
  EXPECT_EQ(run["tool"]["driver"]["version"], "1.2.3");
  EXPECT_FALSE(run["tool"]["driver"].contains("informationUri"));  // no project URL: the optional field is left out
  ASSERT_EQ(run["tool"]["driver"]["rules"].size(), policy_rules().size());
  EXPECT_EQ(run["tool"]["driver"]["rules"][0]["id"], "PDG001");
  EXPECT_TRUE(run["tool"]["driver"]["rules"][0]["help"]["text"].is_string());
  EXPECT_EQ(run["originalUriBaseIds"]["%SRCROOT%"]["uri"], "file:///repo/");
  const json& res = run["results"];
  ASSERT_EQ(res.size(), 3u);  // the pass is not a result
  EXPECT_EQ(res[0]["ruleId"], "PDG020");
  EXPECT_EQ(res[0]["ruleIndex"], 4);
  EXPECT_EQ(run["tool"]["driver"]["rules"][4]["id"], "PDG020");
  EXPECT_EQ(res[0]["level"], "error");
  EXPECT_EQ(res[0]["locations"][0]["physicalLocation"]["artifactLocation"],
            json({{"uri", "models/m/evil%20pt%231.pt"}, {"uriBaseId", "%SRCROOT%"}}));
  EXPECT_EQ(res[0]["partialFingerprints"]["pedigreeResult/v1"].get<std::string>().size(), 64u);
  EXPECT_EQ(res[0]["properties"]["evidence"][0]["command"], "pedigree inspect models/m");
  EXPECT_EQ(res[1]["level"], "warning");
  EXPECT_EQ(res[1]["message"]["text"], "not evaluated: no registry");
  EXPECT_EQ(res[1]["locations"][0]["physicalLocation"]["artifactLocation"], json({{"uri", "file:///elsewhere/w.bin"}}));
  EXPECT_EQ(res[2]["suppressions"][0]["kind"], "external");
  EXPECT_EQ(res[2]["suppressions"][0]["justification"], "r (expires 2030-01-01, policy line 9)");
  EXPECT_NE(res[0]["partialFingerprints"], res[2]["partialFingerprints"]);
}

TEST(Sarif, InformationUriOnlyWhenGiven) {
  SarifOptions o;
  o.information_uri = "https://example.org/pedigree";
  EXPECT_EQ(report_sarif(sample_report(), o)["runs"][0]["tool"]["driver"]["informationUri"], "https://example.org/pedigree");
}

TEST(Sarif, ArtifactLocation) {
  EXPECT_EQ(sarif_artifact_location("/repo/a/b.bin", "/repo"), json({{"uri", "a/b.bin"}, {"uriBaseId", "%SRCROOT%"}}));
  EXPECT_EQ(sarif_artifact_location("/repo/../x/ü.bin", "/repo"), json({{"uri", "file:///x/%C3%BC.bin"}}));
  EXPECT_EQ(sarif_artifact_location("/repo", "/repo"), json({{"uri", "file:///repo"}}));
  EXPECT_EQ(sarif_artifact_location("/a/b", ""), json({{"uri", "file:///a/b"}}));
}

}  // namespace
}  // namespace pedigree
