// Tests of signing/trusted_root.cpp: the fixture ClientTrustConfig and a bare
// TrustedRoot parse with their logs, authorities and windows; RFC 3339 times;
// each malformed member fails with its message.
#include "signing/trusted_root.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using nlohmann::json;

// A P-256 SubjectPublicKeyInfo (the fixture Rekor key shape) in base64.
std::string sample_key() {
  std::string s = test::shared_dir();
  if (s.empty()) return {};
  std::ifstream in(s + "/fixtures/oms-model-transparency/trust/custom_trust_config.json");
  return json::parse(in)["trustedRoot"]["tlogs"][0]["publicKey"]["rawBytes"];
}

std::string why_of(const json& j) {
  TrustedRoot r;
  Error err;
  EXPECT_FALSE(parse_trusted_root(j.dump(), "t.json", &r, &err));
  return err.str();
}

TEST(SigningTrustedRoot, Rfc3339) {
  EXPECT_EQ(parse_rfc3339("2021-01-12T11:53:27.000Z"), time_t(1610452407));
  EXPECT_EQ(parse_rfc3339("2021-01-12T11:53:27Z"), time_t(1610452407));
  EXPECT_EQ(format_rfc3339(1610452407), "2021-01-12T11:53:27Z");
  for (const char* bad : {"", "2021-01-12", "2021-01-12T11:53:27", "2021-01-12T11:53:27+01:00", "2021-13-12T11:53:27Z",
                          "2021-01-12T11:53:27.Z", "2021-01-12 11:53:27Z", "20x1-01-12T11:53:27Z"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(SigningTrustedRoot, FixtureTrustConfig) {
  std::string s = test::shared_dir();
  if (s.empty()) GTEST_SKIP() << "../shared is absent";
  TrustedRoot r;
  Error err;
  ASSERT_TRUE(read_trusted_root(s + "/fixtures/oms-model-transparency/trust/custom_trust_config.json", &r, &err))
      << err.str();
  ASSERT_EQ(r.tlogs.size(), 1u);
  EXPECT_EQ(r.tlogs[0].base_url, "https://rekor.sigstore.dev");
  EXPECT_EQ(r.tlogs[0].key_id.size(), 32u);
  EXPECT_EQ(r.tlogs[0].valid.start, parse_rfc3339("2021-01-12T11:53:27Z"));
  EXPECT_FALSE(r.tlogs[0].valid.end);
  ASSERT_EQ(r.certificate_authorities.size(), 2u);
  EXPECT_EQ(r.certificate_authorities[1].chain_der.size(), 2u);
  EXPECT_TRUE(r.certificate_authorities[0].valid.contains(*parse_rfc3339("2022-01-01T00:00:00Z")));
  EXPECT_FALSE(r.certificate_authorities[0].valid.contains(*parse_rfc3339("2023-01-01T00:00:00Z")));
  EXPECT_EQ(r.ctlogs.size(), 2u);
  ASSERT_EQ(r.timestamp_authorities.size(), 1u);
  EXPECT_EQ(r.timestamp_authorities[0].chain_der.size(), 3u);
}

TEST(SigningTrustedRoot, MalformedRoots) {
  std::string key = sample_key();
  if (key.empty()) GTEST_SKIP() << "../shared is absent";
  json base = {{"mediaType", "application/vnd.dev.sigstore.trustedroot+json;version=0.1"},
               {"tlogs", json::array({{{"publicKey", {{"rawBytes", key}}}, {"logId", {{"keyId", "AAAA"}}}}})}};
  TrustedRoot r;
  Error err;
  EXPECT_TRUE(parse_trusted_root(base.dump(), "t.json", &r, &err)) << err.str();
  EXPECT_EQ(why_of(json::array()), "t.json: trusted root is not a JSON object");
  EXPECT_EQ(why_of(json::object()), "t.json: trusted root has no mediaType string");
  EXPECT_EQ(why_of({{"mediaType", "x"}}), "t.json: media type 'x' is not a Sigstore trusted root or client trust config");
  EXPECT_EQ(why_of({{"mediaType", "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}}),
            "t.json: trust config has no trustedRoot");
  json nested = {{"mediaType", "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}};
  nested["trustedRoot"] = nested;
  EXPECT_EQ(why_of(nested), "t.json: media type 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json' is not a "
                            "Sigstore trusted root or client trust config");
  json j = base;
  j["tlogs"][0]["publicKey"]["rawBytes"] = "AAAA";
  EXPECT_EQ(why_of(j), "t.json: tlogs[0].publicKey is not a supported public key: not a DER public key");
  j = base;
  j["tlogs"][0].erase("logId");
  EXPECT_EQ(why_of(j), "t.json: tlogs[0] has no logId object");
  j = base;
  j["tlogs"][0]["publicKey"]["validFor"] = {{"start", "yesterday"}};
  EXPECT_EQ(why_of(j), "t.json: tlogs[0].publicKey.validFor.start is not an RFC 3339 time");
  j = base;
  j["ctlogs"] = json::object();
  EXPECT_EQ(why_of(j), "t.json: ctlogs is not an array");
  j = base;
  j["certificateAuthorities"] = json::array({{{"certChain", {{"certificates", json::array()}}}}});
  EXPECT_EQ(why_of(j), "t.json: certificateAuthorities[0] has no certChain.certificates");
  j = base;
  j["timestampAuthorities"] = json::array({{{"certChain", {{"certificates", json::array({{{"rawBytes", "@"}}})}}}}});
  EXPECT_EQ(why_of(j), "t.json: timestampAuthorities[0].certChain.certificates[0].rawBytes is not valid base64");
  j = base;
  j["tlogs"] = json::array();
  for (int i = 0; i < 65; ++i) j["tlogs"].push_back(base["tlogs"][0]);
  EXPECT_EQ(why_of(j), "t.json: tlogs has 65 entries, more than the cap of 64");
  TrustedRoot r2;
  EXPECT_FALSE(parse_trusted_root("{", "t.json", &r2, &err));
  EXPECT_EQ(err.str(), "t.json: trusted root is not JSON");
}

}  // namespace
}  // namespace pedigree
