// Tests of signing/statement.cpp: the payload built from a manifest reads
// back, follows the OMS v1.0 statement and predicate schema rules (checked by
// hand), and every malformed or foreign payload has its own message.
#include "signing/statement.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using nlohmann::json;

Manifest sample_manifest(SerializationMethod method = SerializationMethod::kFiles) {
  Manifest m;
  m.model_name = "model";
  m.options.method = method;
  m.options.shard_size = 4;
  m.effective_ignore_paths = {".git", "model.sig"};
  std::vector<uint8_t> d1(32, 0x11), d2(32, 0x22);
  m.resources = {{"a.bin", "", 0, 3, d1}, {"b/c.bin", "", 0, 8, d2}};
  return m;
}

std::string parse_error(const json& j) {
  Statement st;
  Error err;
  EXPECT_FALSE(parse_statement(j.dump(), "model.sig", &st, &err));
  return err.str();
}

TEST(SigningStatement, PayloadRoundTrips) {
  for (SerializationMethod method : {SerializationMethod::kFiles, SerializationMethod::kShards}) {
    Manifest m = sample_manifest(method);
    Statement st;
    Error err;
    ASSERT_TRUE(parse_statement(statement_payload(m), "model.sig", &st, &err)) << err.str();
    EXPECT_FALSE(st.legacy);
    EXPECT_EQ(st.subject_name, "model");
    EXPECT_EQ(st.subject_digest, manifest_root(m.resources));
    EXPECT_EQ(st.options.method, method);
    EXPECT_EQ(st.options.shard_size, method == SerializationMethod::kShards ? 4u : 1000000000u);
    EXPECT_TRUE(st.records_ignore_paths);
    EXPECT_EQ(st.options.ignore_paths, m.effective_ignore_paths);
    ASSERT_EQ(st.resources.size(), 2u);
    EXPECT_EQ(st.resources[1].name, "b/c.bin");
    EXPECT_EQ(st.resources[1].digest, m.resources[1].digest);
  }
}

// statement.schema.json and predicate.schema.json, rule by rule.
TEST(SigningStatement, PayloadFollowsTheSchemaRules) {
  json j = json::parse(statement_payload(sample_manifest(SerializationMethod::kShards)));
  std::set<std::string> keys;
  for (auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"_type", "subject", "predicateType", "predicate"}));
  EXPECT_EQ(j["_type"], "https://in-toto.io/Statement/v1");
  EXPECT_EQ(j["predicateType"], "https://model_signing/signature/v1.0");
  ASSERT_EQ(j["subject"].size(), 1u);
  EXPECT_FALSE(j["subject"][0]["name"].get<std::string>().empty());
  for (auto& [alg, hex] : j["subject"][0]["digest"].items())
    EXPECT_EQ(hex.get<std::string>().find_first_not_of("0123456789abcdef"), std::string::npos);
  keys.clear();
  for (auto& [k, v] : j["predicate"].items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"resources", "serialization"}));
  const json& s = j["predicate"]["serialization"];
  for (auto& [k, v] : s.items())
    EXPECT_TRUE(k == "method" || k == "hash_type" || k == "allow_symlinks" || k == "shard_size" ||
                k == "ignore_paths") << k;
  EXPECT_TRUE(s["allow_symlinks"].is_boolean());
  EXPECT_TRUE(s["shard_size"].is_number_unsigned());
  for (const json& r : j["predicate"]["resources"]) {
    EXPECT_FALSE(r["name"].get<std::string>().empty());
    EXPECT_EQ(r["algorithm"], "sha256");
    EXPECT_EQ(r["digest"].get<std::string>().find_first_not_of("0123456789abcdef"), std::string::npos);
  }
}

TEST(SigningStatement, ForeignAndMalformedPayloads) {
  json good = json::parse(statement_payload(sample_manifest()));
  Statement st;
  Error err;
  EXPECT_FALSE(parse_statement("{\"_type\": ", "model.sig", &st, &err));
  EXPECT_EQ(err.str(), "model.sig: signed payload: not JSON");
  json j = good;
  j["predicateType"] = "https://slsa.dev/provenance/v1";
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: predicate type 'https://slsa.dev/provenance/v1' is not "
                            "https://model_signing/signature/v1.0");
  j = good;
  j["_type"] = "https://in-toto.io/Statement/v0.1";
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: statement type 'https://in-toto.io/Statement/v0.1' is not "
                            "https://in-toto.io/Statement/v1");
  j = good;
  j["subject"].push_back(j["subject"][0]);
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: statement does not have exactly one subject");
  j = good;
  j["subject"][0]["digest"]["sha256"] = "zz";
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: subject digest is not a hex digest");
  j = good;
  j["predicate"]["serialization"]["method"] = "tensors";
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: serialization.method is not 'files' or 'shards'");
  j = good;
  j["predicate"]["serialization"]["hash_type"] = "blake3";
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: hash type 'blake3' is not supported (sha256 or blake2b)");
  j = good;
  j["predicate"]["serialization"]["method"] = "shards";
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: serialization.shard_size is not a positive integer");
  j = good;
  j["predicate"]["serialization"].erase("allow_symlinks");
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: serialization.allow_symlinks is not a boolean");
  j = good;
  j["predicate"]["resources"][0]["algorithm"] = "blake2b";
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: resource 0 (a.bin) algorithm 'blake2b' differs from "
                            "hash_type 'sha256'");
  j = good;
  j["predicate"]["resources"][1]["digest"] = "abcd";
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: resource 1 (b/c.bin) digest has 2 bytes, not 32");
  j = good;
  j["predicate"]["resources"][0].erase("name");
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: resource 0 has no name");
  j = good;
  j["predicate"]["serialization"]["ignore_paths"] = {""};
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: serialization.ignore_paths holds a non-string or empty entry");
}

TEST(SigningStatement, LegacyDigestsPayload) {
  json j = {{"_type", "https://in-toto.io/Statement/v1"},
            {"subject", {{{"name", "f"}, {"digest", {{"sha256", std::string(64, 'a')}}}}}},
            {"predicateType", "https://model_signing/Digests/v0.1"},
            {"predicate", {{"unused", "x"}}}};
  Statement st;
  Error err;
  ASSERT_TRUE(parse_statement(j.dump(), "model.sig", &st, &err)) << err.str();
  EXPECT_TRUE(st.legacy);
  ASSERT_EQ(st.resources.size(), 1u);
  EXPECT_EQ(st.resources[0].name, "f");
  j["subject"][0]["digest"]["sha256"] = "aa";
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: legacy subject f digest is not 32 bytes");
  // Fuzzer finding: a legacy statement without "subject" read a missing key of a const object (assertion).
  j.erase("subject");
  j["subEect"] = json::array();
  EXPECT_EQ(parse_error(j), "model.sig: signed payload: legacy statement has no subject array");
}

}  // namespace
}  // namespace pedigree
