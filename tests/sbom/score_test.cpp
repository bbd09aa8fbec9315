// Tests of the AI-BOM completeness score (every group complete, nothing
// present, partial groups, the manifest-cyber AI-BOMs) and of reading BOM
// documents (each malformed input with its exact message).
#include "sbom/score.h"

#include <gtest/gtest.h>

#include "sbom/bom_doc.h"
#include "sbom/validate.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using json = nlohmann::json;

const char* kComplete = R"({
  "bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": "urn:uuid:12345678-1234-4234-8234-123456789abc",
  "signature": {"algorithm": "ES256", "value": "x"},
  "metadata": {"timestamp": "2026-01-01T00:00:00Z", "tools": {"components": [{"type": "application", "name": "t"}]},
    "component": {"type": "machine-learning-model", "bom-ref": "m", "name": "m", "version": "1", "purl": "pkg:generic/m@1",
      "supplier": {"name": "s"}, "description": "d", "hashes": [{"alg": "SHA-256", "content": "00"}],
      "licenses": [{"license": {"id": "MIT"}}],
      "externalReferences": [{"type": "model-card", "url": "u"}, {"type": "distribution", "url": "u"},
                             {"type": "vcs", "url": "u"}, {"type": "attestation", "url": "u"}],
      "pedigree": {"ancestors": [{"type": "machine-learning-model", "name": "base"}]},
      "properties": [{"name": "pedigree:manifest-root", "value": "sha256:00"}],
      "modelCard": {
        "modelParameters": {"task": "t", "architectureFamily": "a", "modelArchitecture": "A",
          "approach": {"type": "supervised"}, "inputs": [{"format": "text"}], "outputs": [{"format": "text"}],
          "datasets": [{"ref": "ds"}, {"type": "dataset", "name": "inline"}]},
        "quantitativeAnalysis": {"performanceMetrics": [{"type": "accuracy", "value": "1"}]},
        "considerations": {"users": ["u"], "technicalLimitations": ["l"], "ethicalConsiderations": [{"name": "e"}],
          "performanceTradeoffs": ["p"], "fairnessAssessments": [{"groupAtRisk": "g"}],
          "environmentalConsiderations": {"properties": [{"name": "co2", "value": "1"}]}}}}},
  "components": [{"type": "data", "bom-ref": "ds", "name": "ds"},
                 {"type": "file", "name": "w", "hashes": [{"alg": "BLAKE2b-512", "content": "00"}]}]
})";

double group_points(const BomScore& s, const std::string& id) {
  for (const ScoreGroup& g : s.groups)
    if (g.id == id) return g.points;
  ADD_FAILURE() << "no group " << id;
  return -1;
}

std::vector<std::string> missing(const BomScore& s, const std::string& id) {
  std::vector<std::string> out;
  for (const ScoreGroup& g : s.groups)
    if (g.id == id)
      for (const ScoreCheck& c : g.checks)
        if (!c.present) out.push_back(c.field);
  return out;
}

TEST(BomScore, CompleteBomScores100AndWeightsSumTo100) {
  BomScore s = score_bom(json::parse(kComplete));
  double weights = 0;
  for (const ScoreGroup& g : s.groups) {
    weights += g.weight;
    EXPECT_EQ(g.points, g.weight) << g.id;
  }
  EXPECT_EQ(weights, 100);
  EXPECT_EQ(s.total, 100);
  EXPECT_EQ(s.model_where, "metadata.component");
  EXPECT_EQ(s.groups.size(), 8u);
}

TEST(BomScore, EmptyBomScoresZeroAndListsEverything) {
  BomScore s = score_bom(json::parse(R"({"bomFormat":"CycloneDX","specVersion":"1.6"})"));
  EXPECT_EQ(s.total, 0);
  EXPECT_EQ(s.model_where, "");
  EXPECT_EQ(missing(s, "identity").front(), "model component (type machine-learning-model)");
  EXPECT_EQ(missing(s, "licences"), (std::vector<std::string>{"model.licenses", "every licence is an SPDX id or expression"}));
  json j = score_json(s);
  EXPECT_TRUE(j["model"].is_null());
  EXPECT_EQ(j["groups"][0]["missing"].size(), 9u);
}

TEST(BomScore, PartialGroups) {
  json b = json::parse(kComplete);
  json& m = b["metadata"]["component"];
  m["licenses"] = json::parse(R"([{"license":{"name":"mit"}}])");          // a name, not an SPDX id
  b["components"][1].erase("hashes");                                      // a file without hashes
  m["modelCard"]["modelParameters"]["datasets"][0]["ref"] = "nowhere";    // dangling ref
  m["hashes"] = json::parse(R"([{"alg":"MD5","content":"00"}])");
  BomScore s = score_bom(b);
  EXPECT_EQ(group_points(s, "licences"), 6);
  EXPECT_EQ(missing(s, "licences"), (std::vector<std::string>{"every licence is an SPDX id or expression"}));
  EXPECT_EQ(missing(s, "integrity"), (std::vector<std::string>{
                                         "hashes on every file component",
                                         "only strong hash algorithms (SHA-2, SHA-3, BLAKE2b, BLAKE3)"}));
  EXPECT_EQ(group_points(s, "integrity"), 11);
  EXPECT_EQ(group_points(s, "datasets"), 6);
  EXPECT_EQ(s.total, 100 - 4 - 9 - 4);
}

