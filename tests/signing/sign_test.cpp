// Tests of signing/sign.cpp: round trips for every key type and both
// serialization methods, the certificate method, ignored paths, the symlink
// policy, the signature file kept out of the manifest, default output paths,
// and the rejection of empty models and mismatched certificates.
#include "signing/sign.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "signing/bundle.h"
#include "signing/verify.h"
#include "tests/support/pki_util.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::TempDir;
namespace fs = std::filesystem;

void make_model(const TempDir& t) {
  t.write("model/weights.bin", std::string(23, '\x5a') + "tail");
  t.write("model/config.json", "{\"layers\": 2}");
  t.write("model/sub/tokenizer.json", "{}");
  t.write("model/empty.txt", "");
}

struct Signed {
  bool ok;
  SignResult result;
  Error err;
};

Signed sign(const TempDir& t, const std::string& key_pem, ManifestOptions opts = {}, const std::string& model = "model") {
  SignRequest req;
  req.model_path = (t.path() / model).string();
  req.options = opts;
  req.key_path = t.write("signing.pem", key_pem);
  req.output_path = default_signature_path(req.model_path);
  Signed s;
  s.ok = sign_model(req, &s.result, &s.err);
  if (s.ok) t.write(fs::relative(req.output_path, t.path()).string(), s.result.bundle);
  return s;
}

VerifyResult verify_with_key(const TempDir& t, const std::string& pub_pem, const std::string& model = "model") {
  VerifyRequest req;
  req.model_path = (t.path() / model).string();
  req.bundle_path = default_signature_path(req.model_path);
  req.key_path = t.write("verify.pub", pub_pem);
  return verify_model(req);
}

nlohmann::json payload_of(const SignResult& r) {
  Bundle b;
  Error err;
  EXPECT_EQ(parse_bundle(r.bundle, "model.sig", &b, &err), BundleStatus::kOk);
  return nlohmann::json::parse(b.payload);
}

TEST(SigningSign, RoundTripsEveryKeyTypeAndMethod) {
  for (KeyType type : {KeyType::kP256, KeyType::kP384, KeyType::kP521, KeyType::kEd25519}) {
    for (SerializationMethod method : {SerializationMethod::kFiles, SerializationMethod::kShards}) {
      TempDir t;
      make_model(t);
      test::TestKey k = test::make_key(type);
      ManifestOptions o;
      o.method = method;
      o.shard_size = 8;
      Signed s = sign(t, k.private_pem, o);
      ASSERT_TRUE(s.ok) << s.err.str();
      EXPECT_EQ(s.result.key_type, type);
      EXPECT_EQ(s.result.key_hint, test::sha256_hex(k.public_pem));
      // shards of 8: weights.bin 27 B -> 4, config.json 13 B -> 2, tokenizer.json 2 B -> 1, empty.txt -> 0
      size_t expected = method == SerializationMethod::kFiles ? 4 : 7;
      EXPECT_EQ(s.result.manifest.resources.size(), expected);
      VerifyResult r = verify_with_key(t, k.public_pem);
      EXPECT_EQ(r.status, VerifyStatus::kVerified) << key_type_name(type) << ": " << r.reason.str();
      EXPECT_EQ(r.key_type, key_type_name(type));
      EXPECT_EQ(r.resources, expected);
      bool warned = !r.warnings.empty() && r.warnings.back().find("Ed25519") != std::string::npos;
      EXPECT_EQ(warned, type == KeyType::kEd25519);
    }
  }
}

