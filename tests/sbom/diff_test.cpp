// Tests of `bom diff`: identical BOMs, each kind of change on the described
// model (identity, hashes, licences, model card, pedigree, properties) and
// on components, and the manifest-cyber Llama and Qwen AI-BOMs.
#include "sbom/diff.h"

#include <gtest/gtest.h>

#include "sbom/bom_doc.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using json = nlohmann::json;

const char* kBase = R"({"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:1","version":1,
  "metadata":{"timestamp":"2026-01-01T00:00:00Z","component":{"type":"machine-learning-model","bom-ref":"m1","name":"m",
    "version":"1","hashes":[{"alg":"SHA-256","content":"aa"}],"licenses":[{"license":{"id":"MIT"}}],
    "properties":[{"name":"p","value":"1"}],"pedigree":{"ancestors":[{"type":"machine-learning-model","name":"b","purl":"pkg:huggingface/o/b"}]},
    "modelCard":{"modelParameters":{"task":"text-generation"}}}},
  "components":[{"type":"file","bom-ref":"f1","name":"w.safetensors","hashes":[{"alg":"SHA-256","content":"01"}]},
                {"type":"file","bom-ref":"f2","name":"config.json"}]})";

std::vector<std::string> fields(const std::vector<FieldChange>& v) {
  std::vector<std::string> out;
  for (const FieldChange& c : v) out.push_back(c.field);
  return out;
}

TEST(BomDiff, IdenticalAndIgnoredFields) {
  json a = json::parse(kBase), b = a;
  EXPECT_TRUE(diff_boms(a, b).equal());
  b["serialNumber"] = "urn:uuid:2";
  b["metadata"]["timestamp"] = "2027-01-01T00:00:00Z";
  b["metadata"]["component"]["bom-ref"] = "other";
  b["components"][0]["bom-ref"] = "other-file";
  EXPECT_TRUE(diff_boms(a, b).equal());
  EXPECT_EQ(diff_json(diff_boms(a, b))["equal"], true);
}

TEST(BomDiff, ModelChanges) {
  json a = json::parse(kBase), b = a;
  json& m = b["metadata"]["component"];
  m["version"] = "2";
  m["hashes"][0]["content"] = "bb";
  m["licenses"] = json::parse(R"([{"license":{"name":"Llama 3.2 Community License"}}])");
  m["modelCard"]["modelParameters"]["task"] = "summarization";
  m["modelCard"]["considerations"] = json::parse(R"({"technicalLimitations":["x"]})");
  m["pedigree"]["ancestors"][0]["purl"] = "pkg:huggingface/o/c";
  m["properties"] = json::parse(R"([{"name":"q","value":"2"}])");
  b["specVersion"] = "1.7";
  BomDiff d = diff_boms(a, b);
  EXPECT_FALSE(d.equal());
  EXPECT_EQ(fields(d.model), (std::vector<std::string>{"hashes/SHA-256", "licenses",
                                                       "modelCard/considerations/technicalLimitations",
                                                       "modelCard/modelParameters/task", "pedigree/ancestors",
                                                       "properties/p", "properties/q", "specVersion", "version"}));
  EXPECT_EQ(*d.model[0].before, "aa");
  EXPECT_EQ(*d.model[0].after, "bb");
  EXPECT_EQ(*d.model[1].after, "Llama 3.2 Community License");
  EXPECT_FALSE(d.model[2].before.has_value());
  EXPECT_EQ(*d.model[4].after, "pkg:huggingface/o/c");
  EXPECT_FALSE(d.model[6].before.has_value());
  EXPECT_FALSE(d.model[5].after.has_value());
  json j = diff_json(d);
  EXPECT_TRUE(j["model"]["changes"][2]["before"].is_null());
}