TEST(BomScore, WrongTypesCountAsMissing) {
  json b = json::parse(R"({"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":5,
    "components":[{"type":"machine-learning-model","name":7,"licenses":"MIT","modelCard":[],"hashes":{}}]})");
  BomScore s = score_bom(b);
  EXPECT_EQ(s.model_where, "components[0]");
  EXPECT_EQ(group_points(s, "identity"), 4);
  EXPECT_EQ(s.total, 4);
}

TEST(BomScore, ManifestCyberBoms) {
  std::string dir = test::shared_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared is absent: manifest-cyber AI-BOMs not available";
  dir += "/fixtures/cyclonedx/manifest-cyber/";
  json b;
  Error err;
  ASSERT_TRUE(read_bom_document(dir + "Qwen2.5-7B-Instruct.json", &b, &err)) << err.str();
  BomScore s = score_bom(b);
  EXPECT_EQ(s.total, 52.0);
  EXPECT_EQ(s.model_name, "Qwen/Qwen2.5-7B-Instruct");
  EXPECT_EQ(s.model_where, "components[0]");
  EXPECT_EQ(missing(s, "identity"), (std::vector<std::string>{"model.purl", "model.description"}));
  EXPECT_EQ(group_points(s, "integrity"), 0);  // 59 file components, none hashed
  EXPECT_EQ(group_points(s, "provenance"), 15);
  EXPECT_EQ(missing(s, "datasets").front(), "model.modelCard.modelParameters.datasets");
  ASSERT_TRUE(read_bom_document(dir + "Llama-3.2-1B-Instruct.json", &b, &err)) << err.str();
  s = score_bom(b);
  EXPECT_EQ(s.total, 41.0);
  EXPECT_EQ(missing(s, "licences"), (std::vector<std::string>{"every licence is an SPDX id or expression"}));
  EXPECT_EQ(missing(s, "provenance"), (std::vector<std::string>{"model.pedigree.ancestors (or pedigree.notes)"}));
  ASSERT_TRUE(read_bom_document(dir + "FLUX.1-dev.json", &b, &err)) << err.str();
  s = score_bom(b);
  EXPECT_EQ(s.total, 39.0);
  EXPECT_EQ(missing(s, "model-parameters"),
            (std::vector<std::string>{"model.modelCard.modelParameters.architectureFamily",
                                      "model.modelCard.modelParameters.modelArchitecture",
                                      "model.modelCard.modelParameters.approach.type"}));
}

std::string parse_error(const std::string& text) {
  json out;
  Error err;
  EXPECT_FALSE(parse_bom_document(text, "b.json", &out, &err));
  return err.str();
}

TEST(BomScore, MalformedDocuments) {
  EXPECT_EQ(parse_error(""), "b.json: offset 0x0: malformed JSON at line 1, column 1: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(parse_error("{\"a\": tru}"), "b.json: offset 0x9: malformed JSON at line 1, column 10: syntax error while parsing value - invalid literal; last read: '\"a\": tru}'");
  EXPECT_EQ(parse_error("[]"), "b.json: not a CycloneDX BOM: the document is not a JSON object");
  EXPECT_EQ(parse_error("{}"), "b.json: not a CycloneDX BOM: no bomFormat");
  EXPECT_EQ(parse_error(R"({"bomFormat":"SPDX"})"), "b.json: not a CycloneDX BOM: bomFormat is \"SPDX\", expected \"CycloneDX\"");
  EXPECT_EQ(parse_error(R"({"bomFormat":"CycloneDX"})"), "b.json: specVersion is missing or not a string");
  const std::string head = R"({"bomFormat":"CycloneDX","specVersion":"1.6",)";
  EXPECT_EQ(parse_error(head + R"("metadata":[]})"), "b.json: metadata is not an object");
  EXPECT_EQ(parse_error(head + R"("metadata":{"component":1}})"), "b.json: metadata.component is not an object");
  EXPECT_EQ(parse_error(head + R"("components":{}})"), "b.json: components is not an array");
  EXPECT_EQ(parse_error(head + R"("components":[{},3]})"), "b.json: components[1] is not an object");
  EXPECT_EQ(parse_error(head + R"("components":[{"components":[{"components":"x"}]}]})"),
            "b.json: components[0].components[0].components is not an array");
  EXPECT_EQ(parse_error(std::string(200, '[') + std::string(200, ']')),
            "b.json: offset 0x80: nesting deeper than 128 levels at line 1, column 129");
  EXPECT_EQ(parse_error(std::string(kMaxBomBytes + 1, ' ')), "b.json: document of 64.0 MiB exceeds the 64.0 MiB cap");
}

TEST(BomScore, ReadMissingFile) {
  json out;
  Error err;
  EXPECT_FALSE(read_bom_document("/nonexistent/bom.json", &out, &err));
  EXPECT_EQ(err.str(), "/nonexistent/bom.json: cannot open: no such file or directory");
}

}  // namespace
}  // namespace pedigree
