// Tests of signing/bundle.cpp: a written bundle reads back, every way a
// bundle can be unreadable (exit 2) or unacceptable (exit 1) has its own
// message, and the hand-checked rules of the OMS v1.0 bundle and envelope
// schemas hold for what Pedigree writes.
#include "signing/bundle.h"

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>
#include <set>

#include "signing/certs.h"
#include "signing/encoding.h"
#include "tests/support/pki_util.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using nlohmann::json;

Bundle sample_key_bundle() {
  Bundle b;
  b.key_hint = "ab12";
  b.payload = "{\"_type\":\"x\"}";
  b.signature = std::string("\x30\x45\x00\xff", 4);
  return b;
}

json sample_json() { return json::parse(bundle_text(sample_key_bundle())); }

struct Parsed {
  BundleStatus status;
  std::string message;
};

Parsed parse(const std::string& text) {
  Bundle b;
  Error err;
  BundleStatus st = parse_bundle(text, "model.sig", &b, &err);
  return {st, st == BundleStatus::kOk ? "" : err.str()};
}

Parsed parse(const json& j) { return parse(j.dump()); }

TEST(SigningBundle, KeyBundleRoundTrips) {
  Bundle b;
  Error err;
  ASSERT_EQ(parse_bundle(bundle_text(sample_key_bundle()), "model.sig", &b, &err), BundleStatus::kOk) << err.str();
  EXPECT_EQ(b.material, BundleMaterial::kPublicKey);
  EXPECT_EQ(b.key_hint, "ab12");
  EXPECT_EQ(b.payload, sample_key_bundle().payload);
  EXPECT_EQ(b.signature, sample_key_bundle().signature);
}

TEST(SigningBundle, CertificateBundleRoundTrips) {
  test::TestPki p = test::make_pki();
  test::TempDir t;
  std::vector<CertPtr> certs;
  Error err;
  ASSERT_TRUE(load_pem_certificates(t.write("c.pem", p.leaf.cert_pem + p.intermediate.cert_pem), &certs, &err));
  Bundle in = sample_key_bundle();
  in.material = BundleMaterial::kCertificateChain;
  for (const CertPtr& c : certs) in.certificates.push_back(certificate_der(c.get()));
  Bundle out;
  ASSERT_EQ(parse_bundle(bundle_text(in), "model.sig", &out, &err), BundleStatus::kOk) << err.str();
  EXPECT_EQ(out.material, BundleMaterial::kCertificateChain);
  EXPECT_EQ(out.certificates, in.certificates);
}

// The OMS v1.0 bundle.schema.json and envelope.schema.json rules, checked by hand
// (no JSON Schema validator in the build; docs/signing.md records the jsonschema run).
TEST(SigningBundle, WrittenBundleFollowsTheSchemaRules) {
  json j = sample_json();
  std::set<std::string> top;
  for (auto& [k, v] : j.items()) top.insert(k);
  EXPECT_EQ(top, (std::set<std::string>{"mediaType", "verificationMaterial", "dsseEnvelope"}));
  EXPECT_EQ(j["mediaType"].get<std::string>().rfind("application/vnd.dev.sigstore.bundle", 0), 0u);
  EXPECT_TRUE(j["verificationMaterial"]["publicKey"]["hint"].is_string());
  EXPECT_TRUE(j["verificationMaterial"]["tlogEntries"].is_array());
  const json& env = j["dsseEnvelope"];
  std::set<std::string> env_keys;
  for (auto& [k, v] : env.items()) env_keys.insert(k);
  EXPECT_EQ(env_keys, (std::set<std::string>{"payload", "payloadType", "signatures"}));
  EXPECT_EQ(env["payloadType"], "application/vnd.in-toto+json");
  EXPECT_FALSE(env["payload"].get<std::string>().empty());
  ASSERT_EQ(env["signatures"].size(), 1u);
  for (auto& [k, v] : env["signatures"][0].items()) EXPECT_TRUE(k == "sig" || k == "keyid") << k;
  EXPECT_FALSE(env["signatures"][0]["sig"].get<std::string>().empty());
}

