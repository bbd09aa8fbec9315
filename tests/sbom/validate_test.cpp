// Tests the CycloneDX validator (sbom/validate.cpp): CycloneDX's own spec
// tests, real AI-BOMs, the OWASP generator's invalid output, the beyond-schema
// checks, the reading caps (size, depth, malformed JSON) with exact messages,
// regex-heavy inputs that must not crash, and agreement with the node validator.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sbom/validate.h"
#include "tests/support/cdx_node.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string cdx_dir() {
  std::string shared = test::shared_dir();
  return shared.empty() ? "" : shared + "/fixtures/cyclonedx";
}

#define REQUIRE_CDX_FIXTURES()                                                          \
  if (cdx_dir().empty() || !fs::exists(cdx_dir())) GTEST_SKIP() << "../shared/fixtures/cyclonedx absent"

std::vector<std::string> files_in(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// Reads and validates a file; fails the test when it cannot be validated.
BomValidation validate_file(const std::string& path) {
  json doc;
  Error err;
  BomValidation v;
  EXPECT_TRUE(read_bom_file(path, &doc, &err)) << err.str();
  EXPECT_TRUE(validate_bom(doc, path, &v, &err)) << err.str();
  return v;
}

std::string issues_text(const BomValidation& v) {
  std::string s;
  for (const auto& e : v.schema_errors) s += "schema " + e.path + ": " + e.message + "\n";
  for (const auto& e : v.errors) s += "error " + e.path + ": " + e.message + "\n";
  return s;
}

bool has_path(const std::vector<BomIssue>& issues, const std::string& path) {
  return std::any_of(issues.begin(), issues.end(), [&](const BomIssue& i) { return i.path == path; });
}

json minimal(const std::string& version = "1.6") {
  return {{"bomFormat", "CycloneDX"}, {"specVersion", version}, {"version", 1}};
}

BomValidation validate_json(const json& doc) {
  BomValidation v;
  Error err;
  EXPECT_TRUE(validate_bom(doc, "t.json", &v, &err)) << err.str();
  return v;
}

std::string validate_error(const json& doc) {
  BomValidation v;
  Error err;
  EXPECT_FALSE(validate_bom(doc, "t.json", &v, &err));
  return err.str();
}

std::string parse_error(std::string_view bytes) {
  json doc;
  Error err;
  EXPECT_FALSE(parse_bom(bytes, "t.json", &doc, &err));
  return err.str();
}

// ---------------------------------------------------------------- fixtures

TEST(BomValidateFixtures, SpecTestsValidAndInvalid) {
  REQUIRE_CDX_FIXTURES();
  std::string dir = cdx_dir() + "/spec-tests";
  auto valid = files_in(dir, "valid-"), invalid = files_in(dir, "invalid-");
  // CycloneDX's 1.6 and 1.7 test documents as shipped in ../shared: 12 valid, 4 invalid.
  EXPECT_EQ(valid.size(), 12u);
  EXPECT_EQ(invalid.size(), 4u);
  for (const std::string& f : valid) {
    BomValidation v = validate_file(f);
    EXPECT_TRUE(v.valid()) << f << "\n" << issues_text(v);
  }
  for (const std::string& f : invalid) EXPECT_FALSE(validate_file(f).valid()) << f;
}

TEST(BomValidateFixtures, InvalidSpecTestsNameTheField) {
  REQUIRE_CDX_FIXTURES();
  for (const std::string v : {"1.6", "1.7"}) {
    BomValidation alg = validate_file(cdx_dir() + "/spec-tests/invalid-hash-alg-" + v + ".json");
    ASSERT_FALSE(alg.schema_errors.empty());
    EXPECT_EQ(alg.schema_errors[0].path, "/components/0/hashes/0/alg");
    EXPECT_EQ(alg.schema_errors[0].message, "failed to match against any enum values (value \"FOO\")");
    BomValidation sha = validate_file(cdx_dir() + "/spec-tests/invalid-hash-sha256-" + v + ".json");
    EXPECT_TRUE(has_path(sha.schema_errors, "/components/0/hashes/2/content"));
    ASSERT_EQ(sha.errors.size(), 1u);
    EXPECT_EQ(sha.errors[0].path, "/components/0/hashes/2/content");
    EXPECT_EQ(sha.errors[0].message, "SHA-256 digest has 3 hex digits, expected 64");
  }
}

TEST(BomValidateFixtures, SignedSpecTestsLeaveSignaturesToTheVerifier) {
  REQUIRE_CDX_FIXTURES();
  BomValidation v = validate_file(cdx_dir() + "/spec-tests/valid-signatures-1.6.json");
  EXPECT_TRUE(v.valid()) << issues_text(v);
  EXPECT_EQ(v.signatures.size(), 4u);
}

TEST(BomValidateFixtures, ManifestCyberAiBomsValidate) {
  REQUIRE_CDX_FIXTURES();
  auto files = files_in(cdx_dir() + "/manifest-cyber", "");
  ASSERT_EQ(files.size(), 3u);
  for (const std::string& f : files) {
    BomValidation v = validate_file(f);
    EXPECT_EQ(v.spec_version, "1.5");
    EXPECT_TRUE(v.valid()) << f << "\n" << issues_text(v);
    EXPECT_FALSE(v.warnings.empty()) << f;  // none of them carries model hashes
  }
}

TEST(BomValidateFixtures, OwaspOutputRejectedForSerialAndLicence) {
  REQUIRE_CDX_FIXTURES();
  BomValidation v = validate_file(cdx_dir() + "/owasp-aibom-generator/expected_aibom.HF_files-tests-fixtures.json");
  EXPECT_FALSE(v.valid());
  EXPECT_TRUE(has_path(v.schema_errors, "/serialNumber")) << issues_text(v);
  EXPECT_TRUE(has_path(v.schema_errors, "/components/0/licenses/0/license/id")) << issues_text(v);
  auto serial = std::find_if(v.schema_errors.begin(), v.schema_errors.end(),
                             [](const BomIssue& i) { return i.path == "/serialNumber"; });
  EXPECT_NE(serial->message.find("(value \"urn:uuid:test-uuid-placeholder\")"), std::string::npos);
}

TEST(BomValidateFixtures, AgreesWithNodeValidator) {
  REQUIRE_CDX_FIXTURES();
  std::vector<std::string> files = files_in(cdx_dir() + "/spec-tests", "");
  for (const auto& f : files_in(cdx_dir() + "/manifest-cyber", "")) files.push_back(f);
  files.push_back(cdx_dir() + "/owasp-aibom-generator/expected_aibom.HF_files-tests-fixtures.json");
  std::vector<test::NodeResult> node;
  std::string why;
  if (!test::node_validate(files, &node, &why)) GTEST_SKIP() << why;
  ASSERT_EQ(node.size(), files.size());
  size_t valid = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    ASSERT_TRUE(node[i].error.empty()) << files[i] << ": " << node[i].error;
    EXPECT_EQ(node[i].file, files[i]);
    BomValidation ours = validate_file(files[i]);
    EXPECT_EQ(ours.spec_version, node[i].spec_version) << files[i];
    EXPECT_EQ(ours.valid(), node[i].valid) << files[i] << "\n" << issues_text(ours);
    valid += node[i].valid;
    // Every place ajv names is one we name too.
    for (const std::string& p : node[i].error_paths)
      EXPECT_TRUE(has_path(ours.schema_errors, p)) << files[i] << ": ajv error at " << p << " not reported";
  }
  EXPECT_EQ(valid, 15u);  // 12 spec-tests valid-*, 3 manifest-cyber
}

