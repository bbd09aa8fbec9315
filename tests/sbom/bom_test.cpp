// Tests of the AI-BOM generator on ModelArtifact values built in code:
// licences (SPDX case-sensitivity), base models, datasets, model card,
// hashes, bom-refs, determinism, serials, timestamps and option errors.
#include "sbom/bom.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "sbom/spdx_ids.h"

namespace pedigree {
namespace {
using json = nlohmann::json;

const std::string kSerial = "urn:uuid:12345678-1234-4234-8234-123456789abc";

struct Fixture {
  ModelArtifact art;
  TensorIndex idx;
  TensorFingerprint fp;
  BomInputs in;
  BomOptions opts;
  Fixture() {
    art.root = "/models/m.gguf";
    art.format = "gguf";
    art.files.push_back({"/models/m.gguf", ".", 100, "gguf"});
    TensorInfo t;
    t.name = "w";
    t.shape = {2, 3};
    t.length = 24;
    idx.tensors.push_back(t);
    fp.tensors.push_back({"w", DType::F32, {2, 3}, 24, {}});
    fp.named_root.fill(0x11);
    fp.content_root.fill(0x22);
    in.files.push_back({".", 100, std::vector<uint8_t>(32, 0xab), {}});
    in.manifest_root = std::vector<uint8_t>(32, 0xcd);
    in.model_path = "/models/m.gguf";
    opts.serial = kSerial;
    opts.timestamp = 1700000000;
    opts.tool_version = "0.0.0-test";
  }
  json build() {
    in.art = &art;
    in.idx = &idx;
    in.fp = &fp;
    json out;
    Error err;
    EXPECT_TRUE(build_bom(in, opts, &out, &err)) << err.str();
    return out;
  }
  json& kv() { return art.metadata["gguf"]["kv"]; }
  json& card() { return art.metadata["hf"]["readme"]["front_matter"]; }
};

// `pair` repeated `n` times: the hex of n equal bytes.
std::string hex_rep(const std::string& pair, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += pair;
  return s;
}

const json& model(const json& bom) { return bom["metadata"]["component"]; }

std::string property(const json& c, const std::string& name) {
  for (const json& p : c["properties"])
    if (p["name"] == name) return p["value"];
  return "";
}

void collect_refs(const json& j, std::multiset<std::string>* refs) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "bom-ref") refs->insert(v.get<std::string>());
      collect_refs(v, refs);
    }
  } else if (j.is_array()) {
    for (const json& v : j) collect_refs(v, refs);
  }
}

TEST(BomSpdx, IdsAreExactAndCaseSensitive) {
  EXPECT_EQ(spdx_license_id_count(), 811u);
  EXPECT_TRUE(is_spdx_license_id("MIT"));
  EXPECT_TRUE(is_spdx_license_id("Apache-2.0"));
  EXPECT_TRUE(is_spdx_license_id("0BSD"));
  EXPECT_FALSE(is_spdx_license_id("mit"));
  EXPECT_FALSE(is_spdx_license_id("apache-2.0"));
  EXPECT_FALSE(is_spdx_license_id(""));
  EXPECT_FALSE(is_spdx_license_id("llama3.2"));
}

