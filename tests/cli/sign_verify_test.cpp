// End-to-end tests of `pedigree sign` and `pedigree verify` through the built
// binary: round trips (key and certificate methods), exit codes 0/1/2 with
// their messages, tamper detection, the Ed25519 warning, encrypted keys, JSON
// output and the reference fixtures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/pki_util.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::run_pedigree;
using test::TempDir;
namespace fs = std::filesystem;

struct Model {
  TempDir t;
  std::string dir, key, pub;
  explicit Model(KeyType type = KeyType::kP256, const std::string& password = "") {
    t.write("m/weights.bin", std::string(4096, '\x42') + "end");
    t.write("m/config.json", "{\"a\": 1}");
    dir = (t.path() / "m").string();
    test::TestKey k = test::make_key(type, password);
    key = t.write("key.pem", k.private_pem);
    pub = t.write("key.pub", k.public_pem);
  }
};

TEST(CliSignVerify, KeyRoundTripAndTamper) {
  Model m;
  auto r = run_pedigree({"sign", m.dir, "--key", m.key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(m.dir + "/model.sig"));
  EXPECT_NE(r.err.find("signed m: 2 resources"), std::string::npos) << r.err;
  r = run_pedigree({"verify", m.dir, "--key", m.pub});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("verified: m (2 resources, manifest root sha256:", 0), 0u) << r.out;
  m.t.write("m/config.json", "{\"a\": 2}");
  r = run_pedigree({"verify", m.dir, "--key", m.pub});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pedigree: not verified: " + m.dir + ": model does not match the signature: changed config.json\n");
}

TEST(CliSignVerify, SerializationOptionsAndJson) {
  Model m;
  auto r = run_pedigree({"sign", m.dir, "--key", m.key, "--method", "shards", "--shard-size", "1000", "--algorithm",
                         "blake2b", "-o", m.t.path().string() + "/out.sig"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_pedigree({"verify", m.dir, "--key", m.pub, "--sig", m.t.path().string() + "/out.sig", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["resources"], 6);  // 4099 B -> 5 shards, config.json -> 1
  EXPECT_EQ(j["key_type"], "ECDSA P-256");
}

TEST(CliSignVerify, Ed25519WarnsOnSignAndVerify) {
  Model m(KeyType::kEd25519);
  auto r = run_pedigree({"sign", m.dir, "--key", m.key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pedigree: warning: Ed25519 is a Pedigree extension; the OMS reference verifier "
                       "(model_signing) does not accept it\n"), std::string::npos) << r.err;
  r = run_pedigree({"verify", m.dir, "--key", m.pub});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("pedigree: warning: Ed25519 signature: a Pedigree extension the OMS reference verifier "
                       "does not accept\n"), std::string::npos) << r.err;
}

TEST(CliSignVerify, EncryptedKeyFromFileOrEnvironment) {
  Model m(KeyType::kP384, "correct horse");
  auto r = run_pedigree({"sign", m.dir, "--key", m.key});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + m.key +
                       ": private key is encrypted; give --password-file or set PEDIGREE_KEY_PASSWORD\n");
  std::string pw = m.t.write("pw.txt", "correct horse\n");
  r = run_pedigree({"sign", m.dir, "--key", m.key, "--password-file", pw});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("correct horse"), std::string::npos);
  ::setenv("PEDIGREE_KEY_PASSWORD", "correct horse", 1);
  r = run_pedigree({"sign", m.dir, "--key", m.key});
  ::unsetenv("PEDIGREE_KEY_PASSWORD");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run_pedigree({"verify", m.dir, "--key", m.pub}).exit_code, 0);
}

TEST(CliSignVerify, CertificateMethod) {
  Model m;
  test::TestPki p = test::make_pki(KeyType::kP521);
  std::string key = m.t.write("leaf.key", p.leaf.key.private_pem), leaf = m.t.write("leaf.pem", p.leaf.cert_pem),
              inter = m.t.write("int.pem", p.intermediate.cert_pem), root = m.t.write("root.pem", p.root.cert_pem);
  auto r = run_pedigree({"sign", m.dir, "--key", key, "--cert", leaf, "--chain", inter});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_pedigree({"verify", m.dir, "--cert-root", root});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("signed with: certificate CN=test-leaf (ECDSA P-521)"), std::string::npos) << r.out;
  std::string other = m.t.write("other-root.pem", test::make_pki().root.cert_pem);
  r = run_pedigree({"verify", m.dir, "--cert-root", other});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("certificate chain does not verify at "), std::string::npos) << r.err;
  r = run_pedigree({"verify", m.dir, "--key", m.pub});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pedigree: not verified: " + m.dir +
                       "/model.sig: bundle is signed with a certificate chain; verify with --cert-root\n");
}