// ---------------------------------------------------------------- reading

TEST(BomValidateParse, Malformed) {
  EXPECT_EQ(parse_error("{\"bomFormat\": \"CycloneDX\",\n  \"specVersion\": "),
            "t.json: offset 0x2c: malformed JSON at line 2, column 18: syntax error while parsing value - "
            "unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(parse_error("{\"a\": tru}"),
            "t.json: offset 0x9: malformed JSON at line 1, column 10: syntax error while parsing value - "
            "invalid literal; last read: '\"a\": tru}'");
  EXPECT_EQ(parse_error(""),
            "t.json: offset 0x0: malformed JSON at line 1, column 1: syntax error while parsing value - "
            "unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(parse_error("{\"a\": \"\xff\"}"),
            "t.json: offset 0x7: malformed JSON at line 1, column 8: syntax error while parsing value - "
            "invalid string: ill-formed UTF-8 byte; last read: '\"\xff'");
}

TEST(BomValidateParse, DeepNestingStopsAtCap) {
  std::string deep(100000, '[');
  EXPECT_EQ(parse_error(deep), "t.json: offset 0x80: nesting deeper than 128 levels at line 1, column 129");
  std::string objects;
  for (int i = 0; i < 200; ++i) objects += "{\"a\":";
  EXPECT_EQ(parse_error(objects), "t.json: offset 0x280: nesting deeper than 128 levels at line 1, column 641");
  // Brackets inside strings do not count.
  json doc;
  Error err;
  EXPECT_TRUE(parse_bom("{\"a\": \"" + std::string(1000, '[') + "\\\"[\"}", "t.json", &doc, &err)) << err.str();
}