TEST(BomGenerate, DocumentSkeleton) {
  Fixture f;
  json b = f.build();
  EXPECT_EQ(b["bomFormat"], "CycloneDX");
  EXPECT_EQ(b["specVersion"], "1.6");
  EXPECT_EQ(b["$schema"], "http://cyclonedx.org/schema/bom-1.6.schema.json");
  EXPECT_EQ(b["serialNumber"], kSerial);
  EXPECT_EQ(b["version"], 1);
  EXPECT_EQ(b["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(b["metadata"]["tools"]["components"][0]["name"], "pedigree");
  EXPECT_EQ(b["metadata"]["tools"]["components"][0]["version"], "0.0.0-test");
  EXPECT_EQ(model(b)["type"], "machine-learning-model");
  EXPECT_EQ(model(b)["name"], "m.gguf");
  EXPECT_EQ(model(b)["bom-ref"], "pedigree:model:sha256:" + hex_rep("cd", 32));
  f.opts.spec_version = "1.7";
  EXPECT_EQ(f.build()["$schema"], "http://cyclonedx.org/schema/bom-1.7.schema.json");
}

TEST(BomGenerate, SingleFileHashAndPurlChecksum) {
  Fixture f;
  json m = model(f.build());
  ASSERT_EQ(m["hashes"].size(), 1u);
  EXPECT_EQ(m["hashes"][0]["alg"], "SHA-256");
  EXPECT_EQ(m["hashes"][0]["content"].get<std::string>().size(), 64u);
  EXPECT_EQ(m["purl"], "pkg:generic/m.gguf?checksum=sha256:" + hex_rep("ab", 32));
}

TEST(BomGenerate, DirectoryFilesBecomeComponentsWithBothDigests) {
  Fixture f;
  f.art.format = "hf-directory";
  f.art.files = {{"/d/model.safetensors", "model.safetensors", 10, "safetensors"}, {"/d/config.json", "config.json", 5, ""},
                 {"/d/README.md", "README.md", 3, ""}};
  f.in.files = {{"README.md", 3, std::vector<uint8_t>(32, 1), std::vector<uint8_t>(64, 2)},
                {"config.json", 5, std::vector<uint8_t>(32, 3), std::vector<uint8_t>(64, 4)},
                {"model.safetensors", 10, std::vector<uint8_t>(32, 5), std::vector<uint8_t>(64, 6)}};
  f.in.model_path = "/d";
  json b = f.build();
  EXPECT_FALSE(model(b).contains("hashes"));
  ASSERT_EQ(b["components"].size(), 3u);
  EXPECT_EQ(b["components"][0]["bom-ref"], "pedigree:file:README.md");
  EXPECT_EQ(b["components"][0]["type"], "file");
  EXPECT_EQ(b["components"][1]["bom-ref"], "pedigree:file:config.json");
  EXPECT_EQ(b["components"][1]["type"], "data");
  EXPECT_EQ(b["components"][1]["data"][0]["type"], "configuration");
  const json& w = b["components"][2];
  EXPECT_EQ(w["type"], "file");
  EXPECT_EQ(property(w, "pedigree:file-format"), "safetensors");
  EXPECT_EQ(property(w, "pedigree:size"), "10");
  ASSERT_EQ(w["hashes"].size(), 2u);
  EXPECT_EQ(w["hashes"][0]["alg"], "BLAKE2b-512");
  EXPECT_EQ(w["hashes"][0]["content"].get<std::string>().size(), 128u);
  EXPECT_EQ(w["hashes"][1]["alg"], "SHA-256");
  EXPECT_EQ(w["hashes"][1]["content"], hex_rep("05", 32));
  EXPECT_EQ(model(b)["purl"], "pkg:generic/d");
  ASSERT_EQ(b["dependencies"].size(), 4u);
  EXPECT_EQ(b["dependencies"][3]["ref"], model(b)["bom-ref"]);
  EXPECT_EQ(b["dependencies"][3]["dependsOn"],
            json({"pedigree:file:README.md", "pedigree:file:config.json", "pedigree:file:model.safetensors"}));
}

TEST(BomGenerate, LicenceIdOnlyWhenInSpdxListExactly) {
  Fixture f;
  f.kv()["general.license"] = "MIT";
  EXPECT_EQ(model(f.build())["licenses"], json::parse(R"([{"license":{"id":"MIT"}}])"));
  f.kv()["general.license"] = "mit";
  EXPECT_EQ(model(f.build())["licenses"], json::parse(R"([{"license":{"name":"mit"}}])"));
  f.kv().erase("general.license");
  f.card()["license"] = "other";
  f.card()["license_name"] = "llama3.2";
  f.card()["license_link"] = "https://example.com/LICENSE";
  EXPECT_EQ(model(f.build())["licenses"],
            json::parse(R"([{"license":{"name":"llama3.2","url":"https://example.com/LICENSE"}}])"));
  f.card()["license"] = json::array({"Apache-2.0", "MIT", "Apache-2.0"});
  EXPECT_EQ(model(f.build())["licenses"], json::parse(R"([{"license":{"id":"Apache-2.0"}},{"license":{"id":"MIT"}}])"));
}

TEST(BomGenerate, NothingInventedWhenMetadataIsAbsent) {
  Fixture f;
  json m = model(f.build());
  for (const char* k : {"licenses", "externalReferences", "pedigree", "version", "supplier", "tags",
                        "description", "authors", "group"})
    EXPECT_FALSE(m.contains(k)) << k;
  // The card is present (bom validate requires one) but only says it has no source.
  EXPECT_EQ(m["modelCard"], json::parse(R"({"properties":[{"name":"pedigree:model-card",
            "value":"no model-card metadata found in the model files"}]})"));
  EXPECT_EQ(f.build()["components"], json::array());
}

TEST(BomGenerate, BaseModelsFromFrontMatterAndOptions) {
  Fixture f;
  f.card()["base_model"] = "meta-llama/Llama-3.2-1B";
  f.card()["base_model_relation"] = "finetune";
  f.opts.base_models = {"https://huggingface.co/Qwen/Qwen2.5-7B/tree/abc123", "meta-llama/Llama-3.2-1B",
                        "pkg:generic/acme-model@2", "local-thing"};
  json m = model(f.build());
  const json& a = m["pedigree"]["ancestors"];
  ASSERT_EQ(a.size(), 4u);  // the front-matter duplicate collapses
  EXPECT_EQ(a[0]["bom-ref"], "pedigree:ancestor:local-thing");
  EXPECT_FALSE(a[0].contains("purl"));
  EXPECT_EQ(a[1]["purl"], "pkg:generic/acme-model@2");
  EXPECT_EQ(a[1]["name"], "acme-model");
  EXPECT_EQ(a[2]["purl"], "pkg:huggingface/Qwen/Qwen2.5-7B@abc123");
  EXPECT_EQ(a[2]["version"], "abc123");
  EXPECT_EQ(a[3]["purl"], "pkg:huggingface/meta-llama/Llama-3.2-1B");
  EXPECT_EQ(a[3]["group"], "meta-llama");
  EXPECT_EQ(a[3]["externalReferences"][0]["url"], "https://huggingface.co/meta-llama/Llama-3.2-1B");
  EXPECT_EQ(property(m, "pedigree:base-model-relation"), "finetune");
}

TEST(BomGenerate, BaseModelsFromGguf) {
  Fixture f;
  f.kv()["general.base_model.count"] = 2u;
  f.kv()["general.base_model.0.name"] = "Base";
  f.kv()["general.base_model.0.organization"] = "Org";
  f.kv()["general.base_model.0.version"] = "v1";
  f.kv()["general.base_model.1.repo_url"] = "https://huggingface.co/a/b";
  json a = model(f.build())["pedigree"]["ancestors"];
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0]["bom-ref"], "pedigree:ancestor:Org/Base@v1");
  EXPECT_EQ(a[1]["purl"], "pkg:huggingface/a/b");
}