TEST(SigningSign, PayloadRecordsSerializationAndSortedResources) {
  TempDir t;
  make_model(t);
  ManifestOptions o;
  o.method = SerializationMethod::kShards;
  o.shard_size = 10;
  o.algorithm = HashAlgorithm::kBlake2b512;
  o.ignore_paths = {"sub"};
  Signed s = sign(t, test::make_key(KeyType::kP256).private_pem, o);
  ASSERT_TRUE(s.ok) << s.err.str();
  nlohmann::json p = payload_of(s.result);
  const nlohmann::json& ser = p["predicate"]["serialization"];
  EXPECT_EQ(ser["method"], "shards");
  EXPECT_EQ(ser["hash_type"], "blake2b");
  EXPECT_EQ(ser["shard_size"], 10);
  EXPECT_EQ(ser["ignore_paths"], nlohmann::json({".git", ".gitattributes", ".github", ".gitignore", "model.sig", "sub"}));
  std::vector<std::string> names;
  for (const auto& r : p["predicate"]["resources"]) names.push_back(r["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"config.json:0:10", "config.json:10:13", "weights.bin:0:10", "weights.bin:10:20",
                                             "weights.bin:20:27"}));
  EXPECT_EQ(p["subject"][0]["name"], "model");
}

TEST(SigningSign, IgnoredPathsMayChangeAfterSigning) {
  TempDir t;
  make_model(t);
  t.write("model/logs/run.txt", "1");
  test::TestKey k = test::make_key(KeyType::kP256);
  ManifestOptions o;
  o.ignore_paths = {"logs"};
  ASSERT_TRUE(sign(t, k.private_pem, o).ok);
  t.write("model/logs/run.txt", "2");
  t.write("model/logs/more.txt", "3");
  t.write("model/.git/HEAD", "ref");
  VerifyResult r = verify_with_key(t, k.public_pem);
  EXPECT_EQ(r.status, VerifyStatus::kVerified) << r.reason.str();
}

TEST(SigningSign, EmptyModelIsRejected) {
  TempDir t;
  fs::create_directories(t.path() / "model");
  Signed s = sign(t, test::make_key(KeyType::kP256).private_pem);
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.err.str(), (t.path() / "model").string() + ": model has no files to sign (after ignored paths)");
  t.write("model/.gitignore", "x");
  t.write("model/skip/a", "x");
  ManifestOptions o;
  o.ignore_paths = {"skip"};
  s = sign(t, test::make_key(KeyType::kP256).private_pem, o);
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.err.message, "model has no files to sign (after ignored paths)");
}

TEST(SigningSign, SymlinkPolicy) {
  TempDir t;
  make_model(t);
  fs::create_symlink("weights.bin", t.path() / "model/link.bin");
  test::TestKey k = test::make_key(KeyType::kP256);
  Signed s = sign(t, k.private_pem);
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.err.message.find("symbolic link"), std::string::npos) << s.err.str();
  ManifestOptions o;
  o.allow_symlinks = true;
  ASSERT_TRUE(sign(t, k.private_pem, o).ok);
  EXPECT_EQ(verify_with_key(t, k.public_pem).status, VerifyStatus::kVerified);
  // Signed without symlinks; a link appearing later is a mismatch, not an error.
  fs::remove(t.path() / "model/link.bin");
  ASSERT_TRUE(sign(t, k.private_pem).ok);
  fs::create_symlink("config.json", t.path() / "model/late.json");
  VerifyResult r = verify_with_key(t, k.public_pem);
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_NE(r.reason.message.find("symbolic link"), std::string::npos) << r.reason.str();
}

TEST(SigningSign, SignatureInsideTheModelIsLeftOut) {
  TempDir t;
  make_model(t);
  test::TestKey k = test::make_key(KeyType::kP384);
  SignRequest req;
  req.model_path = (t.path() / "model").string();
  req.key_path = t.write("k.pem", k.private_pem);
  req.output_path = (t.path() / "model/sigs/release.sig").string();
  SignResult res;
  Error err;
  ASSERT_TRUE(sign_model(req, &res, &err)) << err.str();
  t.write("model/sigs/release.sig", res.bundle);
  nlohmann::json p = payload_of(res);
  auto ig = p["predicate"]["serialization"]["ignore_paths"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(ig.begin(), ig.end(), "sigs/release.sig"), ig.end());
  VerifyRequest v;
  v.model_path = req.model_path;
  v.bundle_path = req.output_path;
  v.key_path = t.write("k.pub", k.public_pem);
  EXPECT_EQ(verify_model(v).status, VerifyStatus::kVerified);
  EXPECT_EQ(signature_inside_model(req.model_path, (t.path() / "elsewhere.sig").string()), "");
}