TEST(BomValidateParse, SizeCap) {
  std::string big(kMaxBomBytes + 1, ' ');
  EXPECT_EQ(parse_error(big), "t.json: document of 64.0 MiB exceeds the 64.0 MiB cap");
}

TEST(BomValidateParse, NotABom) {
  EXPECT_EQ(validate_error(json::array()), "t.json: root is array, not an object");
  EXPECT_EQ(validate_error(json("text")), "t.json: root is string, not an object");
  EXPECT_EQ(validate_error(json{{"bomFormat", "CycloneDX"}}), "t.json: /specVersion is missing");
  EXPECT_EQ(validate_error(json{{"specVersion", 1.6}}), "t.json: /specVersion is number, not a string");
  EXPECT_EQ(validate_error(minimal("1.3")),
            "t.json: /specVersion \"1.3\" is not supported (supported: 1.4, 1.5, 1.6, 1.7)");
}

// ---------------------------------------------------------------- schema

TEST(BomValidateSchema, EverySupportedVersionAcceptsAMinimalBom) {
  for (const std::string& v : supported_spec_versions()) {
    BomValidation r = validate_json(minimal(v));
    EXPECT_TRUE(r.valid()) << v << "\n" << issues_text(r);
    EXPECT_EQ(r.spec_version, v);
  }
}

TEST(BomValidateSchema, WrongTypesInsideAreSchemaErrors) {
  json doc = minimal();
  doc["components"] = "not an array";
  doc["version"] = "1";
  BomValidation v = validate_json(doc);
  EXPECT_FALSE(v.valid());
  EXPECT_TRUE(has_path(v.schema_errors, "/components")) << issues_text(v);
  EXPECT_TRUE(has_path(v.schema_errors, "/version")) << issues_text(v);
}

TEST(BomValidateSchema, PointersEscapeSlashAndTilde) {
  json doc = minimal();
  doc["a/b~c"] = 1;  // additionalProperties: false at the root
  BomValidation v = validate_json(doc);
  ASSERT_EQ(v.schema_errors.size(), 1u) << issues_text(v);
  EXPECT_EQ(v.schema_errors[0].path, "");
  EXPECT_EQ(v.schema_errors[0].message,
            "object contains a property that could not be validated using 'properties' or "
            "'additionalProperties' constraints: 'a/b~c'");
}

TEST(BomValidateSchema, DateTimeFormatChecked) {
  json doc = minimal();
  doc["metadata"] = {{"timestamp", "2024-02-30T00:00:00Z"}};
  BomValidation v = validate_json(doc);
  ASSERT_EQ(v.schema_errors.size(), 1u) << issues_text(v);
  EXPECT_EQ(v.schema_errors[0].path, "/metadata/timestamp");
  EXPECT_EQ(v.schema_errors[0].message, "string is not a valid date-time (value \"2024-02-30T00:00:00Z\")");
  doc["metadata"]["timestamp"] = "2024-02-29T23:59:60.5+02:00";
  EXPECT_TRUE(validate_json(doc).valid());
}

