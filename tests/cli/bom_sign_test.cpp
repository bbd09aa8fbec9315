// Tests `pedigree bom sign` and `pedigree bom verify` end to end through the
// built binary: a generated sample BOM signed, validated and verified (with
// and without --key), tampering, a wrong key, a malformed signature and the
// unreadable cases with their exit codes and messages.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

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
  }
  TempDir t_;
  std::string bom_, key_, pub_, signed_;
};

TEST_F(BomSignCli, SignedSampleValidatesAndVerifies) {
  auto r = run_pedigree({"bom", "validate", signed_});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = run_pedigree({"bom", "verify", signed_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, signed_ + ": /signature (ES384): signature valid (embedded key, signer not authenticated)\n" +
                       signed_ + ": verified\n");
  r = run_pedigree({"bom", "verify", signed_, "--key", pub_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, signed_ + ": /signature (ES384): signature valid (signed by the given key)\n" + signed_ +
                       ": verified\n");
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
    EXPECT_EQ(r.out, p + ": /signature (ES384): signature NOT valid: signature does not match the document\n" + p +
                         ": NOT verified\n");
  }
  std::string other = t_.write("other.pem", test::make_key(KeyType::kP384).public_pem);
  auto r = run_pedigree({"bom", "verify", signed_, "--key", other});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("embedded public key does not match the given key"), std::string::npos) << r.out;
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
  EXPECT_EQ(r.err, "pedigree: error: " + pub_ + ": not an unencrypted PEM private key\n");
  r = run_pedigree({"bom", "sign", bom_, "--key", key_, "--algorithm", "PS256"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + bom_ + ": PS256 needs an RSA key\n");
  r = run_pedigree({"bom", "sign", signed_, "--key", key_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + signed_ + ": document already has a top-level signature\n");
  r = run_pedigree({"bom", "verify", signed_, "--key", t_.write("junk.pem", "junk")});
  EXPECT_EQ(r.exit_code, 2);
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