TEST(SigningSign, DefaultSignaturePaths) {
  TempDir t;
  make_model(t);
  EXPECT_EQ(default_signature_path((t.path() / "model").string()), (t.path() / "model/model.sig").string());
  EXPECT_EQ(default_signature_path((t.path() / "model/weights.bin").string()),
            (t.path() / "model/model.sig").string());
  EXPECT_EQ(default_signature_path("weights.bin"), "model.sig");
}

TEST(SigningSign, SingleFileModel) {
  TempDir t;
  make_model(t);
  test::TestKey k = test::make_key(KeyType::kP521);
  Signed s = sign(t, k.private_pem, {}, "model/weights.bin");
  ASSERT_TRUE(s.ok) << s.err.str();
  ASSERT_EQ(s.result.manifest.resources.size(), 1u);
  EXPECT_EQ(s.result.manifest.resources[0].name, ".");
  EXPECT_EQ(payload_of(s.result)["subject"][0]["name"], "weights.bin");
  EXPECT_EQ(verify_with_key(t, k.public_pem, "model/weights.bin").status, VerifyStatus::kVerified);
}

TEST(SigningSign, CertificateMethod) {
  TempDir t;
  make_model(t);
  test::TestPki p = test::make_pki(KeyType::kP384);
  SignRequest req;
  req.model_path = (t.path() / "model").string();
  req.key_path = t.write("leaf.key", p.leaf.key.private_pem);
  req.cert_path = t.write("leaf.pem", p.leaf.cert_pem);
  req.chain_paths = {t.write("int.pem", p.intermediate.cert_pem)};
  req.output_path = default_signature_path(req.model_path);
  SignResult res;
  Error err;
  ASSERT_TRUE(sign_model(req, &res, &err)) << err.str();
  EXPECT_EQ(res.signer, "CN=test-leaf");
  Bundle b;
  ASSERT_EQ(parse_bundle(res.bundle, "model.sig", &b, &err), BundleStatus::kOk);
  ASSERT_EQ(b.certificates.size(), 2u);
  t.write("model/model.sig", res.bundle);
  VerifyRequest v;
  v.model_path = req.model_path;
  v.bundle_path = req.output_path;
  v.root_paths = {t.write("root.pem", p.root.cert_pem)};
  VerifyResult r = verify_model(v);
  EXPECT_EQ(r.status, VerifyStatus::kVerified) << r.reason.str();
  EXPECT_EQ(r.signer, "CN=test-leaf");
  // A certificate for another key is refused at signing time.
  req.key_path = t.write("other.key", test::make_key(KeyType::kP384).private_pem);
  EXPECT_FALSE(sign_model(req, &res, &err));
  EXPECT_EQ(err.str(), req.cert_path + ": certificate's public key does not match the private key");
}

TEST(SigningSign, EncryptedKey) {
  TempDir t;
  make_model(t);
  test::TestKey k = test::make_key(KeyType::kP256, "pw");
  SignRequest req;
  req.model_path = (t.path() / "model").string();
  req.key_path = t.write("k.pem", k.private_pem);
  req.output_path = default_signature_path(req.model_path);
  SignResult res;
  Error err;
  EXPECT_FALSE(sign_model(req, &res, &err));
  req.password = "pw";
  EXPECT_TRUE(sign_model(req, &res, &err)) << err.str();
  EXPECT_EQ(res.bundle.find("PRIVATE"), std::string::npos);
}

}  // namespace
}  // namespace pedigree