TEST(BomGenerate, ModelCardFromFrontMatterConfigAndModelIndex) {
  Fixture f;
  f.card()["pipeline_tag"] = "text-generation";
  f.card()["datasets"] = json::array({"org/data-b", "data-a"});
  f.card()["model-index"] = json::parse(R"([{"name":"m","results":[{"task":{"type":"text-generation"},
      "dataset":{"name":"MMLU","type":"cais/mmlu","split":"test"},"metrics":[{"type":"accuracy","value":0.61},
      {"name":"no value"}]}]}])");
  f.card()["co2_eq_emissions"] = json::parse(R"({"emissions": 12.5, "source": "paper"})");
  f.art.metadata["hf"]["config"] = json::parse(R"({"model_type":"qwen2","architectures":["Qwen2ForCausalLM","X"]})");
  f.kv()["general.architecture"] = "llama";  // config.json wins
  json b = f.build();
  const json& mc = model(b)["modelCard"];
  EXPECT_EQ(mc["modelParameters"]["task"], "text-generation");
  EXPECT_EQ(mc["modelParameters"]["architectureFamily"], "qwen2");
  EXPECT_EQ(mc["modelParameters"]["modelArchitecture"], "Qwen2ForCausalLM");
  EXPECT_EQ(property(model(b), "pedigree:hf:architecture"), "X");
  EXPECT_EQ(mc["modelParameters"]["inputs"], json::parse(R"([{"format":"text"}])"));
  EXPECT_FALSE(mc["modelParameters"].contains("approach"));
  EXPECT_EQ(mc["modelParameters"]["datasets"],
            json::parse(R"([{"ref":"pedigree:dataset:data-a"},{"ref":"pedigree:dataset:org/data-b"}])"));
  EXPECT_EQ(mc["quantitativeAnalysis"]["performanceMetrics"],
            json::parse(R"j([{"type":"accuracy","value":"0.61","slice":"MMLU (test)"}])j"));
  EXPECT_EQ(mc["considerations"]["environmentalConsiderations"]["properties"],
            json::parse(R"([{"name":"co2_eq_emissions.emissions","value":"12.5"},{"name":"co2_eq_emissions.source","value":"paper"}])"));
  ASSERT_EQ(b["components"].size(), 2u);
  EXPECT_EQ(b["components"][0]["type"], "data");
  EXPECT_EQ(b["components"][0]["data"][0], json::parse(R"({"type":"dataset","name":"data-a"})"));
}