TEST(BomValidateSchema, LongStringsDoNotCrashTheRegexEngine) {
  json doc = minimal();
  std::string tail(200000, 'a');
  doc["serialNumber"] = "urn:uuid:" + tail;
  doc["components"] = {{{"type", "data"},
                        {"name", "d"},
                        {"externalReferences",
                         {{{"type", "bom"}, {"url", "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#" + tail}}}}}};
  BomValidation v = validate_json(doc);
  ASSERT_EQ(v.schema_errors.size(), 1u) << issues_text(v);
  EXPECT_EQ(v.schema_errors[0].path, "/serialNumber");
  EXPECT_EQ(v.schema_errors[0].message,
            "string of 195.3 KiB exceeds the 4.0 KiB this validator checks against pattern "
            "'^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'");
}

TEST(BomValidateSchema, UniqueItemsInLinearTime) {
  json doc = minimal();
  json deps = json::array(), comps = json::array();
  for (int i = 0; i < 200000; ++i) deps.push_back("r" + std::to_string(i));
  deps.push_back("r7");
  comps.push_back({{"type", "library"}, {"name", "x"}, {"bom-ref", "r0"}});
  doc["components"] = comps;
  doc["dependencies"] = {{{"ref", "r0"}, {"dependsOn", deps}}};
  BomValidation v = validate_json(doc);
  ASSERT_EQ(v.schema_errors.size(), 1u) << issues_text(v);
  EXPECT_EQ(v.schema_errors[0].path, "/dependencies/0/dependsOn");
  EXPECT_EQ(v.schema_errors[0].message, "items #7 and #200000 are equal (uniqueItems)");
  EXPECT_EQ(v.errors.size(), 200000u);  // every ref but r0 dangles
}

TEST(BomValidateSchema, SignatureSubtreesSkipped) {
  json doc = minimal();
  doc["signature"] = {{"algorithm", "ES256"}, {"value", "abc"}};
  doc["components"] = {{{"type", "library"}, {"name", "x"}, {"signature", {{"algorithm", "RS256"}}}}};
  BomValidation v = validate_json(doc);
  EXPECT_TRUE(v.valid()) << issues_text(v);
  EXPECT_EQ(v.signatures, (std::vector<std::string>{"/signature", "/components/0/signature"}));
}

// ---------------------------------------------------------------- beyond schema

TEST(BomValidateRefs, DuplicateAndDanglingRefs) {
  json doc = minimal();
  doc["components"] = {{{"type", "library"}, {"name", "a"}, {"bom-ref", "a"}},
                       {{"type", "library"}, {"name", "b"}, {"bom-ref", "a"}}};
  doc["dependencies"] = {{{"ref", "a"}, {"dependsOn", {"b", "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#x"}}},
                         {{"ref", "zz"}}};
  doc["compositions"] = {{{"aggregate", "complete"}, {"assemblies", {"a", "q"}}}};
  BomValidation v = validate_json(doc);
  EXPECT_TRUE(v.schema_errors.empty()) << issues_text(v);
  ASSERT_EQ(v.errors.size(), 4u) << issues_text(v);
  EXPECT_EQ(v.errors[0].path, "/components/1/bom-ref");
  EXPECT_EQ(v.errors[0].message, "bom-ref \"a\" is not unique (also at /components/0/bom-ref)");
  EXPECT_EQ(v.errors[1].path, "/dependencies/0/dependsOn/0");
  EXPECT_EQ(v.errors[1].message, "reference \"b\" matches no bom-ref");
  EXPECT_EQ(v.errors[2].path, "/dependencies/1/ref");
  EXPECT_EQ(v.errors[3].path, "/compositions/0/assemblies/1");
}

TEST(BomValidateRefs, NestedAndPedigreeRefsResolve) {
  json doc = minimal();
  doc["metadata"] = {{"component", {{"type", "application"}, {"name", "m"}, {"bom-ref", "m"}}}};
  json nested = {{"type", "library"}, {"name", "n"}, {"bom-ref", "n"}};
  json ancestor = {{"type", "library"}, {"name", "p"}, {"bom-ref", "p"}};
  json a = {{"type", "library"}, {"name", "a"}, {"bom-ref", "a"}};
  a["components"] = json::array({nested});
  a["pedigree"] = {{"ancestors", json::array({ancestor})}};
  doc["components"] = json::array({a});
  doc["dependencies"] = {{{"ref", "m"}, {"dependsOn", {"a", "n", "p"}}}};
  BomValidation v = validate_json(doc);
  EXPECT_TRUE(v.valid()) << issues_text(v);
}