TEST(SigningBundle, UnreadableBundles) {
  EXPECT_EQ(parse(std::string()).message, "model.sig: signature file is empty");
  Parsed p = parse(std::string("{\"mediaType\": \"appl"));
  EXPECT_EQ(p.status, BundleStatus::kUnreadable);
  EXPECT_EQ(p.message, "model.sig: offset 0x13: bundle is truncated (JSON ends early)");
  p = parse(std::string("{\"a\": tru}"));
  EXPECT_EQ(p.status, BundleStatus::kUnreadable);
  EXPECT_EQ(p.message, "model.sig: offset 0x9: bundle is not JSON");
  p = parse(std::string("hello"));
  EXPECT_EQ(p.message, "model.sig: offset 0x0: bundle is not JSON");
  std::string truncated = bundle_text(sample_key_bundle());
  truncated.resize(truncated.size() / 2);
  p = parse(truncated);
  EXPECT_EQ(p.status, BundleStatus::kUnreadable);
  EXPECT_EQ(p.message, "model.sig: offset " + hex_offset(truncated.size()) + ": bundle is truncated (JSON ends early)");
}

TEST(SigningBundle, MissingFileAndCap) {
  test::TempDir t;
  Bundle b;
  Error err;
  std::string missing = t.path().string() + "/none.sig";
  EXPECT_EQ(read_bundle(missing, &b, &err), BundleStatus::kUnreadable);
  EXPECT_EQ(err.str(), missing + ": cannot read signature file");
}