TEST(CliSignVerify, ExitCodesForBadInput) {
  Model m;
  ASSERT_EQ(run_pedigree({"sign", m.dir, "--key", m.key}).exit_code, 0);
  auto r = run_pedigree({"verify", m.dir});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: give one of --key, --cert-root or --trust-root\n");
  r = run_pedigree({"verify", m.dir, "--key", m.pub, "--sig", m.dir + "/absent.sig"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + m.dir + "/absent.sig: cannot read signature file\n");
  std::string junk = m.t.write("junk.sig", "not json");
  r = run_pedigree({"verify", m.dir, "--key", m.pub, "--sig", junk});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + junk + ": offset 0x1: bundle is not JSON\n");  // "n" then "o"
  std::string other = m.t.write("other.pub", test::make_key(KeyType::kP384).public_pem);
  r = run_pedigree({"verify", m.dir, "--key", other});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pedigree: not verified: " + m.dir + "/model.sig: signature does not verify with the given key\n");
  fs::create_directories(m.t.path() / "empty");
  r = run_pedigree({"sign", (m.t.path() / "empty").string(), "--key", m.key});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + (m.t.path() / "empty").string() +
                       ": model has no files to sign (after ignored paths)\n");
  r = run_pedigree({"sign", m.dir});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(CliSignVerify, ReferenceFixtures) {
  std::string shared = test::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "../shared is absent";
  std::string f = shared + "/fixtures/oms-model-transparency";
  auto r = run_pedigree({"verify", f + "/v1.1.0-elliptic-key", "--key", f + "/keys/certificate/signing-key-pub.pem"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_pedigree({"verify", f + "/v1.0.0-elliptic-key/signme-1", "--key",
                    f + "/keys/certificate/signing-key-pub.pem"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_pedigree({"verify", f + "/v1.1.0-certificate", "--cert-root", f + "/keys/certificate/ca-cert.pem",
                    "--at-signing-time"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_pedigree({"verify", f + "/v0.2.0-certificate", "--cert-root", f + "/keys/certificate/ca-cert.pem"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("legacy v0.2 payload"), std::string::npos);
  r = run_pedigree({"verify", f + "/v1.0.1-certificate", "--cert-root", f + "/keys/certificate/ca-cert.pem"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unsigned ignore-me"), std::string::npos);
}

TEST(CliSignVerify, KeylessFixtures) {
  std::string shared = test::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "../shared is absent";
  std::string f = shared + "/fixtures/oms-model-transparency";
  std::string trust = f + "/trust/custom_trust_config.json";
  std::vector<std::string> who = {"--identity", "stefanb@us.ibm.com", "--issuer",
                                  "https://sigstore.verify.ibm.com/oauth2"};
  std::vector<std::string> args = {"verify", f + "/v1.1.0-sigstore", "--trust-root", trust};
  args.insert(args.end(), who.begin(), who.end());
  auto r = run_pedigree(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("signed with: Sigstore keyless stefanb@us.ibm.com (issuer "
                       "https://sigstore.verify.ibm.com/oauth2, ECDSA P-256)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("check tlog-inclusion-proof: passed: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("check rfc3161: not used: "), std::string::npos) << r.out;
  args.push_back("--json");
  r = run_pedigree(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "keyless");
  EXPECT_EQ(j["keyless"]["identity"], "stefanb@us.ibm.com");
  EXPECT_EQ(j["keyless"]["signing_times"], nlohmann::json::array({"2025-10-10T02:12:20Z"}));
  EXPECT_EQ(j["keyless"]["checks"].size(), 10u);

  r = run_pedigree({"verify", f + "/v1.0.0-sigstore", "--trust-root", trust, "--identity", "x@example.com",
                    "--issuer", "https://sigstore.verify.ibm.com/oauth2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pedigree: not verified: " + f + "/v1.0.0-sigstore/model.sig: identity: certificate identity "
                   "stefanb@us.ibm.com does not match --identity x@example.com\n");
  EXPECT_NE(r.out.find("check identity: failed: "), std::string::npos);
  r = run_pedigree({"verify", f + "/v1.0.0-sigstore", "--trust-root", trust, "--identity", "stefanb@us.ibm.com"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: --trust-root needs --identity and --issuer\n");
  r = run_pedigree({"verify", f + "/v1.0.0-sigstore", "--key", f + "/keys/certificate/signing-key-pub.pem",
                    "--identity", "stefanb@us.ibm.com"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: --identity and --issuer need --trust-root\n");
  r = run_pedigree({"verify", f + "/v1.0.0-sigstore", "--key", f + "/keys/certificate/signing-key-pub.pem"});
  EXPECT_EQ(r.exit_code, 1);
  r = run_pedigree({"verify", f + "/v1.0.0-sigstore", "--trust-root", f + "/v1.0.0-sigstore/signme-1",
                    "--identity", "a", "--issuer", "b"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + f + "/v1.0.0-sigstore/signme-1: trusted root is not JSON\n");
}

}  // namespace
}  // namespace pedigree