TEST(BomValidateHashes, LengthFollowsAlgorithm) {
  json doc = minimal();
  std::string h40(40, 'a'), h64(64, 'b'), h128(128, 'c');
  json hashes = json::array();
  for (const auto& [alg, content] : std::vector<std::pair<std::string, std::string>>{
           {"SHA-256", h40}, {"SHA-1", h40}, {"BLAKE3", h64}, {"SHA3-384", h128}, {"MD5", h64}})
    hashes.push_back({{"alg", alg}, {"content", content}});
  doc["components"] = json::array({{{"type", "file"}, {"name", "f"}, {"hashes", hashes}}});
  BomValidation v = validate_json(doc);
  EXPECT_TRUE(v.schema_errors.empty()) << issues_text(v);  // the schema accepts any of the lengths
  ASSERT_EQ(v.errors.size(), 3u) << issues_text(v);
  EXPECT_EQ(v.errors[0].path, "/components/0/hashes/0/content");
  EXPECT_EQ(v.errors[0].message, "SHA-256 digest has 40 hex digits, expected 64");
  EXPECT_EQ(v.errors[1].message, "SHA3-384 digest has 128 hex digits, expected 96");
  EXPECT_EQ(v.errors[2].message, "MD5 digest has 64 hex digits, expected 32");
}

TEST(BomValidateModels, ModelCardRequiredAndCompletenessWarned) {
  json doc = minimal();
  doc["components"] = {{{"type", "machine-learning-model"}, {"name", "bare"}},
                       {{"type", "machine-learning-model"},
                        {"name", "full"},
                        {"hashes", {{{"alg", "SHA-256"}, {"content", std::string(64, 'a')}}}},
                        {"licenses", {{{"license", {{"id", "Apache-2.0"}}}}}},
                        {"modelCard",
                         {{"modelParameters", {{"task", "text-generation"}, {"datasets", {{{"ref", "d"}}}}}},
                          {"considerations", {{"useCases", {"chat"}}}}}}},
                       {{"type", "data"}, {"name", "d"}, {"bom-ref", "d"}}};
  BomValidation v = validate_json(doc);
  EXPECT_TRUE(v.schema_errors.empty()) << issues_text(v);
  ASSERT_EQ(v.errors.size(), 1u) << issues_text(v);
  EXPECT_EQ(v.errors[0].path, "/components/0");
  EXPECT_EQ(v.errors[0].message, "machine-learning-model component \"bare\" has no modelCard");
  ASSERT_EQ(v.warnings.size(), 2u);
  EXPECT_EQ(v.warnings[0].path, "/components/0/licenses");
  EXPECT_EQ(v.warnings[0].message, "model \"bare\" has no licenses");
  EXPECT_EQ(v.warnings[1].path, "/components/0/hashes");
}

TEST(BomValidateModels, CardWithoutTaskOrDatasetsWarns) {
  json doc = minimal();
  doc["components"] = {{{"type", "machine-learning-model"}, {"name", "m"}, {"modelCard", json::object()}}};
  BomValidation v = validate_json(doc);
  EXPECT_TRUE(v.valid()) << issues_text(v);
  std::vector<std::string> paths;
  for (const auto& w : v.warnings) paths.push_back(w.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"/components/0/modelCard/modelParameters/task",
                                             "/components/0/modelCard/modelParameters/datasets",
                                             "/components/0/modelCard/considerations", "/components/0/licenses",
                                             "/components/0/hashes"}));
}

TEST(BomValidateModels, PedigreeAncestorWithoutCardOnlyWarns) {
  json doc = minimal();
  json model = {{"type", "machine-learning-model"}, {"name", "m"}, {"modelCard", json::object()}};
  json base = {{"type", "machine-learning-model"}, {"name", "base"}};
  model["pedigree"] = {{"ancestors", json::array({base})}};
  doc["components"] = json::array({model});
  BomValidation v = validate_json(doc);
  EXPECT_TRUE(v.valid()) << issues_text(v);
  EXPECT_TRUE(has_path(v.warnings, "/components/0/pedigree/ancestors/0"));
}

}  // namespace
}  // namespace pedigree
