// Tests `pedigree bom sign` and `pedigree bom verify` end to end through the
// built binary: a generated sample BOM signed, validated and verified (with
// and without --key), signers and chain with three key types (report lines,
// schema validity with both validators, a removed signer, swapped links,
// --append), certificatePath with --cert/--chain/--cert-root, encrypted keys,
// tampering, a wrong key, a malformed signature and the exit-2 cases.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "signing/jsf.h"
#include "tests/support/cdx_node.h"
#include "tests/support/pki_util.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

using test::run_pedigree;
using test::TempDir;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class BomSignCli : public ::testing::Test {
 protected:
  void SetUp() override {
    bom_ = t_.path().string() + "/bom.json";
    auto r = run_pedigree({"bom", test::samples_dir() + "/tinyllama-gguf/tinyllama-f32.gguf", "-o", bom_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    test::TestKey k = test::make_key(KeyType::kP384);
    key_ = t_.write("k.pem", k.private_pem);
    pub_ = t_.write("pub.pem", k.public_pem);
    signed_ = t_.path().string() + "/signed.json";
    r = run_pedigree({"bom", "sign", bom_, "--key", key_, "-o", signed_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    Key pk;
    Error err;
    ASSERT_TRUE(load_public_key(pub_, &pk, &err)) << err.str();
    fp_ = jsf_key_fingerprint(pk.pkey.get());
  }
  TempDir t_;
  std::string bom_, key_, pub_, signed_, fp_;
};

TEST_F(BomSignCli, SignedSampleValidatesAndVerifies) {
  auto r = run_pedigree({"bom", "validate", signed_});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = run_pedigree({"bom", "verify", signed_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, signed_ + ": /signature (ES384, publicKey " + fp_ +
                       "): signature valid (embedded key, signer not authenticated)\n" + signed_ + ": verified\n");
  r = run_pedigree({"bom", "verify", signed_, "--key", pub_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, signed_ + ": /signature (ES384, publicKey " + fp_ + "): signature valid (signed by a given key)\n" +
                       signed_ + ": verified\n");
  r = run_pedigree({"bom", "verify", signed_, "--key", pub_, "--json"});
  EXPECT_EQ(r.exit_code, 0);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["signers"][0]["signer_authenticated"], true);
}

TEST_F(BomSignCli, SignToStdoutMatchesTheFile) {
  auto r = run_pedigree({"bom", "sign", bom_, "--key", key_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto a = nlohmann::json::parse(r.out), b = nlohmann::json::parse(read(signed_));
  a["signature"].erase("value"), b["signature"].erase("value");  // ECDSA is randomized
  EXPECT_EQ(a, b);
}

TEST_F(BomSignCli, TamperingWrongKeyAndBrokenSignatureExitOne) {
  auto doc = nlohmann::json::parse(read(signed_));
  for (const char* ptr : {"/metadata/component/name", "/metadata/component/hashes/0/content",
                          "/metadata/component/properties/0/value"}) {
    auto t = doc;
    ASSERT_TRUE(t.contains(nlohmann::json::json_pointer(ptr))) << ptr;
    t[nlohmann::json::json_pointer(ptr)] = "changed";
    std::string p = t_.write("t.json", t.dump(2));
    auto r = run_pedigree({"bom", "verify", p});
    EXPECT_EQ(r.exit_code, 1) << ptr;
    EXPECT_EQ(r.out, p + ": /signature (ES384, publicKey " + fp_ +
                         "): signature NOT valid: signature does not match the document\n" + p + ": NOT verified\n");
  }
  std::string other = t_.write("other.pem", test::make_key(KeyType::kP384).public_pem);
  auto r = run_pedigree({"bom", "verify", signed_, "--key", other});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find(": given key " + other + " (sha256:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(") is not among the valid signers\n"), std::string::npos) << r.out;
  auto t = doc;
  t["signature"].erase("value");
  std::string p = t_.write("novalue.json", t.dump());
  r = run_pedigree({"bom", "verify", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pedigree: error: " + p + ": /signature: missing string \"value\"\n");
}

TEST_F(BomSignCli, UnreadableInputsAndBadArgumentsExitTwo) {
  auto r = run_pedigree({"bom", "verify", t_.path().string() + "/missing.json"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_pedigree({"bom", "sign", bom_, "--key", pub_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + pub_ + ": not a PEM private key\n");
  r = run_pedigree({"bom", "sign", bom_, "--key", key_, "--algorithm", "PS256"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + bom_ + ": PS256 needs an RSA key\n");
  r = run_pedigree({"bom", "sign", signed_, "--key", key_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + signed_ +
                       ": document already has a top-level signature (--append adds to signers or a chain)\n");
  r = run_pedigree({"bom", "sign", bom_, "--key", key_, "--mode", "tree"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: --mode: 'tree' is not signers or chain\n");
  r = run_pedigree({"bom", "sign", bom_, "--key", key_, "--key", key_, "--cert", pub_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: --cert: give one certificate per --key (2 keys, 1 certificates)\n");
  r = run_pedigree({"bom", "sign", bom_, "--key", key_, "--chain", pub_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: --chain needs --cert\n");
  r = run_pedigree({"bom", "verify", signed_, "--key", t_.write("junk.pem", "junk")});
  EXPECT_EQ(r.exit_code, 2);
}

// Three keys of different types, their public halves and fingerprints.
struct KeySet {
  std::vector<std::string> priv, pub, fp;
};

KeySet make_keys(TempDir& t) {
  KeySet k;
  std::vector<std::pair<std::string, std::string>> pems;
  for (KeyType type : {KeyType::kP256, KeyType::kEd25519}) {
    test::TestKey key = test::make_key(type);
    pems.emplace_back(key.private_pem, key.public_pem);
  }
  for (size_t i = 0; i < pems.size(); ++i) {
    k.priv.push_back(t.write("k" + std::to_string(i) + ".pem", pems[i].first));
    k.pub.push_back(t.write("p" + std::to_string(i) + ".pem", pems[i].second));
  }
  k.priv.push_back(t.write("rsa.pem", test::make_rsa_key_pem()));
  for (const std::string& p : k.priv) {
    PkeyPtr key;
    Error err;
    EXPECT_TRUE(load_any_private_key(p, std::nullopt, &key, &err)) << err.str();
    k.fp.push_back(jsf_key_fingerprint(key.get()));
  }
  return k;
}

TEST_F(BomSignCli, SignersAndChainSignVerifyAndValidate) {
  KeySet k = make_keys(t_);
  std::vector<std::string> outs;
  for (const char* mode : {"signers", "chain"}) {
    std::string out = t_.path().string() + "/" + mode + ".json";
    auto r = run_pedigree({"bom", "sign", bom_, "--key", k.priv[0], "--key", k.priv[1], "--key", k.priv[2], "--mode",
                           mode, "-o", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    outs.push_back(out);
    r = run_pedigree({"bom", "verify", out});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::string base = out + ": /signature/" + mode + "/";
    EXPECT_EQ(r.out, base + "0 (ES256, publicKey " + k.fp[0] +
                         "): signature valid (embedded key, signer not authenticated)\n" + base + "1 (Ed25519, publicKey " +
                         k.fp[1] + "): signature valid (embedded key, signer not authenticated)\n" + base +
                         "2 (RS256, publicKey " + k.fp[2] + "): signature valid (embedded key, signer not authenticated)\n" +
                         out + ": verified\n");
    r = run_pedigree({"bom", "verify", out, "--key", k.pub[0], "--key", k.pub[1], "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["form"], mode);
    EXPECT_EQ(j["signers"][0]["signer_authenticated"], true);
    EXPECT_EQ(j["signers"][2]["signer_authenticated"], false);
    r = run_pedigree({"bom", "validate", out});
    EXPECT_EQ(r.exit_code, 0) << r.out;
  }
  // Default with several keys: signers.
  auto r = run_pedigree({"bom", "sign", bom_, "--key", k.priv[0], "--key", k.priv[1]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["signature"]["signers"].size(), 2u);
  std::vector<test::NodeResult> results;
  std::string why;
  outs.push_back(signed_);
  if (!test::node_validate(outs, &results, &why)) GTEST_SKIP() << "independent validator unavailable: " << why;
  for (const test::NodeResult& n : results) EXPECT_TRUE(n.valid) << n.file << " " << n.error;
}

TEST_F(BomSignCli, RemovedSignerReorderedChainAndAppend) {
  KeySet k = make_keys(t_);
  std::string out = t_.path().string() + "/s.json";
  auto r = run_pedigree({"bom", "sign", bom_, "--key", k.priv[0], "--key", k.priv[1], "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(read(out));
  doc["signature"]["signers"].erase(1);
  std::string p = t_.write("removed.json", doc.dump());
  r = run_pedigree({"bom", "verify", p, "--key", k.pub[0], "--key", k.pub[1]});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find(p + ": given key " + k.pub[1] + " (" + k.fp[1] + ") is not among the valid signers\n"),
            std::string::npos)
      << r.out;
  // Append the RSA key with PS256 to the signers.
  std::string app = t_.path().string() + "/app.json";
  r = run_pedigree({"bom", "sign", out, "--key", k.priv[2], "--append", "--algorithm", "PS256", "-o", app});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_pedigree({"bom", "verify", app, "--key", k.pub[0], "--key", k.pub[1]});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("/signature/signers/2 (PS256, publicKey " + k.fp[2]), std::string::npos) << r.out;
  r = run_pedigree({"bom", "sign", signed_, "--key", k.priv[2], "--append"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + signed_ + ": cannot append: the document has no top-level \"signers\" signature\n");
  // A chain with its links swapped.
  std::string chain = t_.path().string() + "/c.json";
  r = run_pedigree({"bom", "sign", bom_, "--key", k.priv[0], "--key", k.priv[1], "--mode", "chain", "-o", chain});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  doc = nlohmann::json::parse(read(chain));
  std::swap(doc["signature"]["chain"][0], doc["signature"]["chain"][1]);
  p = t_.write("swapped.json", doc.dump());
  r = run_pedigree({"bom", "verify", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("/signature/chain/0 (Ed25519, publicKey " + k.fp[1] +
                       "): signature NOT valid: signature does not match the document\n"),
            std::string::npos)
      << r.out;
}

TEST_F(BomSignCli, CertificatePathAgainstRoots) {
  test::TestPki pki = test::make_pki();
  std::string leaf_key = t_.write("leaf.key", pki.leaf.key.private_pem);
  std::string leaf = t_.write("leaf.pem", pki.leaf.cert_pem);
  std::string inter = t_.write("inter.pem", pki.intermediate.cert_pem);
  std::string root = t_.write("root.pem", pki.root.cert_pem);
  std::string out = t_.path().string() + "/cert.json";
  auto r = run_pedigree({"bom", "sign", bom_, "--key", leaf_key, "--cert", leaf, "--chain", inter, "--chain", root,
                         "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(read(out));
  EXPECT_FALSE(doc["signature"].contains("publicKey"));
  EXPECT_EQ(doc["signature"]["certificatePath"].size(), 2u);  // leaf and intermediate, not the root
  r = run_pedigree({"bom", "verify", out, "--cert-root", root});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(", certificate CN=test-leaf): signature valid (certificate chains to a given root)\n"),
            std::string::npos)
      << r.out;
  r = run_pedigree({"bom", "validate", out});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  test::TestPki other = test::make_pki();
  std::string other_root = t_.write("other-root.pem", other.root.cert_pem);
  r = run_pedigree({"bom", "verify", out, "--cert-root", other_root});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("signature NOT valid: certificate path does not lead to a given root: "), std::string::npos)
      << r.out;
  // A key-signed BOM and --cert-root: nothing chains to the root.
  r = run_pedigree({"bom", "verify", signed_, "--cert-root", root});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find(signed_ + ": no signature's certificatePath leads to a given root\n"), std::string::npos)
      << r.out;
  // Certificate of another key; certificate without digitalSignature.
  r = run_pedigree({"bom", "sign", bom_, "--key", key_, "--cert", leaf});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + leaf + ": certificate does not match the key " + key_ + "\n");
  test::TestCert nosign =
      test::make_cert(test::CertSpec("nosign", false, "critical,keyEncipherment"), &pki.intermediate);
  std::string ns_key = t_.write("ns.key", nosign.key.private_pem), ns = t_.write("ns.pem", nosign.cert_pem);
  r = run_pedigree({"bom", "sign", bom_, "--key", ns_key, "--cert", ns});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + ns + ": certificate CN=nosign key usage lacks digitalSignature\n");
}

TEST_F(BomSignCli, EncryptedKeyNeedsTheRightPassword) {
  test::TestKey k = test::make_key(KeyType::kP256, "correct horse");
  std::string key = t_.write("enc.pem", k.private_pem);
  std::string pub = t_.write("enc.pub", k.public_pem);
  auto r = run_pedigree({"bom", "sign", bom_, "--key", key});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + key +
                       ": private key is encrypted; give --password-file or set PEDIGREE_KEY_PASSWORD\n");
  std::string wrong = t_.write("wrong.txt", "battery staple\n");
  r = run_pedigree({"bom", "sign", bom_, "--key", key, "--password-file", wrong});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + key + ": cannot decrypt private key (wrong password?)\n");
  EXPECT_EQ(r.err.find("battery"), std::string::npos);
  std::string right = t_.write("right.txt", "correct horse\n");
  std::string out = t_.path().string() + "/enc.json";
  r = run_pedigree({"bom", "sign", bom_, "--key", key, "--password-file", right, "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(read(out).find("PRIVATE"), std::string::npos);
  r = run_pedigree({"bom", "verify", out, "--key", pub});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  ::setenv("PEDIGREE_KEY_PASSWORD", "correct horse", 1);
  r = run_pedigree({"bom", "sign", bom_, "--key", key, "-o", out});
  ::unsetenv("PEDIGREE_KEY_PASSWORD");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(BomSignCli, RsaPssRoundTrip) {
  std::string rsa = t_.write("rsa.pem", test::make_rsa_key_pem());
  std::string out = t_.path().string() + "/ps.json";
  auto r = run_pedigree({"bom", "sign", bom_, "--key", rsa, "--algorithm", "PS256", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read(out))["signature"]["algorithm"], "PS256");
  r = run_pedigree({"bom", "verify", out});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace pedigree