TEST(BomDiff, ComponentChanges) {
  json a = json::parse(kBase), b = a;
  b["components"][0]["hashes"][0]["content"] = "02";
  b["components"].erase(1);
  b["components"].push_back(json::parse(R"({"type":"data","name":"tokenizer.json"})"));
  BomDiff d = diff_boms(a, b);
  EXPECT_TRUE(d.model.empty());
  EXPECT_EQ(d.added, (std::vector<std::string>{"data:tokenizer.json"}));
  EXPECT_EQ(d.removed, (std::vector<std::string>{"file:config.json"}));
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_EQ(d.changed[0].key, "file:w.safetensors");
  EXPECT_EQ(fields(d.changed[0].changes), (std::vector<std::string>{"hashes/SHA-256"}));
}

TEST(BomDiff, ModelMissingOnOneSide) {
  json a = json::parse(kBase), b = a;
  b["metadata"].erase("component");
  BomDiff d = diff_boms(a, b);
  ASSERT_FALSE(d.model.empty());
  EXPECT_EQ(d.model[0].field, "model component");
  EXPECT_EQ(*d.model[0].before, "m");
  EXPECT_FALSE(d.model[0].after.has_value());
}

TEST(BomDiff, FieldsFlattening) {
  json c = json::parse(R"({"bom-ref":"x","type":"file","name":"n","tags":["b","a"],
    "properties":[{"name":"k","value":"2"},{"name":"k","value":"1"}],
    "externalReferences":[{"type":"vcs","url":"u2"},{"type":"vcs","url":"u1"}],
    "components":[{"type":"file","name":"nested"}],"data":[{"type":"dataset","name":"d"}]})");
  auto f = component_fields(c);
  std::vector<std::pair<std::string, std::string>> want = {
      {"data[0]/name", "d"}, {"data[0]/type", "dataset"}, {"externalReferences/vcs", "u1 u2"}, {"name", "n"},
      {"properties/k", "1; 2"}, {"tags", "a, b"}, {"type", "file"}};
  EXPECT_EQ(f, want);
}

TEST(BomDiff, LlamaVersusQwen) {
  std::string dir = test::shared_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared is absent: manifest-cyber AI-BOMs not available";
  dir += "/fixtures/cyclonedx/manifest-cyber/";
  json a, b;
  Error err;
  ASSERT_TRUE(read_bom_document(dir + "Llama-3.2-1B-Instruct.json", &a, &err)) << err.str();
  ASSERT_TRUE(read_bom_document(dir + "Qwen2.5-7B-Instruct.json", &b, &err)) << err.str();
  BomDiff d = diff_boms(a, b);
  EXPECT_EQ(d.model_before, "meta-llama/Llama-3.2-1B-Instruct");
  EXPECT_EQ(d.model_after, "Qwen/Qwen2.5-7B-Instruct");
  std::map<std::string, FieldChange> by;
  for (const FieldChange& c : d.model) by.emplace(c.field, c);
  EXPECT_EQ(*by.at("licenses").before, "Llama 3.2 Community License");
  EXPECT_EQ(*by.at("licenses").after, "Apache-2.0");
  EXPECT_EQ(*by.at("modelCard/modelParameters/architectureFamily").after, "qwen2");
  EXPECT_EQ(*by.at("modelCard/modelParameters/modelArchitecture").before, "LlamaForCausalLM");
  EXPECT_FALSE(by.at("pedigree/ancestors").before.has_value());
  EXPECT_EQ(*by.at("pedigree/ancestors").after, "Qwen2.5-7B");
  EXPECT_EQ(*by.at("version").after, "a09a35458c702b33eeacc393d103063234e8bc28");
  EXPECT_EQ(d.model.size(), 19u);
  EXPECT_EQ(d.added.size(), 47u);
  EXPECT_EQ(d.removed.size(), 22u);
  EXPECT_EQ(d.changed.size(), 6u);
  EXPECT_NE(std::find(d.removed.begin(), d.removed.end(), "file:original/consolidated.00.pth"), d.removed.end());
  EXPECT_NE(std::find(d.added.begin(), d.added.end(), "file:merges.txt"), d.added.end());
  EXPECT_TRUE(diff_boms(b, b).equal());
}

}  // namespace
}  // namespace pedigree