TEST(BomGenerate, UnknownTaskGivesNoInputsOutputs) {
  Fixture f;
  f.card()["pipeline_tag"] = "reinforcement-learning";
  json p = model(f.build())["modelCard"]["modelParameters"];
  EXPECT_FALSE(p.contains("inputs"));
  EXPECT_FALSE(p.contains("outputs"));
}

TEST(BomGenerate, OnnxInputsAndOutputs) {
  Fixture f;
  f.art.metadata["onnx"] = json::parse(R"({"inputs":[{"name":"input_ids","elem_type":"I64","shape":["batch","sequence"]}],
      "outputs":[{"name":"logits","elem_type":"F32","shape":["batch",null,260]}]})");
  json p = model(f.build())["modelCard"]["modelParameters"];
  EXPECT_EQ(p["inputs"], json::parse(R"([{"format":"input_ids: I64 [batch, sequence]"}])"));
  EXPECT_EQ(p["outputs"], json::parse(R"([{"format":"logits: F32 [batch, ?, 260]"}])"));
}

TEST(BomGenerate, GgufIdentityFields) {
  Fixture f;
  f.kv()["general.name"] = "My Model";
  f.kv()["general.version"] = "v2";
  f.kv()["general.organization"] = "Acme";
  f.kv()["general.author"] = "Jane";
  f.kv()["general.url"] = "https://acme.example/model";
  f.kv()["general.repo_url"] = "https://git.example/acme/model";
  f.kv()["general.tags"] = json::array({"b", "a"});
  json m = model(f.build());
  EXPECT_EQ(m["name"], "My Model");
  EXPECT_EQ(m["version"], "v2");
  EXPECT_EQ(m["purl"], "pkg:generic/My%20Model@v2?checksum=sha256:" + hex_rep("ab", 32));
  EXPECT_EQ(m["supplier"]["name"], "Acme");
  EXPECT_EQ(m["authors"][0]["name"], "Jane");
  EXPECT_EQ(m["tags"], json({"a", "b"}));
  EXPECT_EQ(m["externalReferences"],
            json::parse(R"([{"type":"vcs","url":"https://git.example/acme/model"},{"type":"website","url":"https://acme.example/model"}])"));
}

TEST(BomGenerate, HuggingFaceCacheRevisionAndOptionsOverride) {
  Fixture f;
  f.in.model_path = "/root/.cache/huggingface/hub/models--acme--tiny/snapshots/0123abcd/model.gguf";
  f.kv()["general.name"] = "ignored";
  json m = model(f.build());
  EXPECT_EQ(m["group"], "acme");
  EXPECT_EQ(m["name"], "tiny");
  EXPECT_EQ(m["version"], "0123abcd");
  EXPECT_EQ(m["purl"], "pkg:huggingface/acme/tiny@0123abcd");
  EXPECT_EQ(m["supplier"]["name"], "acme");
  EXPECT_EQ(m["externalReferences"],
            json::parse(R"([{"type":"distribution","url":"https://huggingface.co/acme/tiny/tree/0123abcd"},
                            {"type":"model-card","url":"https://huggingface.co/acme/tiny"}])"));
  f.opts.name = "N";
  f.opts.version = "7";
  f.opts.supplier = "S";
  f.opts.purl = "pkg:huggingface/o/n@r";
  m = model(f.build());
  EXPECT_EQ(m["name"], "N");
  EXPECT_EQ(m["version"], "7");
  EXPECT_EQ(m["supplier"]["name"], "S");
  EXPECT_EQ(m["purl"], "pkg:huggingface/o/n@r");
  EXPECT_EQ(m["externalReferences"][1]["url"], "https://huggingface.co/o/n");
}

TEST(BomGenerate, FingerprintPropertiesAndFindings) {
  Fixture f;
  f.art.findings.push_back({"unsafe-import", "error", "/models/m.gguf", 16, "imports os.system"});
  json m = model(f.build());
  EXPECT_EQ(property(m, "pedigree:format"), "gguf");
  EXPECT_EQ(property(m, "pedigree:manifest-root"), "sha256:" + hex_rep("cd", 32));
  EXPECT_EQ(property(m, "pedigree:tensor-named-root"), "sha256:" + hex_rep("11", 32));
  EXPECT_EQ(property(m, "pedigree:tensor-content-root"), "sha256:" + hex_rep("22", 32));
  EXPECT_EQ(property(m, "pedigree:parameters"), "6");
  EXPECT_EQ(property(m, "pedigree:dtype:F32"), "6");
  EXPECT_EQ(property(m, "pedigree:finding:unsafe-import"), "error: m.gguf: offset 0x10: imports os.system");
  std::vector<std::string> names;
  for (const json& p : m["properties"]) names.push_back(p["name"]);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(BomGenerate, BomRefsAreUniqueAndStable) {
  Fixture f;
  f.card()["datasets"] = json::array({"d"});
  f.card()["base_model"] = json::array({"a/b", "c/d"});
  f.art.files.push_back({"/models/x.data", "x.data", 4, ""});
  f.in.files.push_back({"x.data", 4, std::vector<uint8_t>(32, 9), {}});
  json b = f.build();
  std::multiset<std::string> refs;
  collect_refs(b, &refs);
  EXPECT_EQ(refs.size(), std::set<std::string>(refs.begin(), refs.end()).size());
  EXPECT_EQ(refs.size(), 6u);  // model, tool, one file, one dataset, two ancestors
  EXPECT_EQ(f.build().dump(), b.dump());
}

TEST(BomGenerate, DeterministicWithInjectedClockAndSerial) {
  Fixture f;
  f.opts.serial.clear();
  f.opts.timestamp.reset();
  int calls = 0;
  f.opts.clock = [] { return int64_t{86400}; };
  f.opts.random_serial = [&calls](std::string* s, Error*) {
    ++calls;
    *s = kSerial;
    return true;
  };
  json a = f.build(), b = f.build();
  EXPECT_EQ(a.dump(2), b.dump(2));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(a["metadata"]["timestamp"], "1970-01-02T00:00:00Z");
}

TEST(BomGenerate, RandomSerialIsVersion4) {
  std::string a, b;
  Error err;
  ASSERT_TRUE(random_uuid_urn(&a, &err));
  ASSERT_TRUE(random_uuid_urn(&b, &err));
  EXPECT_NE(a, b);
  EXPECT_TRUE(valid_serial(a)) << a;
  EXPECT_EQ(a[9 + 14], '4');
  EXPECT_NE(std::string("89ab").find(a[9 + 19]), std::string::npos) << a;
}

TEST(BomGenerate, NameSerialIsVersion5) {
  // Python: uuid.uuid5(uuid.NAMESPACE_URL, 'https://example.com/model')
  EXPECT_EQ(name_uuid_urn("https://example.com/model"), "urn:uuid:6e742602-380f-5c06-b23e-ff97e02e65de");
  EXPECT_NE(name_uuid_urn("a"), name_uuid_urn("b"));
}

TEST(BomGenerate, SerialValidation) {
  EXPECT_TRUE(valid_serial(kSerial));
  EXPECT_FALSE(valid_serial("urn:uuid:12345678-1234-4234-8234-123456789ABC"));
  EXPECT_FALSE(valid_serial("12345678-1234-4234-8234-123456789abc"));
  EXPECT_FALSE(valid_serial("urn:uuid:12345678-1234-4234-8234-123456789ab"));
  EXPECT_FALSE(valid_serial("urn:uuid:12345678x1234-4234-8234-123456789abc"));
  EXPECT_FALSE(valid_serial("urn:uuid:g2345678-1234-4234-8234-123456789abc"));
}

TEST(BomGenerate, Timestamps) {
  std::string s;
  ASSERT_TRUE(iso8601_utc(0, &s));
  EXPECT_EQ(s, "1970-01-01T00:00:00Z");
  ASSERT_TRUE(iso8601_utc(253402300799, &s));
  EXPECT_EQ(s, "9999-12-31T23:59:59Z");
  EXPECT_FALSE(iso8601_utc(-1, &s));
  EXPECT_FALSE(iso8601_utc(253402300800, &s));
}

TEST(BomGenerate, PurlEncoding) {
  EXPECT_EQ(purl_encode("a b/c@d"), "a%20b%2Fc%40d");
  EXPECT_EQ(purl_encode("Qwen2.5-7B_x~"), "Qwen2.5-7B_x~");
}

TEST(BomGenerate, OptionErrors) {
  auto error_of = [](const std::function<void(Fixture&)>& change) {
    Fixture f;
    change(f);
    f.in.art = &f.art;
    f.in.idx = &f.idx;
    json out;
    Error err;
    EXPECT_FALSE(build_bom(f.in, f.opts, &out, &err));
    return err.str();
  };
  EXPECT_EQ(error_of([](Fixture& f) { f.opts.spec_version = "1.5"; }),
            "--spec-version: '1.5' is not supported (1.6 or 1.7)");
  EXPECT_EQ(error_of([](Fixture& f) { f.opts.serial = "urn:uuid:X"; }),
            "--serial: 'urn:uuid:X' is not urn:uuid: followed by a lowercase RFC 4122 UUID");
  EXPECT_EQ(error_of([](Fixture& f) { f.opts.purl = "huggingface/a/b"; }),
            "--purl: 'huggingface/a/b' is not a package URL (pkg:TYPE/...)");
  EXPECT_EQ(error_of([](Fixture& f) { f.opts.base_models = {""}; }), "--base-model: base model reference is empty");
  EXPECT_EQ(error_of([](Fixture& f) { f.in.files[0].sha256.resize(31); }), ".: digest has the wrong length");
  EXPECT_EQ(error_of([](Fixture& f) { f.opts.timestamp = -5; }), "timestamp -5 is outside years 1970-9999");
  EXPECT_EQ(error_of([](Fixture& f) {
              f.opts.serial.clear();
              f.opts.random_serial = [](std::string*, Error* e) { return fail(e, "", std::nullopt, "no entropy"); };
            }),
            "no entropy");
}

TEST(BomGenerate, FilesFromManifests) {
  Manifest s, b;
  s.model_name = "m";
  b.model_name = "m";
  b.options.algorithm = HashAlgorithm::kBlake2b512;
  s.resources = {{"a", "/m/a", 0, 3, std::vector<uint8_t>(32, 1), {}}, {"b", "/m/b", 0, 4, std::vector<uint8_t>(32, 2), {}}};
  b.resources = {{"a", "/m/a", 0, 3, std::vector<uint8_t>(64, 3), {}}, {"b", "/m/b", 0, 4, std::vector<uint8_t>(64, 4), {}}};
  std::vector<BomFile> files;
  Error err;
  ASSERT_TRUE(bom_files_from_manifests(s, &b, &files, &err)) << err.str();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].name, "b");
  EXPECT_EQ(files[1].size, 4u);
  EXPECT_EQ(files[1].blake2b, std::vector<uint8_t>(64, 4));
  b.resources[1].name = "c";
  EXPECT_FALSE(bom_files_from_manifests(s, &b, &files, &err));
  EXPECT_EQ(err.str(), "b: missing from the BLAKE2b manifest");
  b.resources.pop_back();
  EXPECT_FALSE(bom_files_from_manifests(s, &b, &files, &err));
  EXPECT_EQ(err.str(), "m: SHA-256 and BLAKE2b manifests list different files");
  s.options.method = SerializationMethod::kShards;
  EXPECT_FALSE(bom_files_from_manifests(s, nullptr, &files, &err));
  EXPECT_EQ(err.str(), "m: bom needs a SHA-256 manifest of whole files");
}

}  // namespace
}  // namespace pedigree