TEST(SigningBundle, UnacceptableBundlesEachHaveTheirMessage) {
  auto rejected = [](const json& j) {
    Parsed p = parse(j);
    EXPECT_EQ(p.status, BundleStatus::kRejected) << p.message;
    return p.message;
  };
  EXPECT_EQ(rejected(json::array()), "model.sig: bundle is not a JSON object");
  json j = sample_json();
  j.erase("mediaType");
  EXPECT_EQ(rejected(j), "model.sig: bundle has no mediaType string");
  j = sample_json();
  j["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2";
  EXPECT_EQ(rejected(j), "model.sig: media type 'application/vnd.dev.sigstore.bundle+json;version=0.2' is not "
                         "application/vnd.dev.sigstore.bundle.v0.3+json");
  j = sample_json();
  j.erase("dsseEnvelope");
  EXPECT_EQ(rejected(j), "model.sig: bundle has no dsseEnvelope (message signatures are not supported)");
  j = sample_json();
  j["dsseEnvelope"]["payloadType"] = "application/json";
  EXPECT_EQ(rejected(j), "model.sig: payload type 'application/json' is not application/vnd.in-toto+json");
  j = sample_json();
  j["dsseEnvelope"]["payload"] = "not base64!";
  EXPECT_EQ(rejected(j), "model.sig: dsseEnvelope.payload is not valid base64");
  j = sample_json();
  j["dsseEnvelope"]["signatures"] = json::array();
  EXPECT_EQ(rejected(j), "model.sig: dsseEnvelope has no signatures");
  j = sample_json();
  j["dsseEnvelope"]["signatures"].push_back(j["dsseEnvelope"]["signatures"][0]);
  EXPECT_EQ(rejected(j), "model.sig: dsseEnvelope has 2 signatures; exactly one is supported");
  j = sample_json();
  j["dsseEnvelope"]["signatures"][0].erase("sig");
  EXPECT_EQ(rejected(j), "model.sig: signature 0 has no sig string");
  j = sample_json();
  j["verificationMaterial"] = {{"certificate", {{"rawBytes", "AAAA"}}}, {"tlogEntries", json::array()}};
  EXPECT_EQ(rejected(j), "model.sig: certificate is not a DER X.509 certificate");
  j = sample_json();
  j["verificationMaterial"] = json::object();
  EXPECT_EQ(rejected(j), "model.sig: verificationMaterial has neither publicKey, x509CertificateChain nor certificate");
  j = sample_json();
  j.erase("verificationMaterial");
  EXPECT_EQ(rejected(j), "model.sig: bundle has no verificationMaterial object");
  j = sample_json();
  j["verificationMaterial"] = {{"x509CertificateChain", {{"certificates", json::array()}}}};
  EXPECT_EQ(rejected(j), "model.sig: x509CertificateChain has no certificates");
  j["verificationMaterial"] = {{"x509CertificateChain", {{"certificates", {{{"rawBytes", "AAAA"}}}}}}};
  EXPECT_EQ(rejected(j), "model.sig: certificate 0 is not a DER X.509 certificate");
}

TEST(SigningBundle, ReadsEveryReferenceFixture) {
  std::string shared = test::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "../shared is absent";
  for (const char* v : {"v0.2.0-certificate", "v0.3.1-certificate", "v1.0.0-certificate", "v1.0.1-certificate",
                        "v1.1.0-certificate", "v0.3.1-elliptic-key", "v1.0.0-elliptic-key", "v1.0.1-elliptic-key",
                        "v1.1.0-elliptic-key"}) {
    Bundle b;
    Error err;
    EXPECT_EQ(read_bundle(shared + "/fixtures/oms-model-transparency/" + v + "/model.sig", &b, &err),
              BundleStatus::kOk) << v << ": " << err.str();
    bool cert = std::string(v).find("certificate") != std::string::npos;
    EXPECT_EQ(b.material, cert ? BundleMaterial::kCertificateChain : BundleMaterial::kPublicKey) << v;
    if (cert) {
      EXPECT_EQ(b.certificates.size(), 2u) << v;
    }
  }
  Bundle b;
  Error err;
  ASSERT_EQ(read_bundle(shared + "/fixtures/oms-model-transparency/v1.1.0-sigstore/model.sig", &b, &err),
            BundleStatus::kOk) << err.str();
  EXPECT_EQ(b.material, BundleMaterial::kCertificate);
  EXPECT_EQ(b.certificates.size(), 1u);
  ASSERT_EQ(b.tlog_entries.size(), 1u);
  const TlogEntry& e = b.tlog_entries[0];
  EXPECT_EQ(e.kind, "dsse");
  EXPECT_EQ(e.version, "0.0.1");
  EXPECT_EQ(e.log_index, 598151086u);
  EXPECT_EQ(e.integrated_time, 1760062340);
  EXPECT_TRUE(e.has_set);
  EXPECT_TRUE(e.has_proof);
  EXPECT_EQ(e.proof.log_index, 476246824u);
  EXPECT_EQ(e.proof.tree_size, 476246825u);
  EXPECT_EQ(e.proof.hashes.size(), 14u);
  EXPECT_EQ(e.proof.checkpoint.substr(0, 41), "rekor.sigstore.dev - 1193050959916656506\n");
  EXPECT_EQ(b.rfc3161.size(), 1u);
}

TEST(SigningBundle, MalformedKeylessMaterial) {
  std::string shared = test::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "../shared is absent";
  std::ifstream in(shared + "/fixtures/oms-model-transparency/v1.0.0-sigstore/model.sig");
  const json good = json::parse(in);
  auto why = [](const json& j) {
    Bundle b;
    Error err;
    EXPECT_EQ(parse_bundle(j.dump(), "model.sig", &b, &err), BundleStatus::kRejected);
    return err.str();
  };
  json j = good;
  j["verificationMaterial"]["tlogEntries"][0]["logIndex"] = "-1";
  EXPECT_EQ(why(j), "model.sig: tlogEntries[0] needs logIndex and integratedTime integers");
  j = good;
  j["verificationMaterial"]["tlogEntries"][0].erase("kindVersion");
  EXPECT_EQ(why(j), "model.sig: tlogEntries[0] has no kindVersion kind and version strings");
  j = good;
  j["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0] = 5;
  EXPECT_EQ(why(j), "model.sig: tlogEntries[0].inclusionProof.hashes holds a value that is not base64");
  j = good;
  j["verificationMaterial"]["tlogEntries"][0]["inclusionProof"].erase("treeSize");
  EXPECT_EQ(why(j), "model.sig: tlogEntries[0].inclusionProof needs logIndex and treeSize integers");
  j = good;
  j["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"] = {{"signedEntryTimestamp", "%%"}};
  EXPECT_EQ(why(j), "model.sig: tlogEntries[0].inclusionPromise.signedEntryTimestamp is not valid base64");
  j = good;
  for (int i = 0; i < 16; ++i) j["verificationMaterial"]["tlogEntries"].push_back(good["verificationMaterial"]["tlogEntries"][0]);
  EXPECT_EQ(why(j), "model.sig: tlogEntries has 17 entries, more than the cap of 16");
  j = good;
  j["verificationMaterial"]["timestampVerificationData"] = {{"rfc3161Timestamps", {{{"signedTimestamp", 1}}}}};
  EXPECT_EQ(why(j), "model.sig: rfc3161Timestamps[0] has no signedTimestamp string");
  j = good;
  j["verificationMaterial"]["certificate"] = "x";
  EXPECT_EQ(why(j), "model.sig: verificationMaterial.certificate is not an object");
}

}  // namespace
}  // namespace pedigree
