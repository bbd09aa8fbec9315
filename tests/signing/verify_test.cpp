// Tests of signing/verify.cpp: every reference fixture (key and certificate
// methods, model_signing v0.2.0 to v1.1.0) verifies against its own files and
// fails once a signed file changes; tamper tests on a signed sample model
// (byte flips sampled in every file, payload and signature flips, added and
// removed files); wrong keys and curves; foreign payloads; and the
// certificate rules (chain to root, usage, expiry), each with its message.
#include "signing/verify.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "signing/bundle.h"
#include "signing/encoding.h"
#include "signing/keys.h"
#include "signing/sign.h"
#include "signing/statement.h"
#include "tests/support/pki_util.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::TempDir;
namespace fs = std::filesystem;

std::string fixtures() {
  std::string s = test::shared_dir();
  return s.empty() ? s : s + "/fixtures/oms-model-transparency";
}

VerifyResult verify_fixture(const std::string& dir, const std::string& model, bool ignore_unsigned,
                            const std::string& bundle = "") {
  VerifyRequest req;
  req.model_path = model;
  req.bundle_path = bundle.empty() ? dir + "/model.sig" : bundle;
  std::string keys = fixtures() + "/keys/certificate/";
  if (dir.find("certificate") != std::string::npos) req.root_paths = {keys + "ca-cert.pem"};
  else req.key_path = keys + "signing-key-pub.pem";
  req.ignore_unsigned_files = ignore_unsigned;
  return verify_model(req);
}

// v0.3.1 and v1.0.0 elliptic-key fixtures sign the single file signme-1.
std::string fixture_model(const std::string& dir) {
  bool single = dir.find("v0.3.1-elliptic") != std::string::npos || dir.find("v1.0.0-elliptic") != std::string::npos;
  return single ? dir + "/signme-1" : dir;
}

const char* kFixtures[] = {"v0.2.0-certificate",  "v0.3.1-certificate",  "v1.0.0-certificate",
                           "v1.0.1-certificate",  "v1.1.0-certificate",  "v0.3.1-elliptic-key",
                           "v1.0.0-elliptic-key", "v1.0.1-elliptic-key", "v1.1.0-elliptic-key"};

TEST(SigningVerify, EveryReferenceFixtureVerifies) {
  if (fixtures().empty()) GTEST_SKIP() << "../shared is absent";
  for (const char* v : kFixtures) {
    std::string dir = fixtures() + "/" + v;
    // Releases before v1.1.0 did not record ignore_paths; their unsigned ignore-me needs --ignore-unsigned-files.
    bool has_unsigned = fs::exists(dir + "/ignore-me") && std::string(v).rfind("v1.1.0", 0) != 0;
    VerifyResult r = verify_fixture(dir, fixture_model(dir), has_unsigned);
    EXPECT_EQ(r.status, VerifyStatus::kVerified) << v << ": " << r.reason.str();
    EXPECT_EQ(r.legacy_payload, std::string(v) == "v0.2.0-certificate") << v;
    EXPECT_EQ(r.legacy_pae, std::string(v) == "v0.2.0-certificate") << v;
    EXPECT_EQ(r.key_type, "ECDSA P-384") << v;
    if (has_unsigned) {
      r = verify_fixture(dir, fixture_model(dir), false);
      EXPECT_EQ(r.status, VerifyStatus::kRejected) << v;
      EXPECT_EQ(r.reason.str(), dir + ": model does not match the signature: unsigned ignore-me") << v;
    }
  }
}

void flip_byte(const fs::path& file, uint64_t pos) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(std::streamoff(pos));
  char c = 0;
  f.get(c);
  f.seekp(std::streamoff(pos));
  f.put(char(c ^ 0x01));
}

TEST(SigningVerify, EveryFixtureFailsAfterASignedFileChanges) {
  if (fixtures().empty()) GTEST_SKIP() << "../shared is absent";
  for (const char* v : kFixtures) {
    TempDir t;
    fs::copy(fixtures() + "/" + v, t.path() / v);
    for (auto& e : fs::directory_iterator(t.path() / v))
      fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
    std::string dir = (t.path() / v).string();
    flip_byte(t.path() / v / "signme-1", 0);
    VerifyResult r = verify_fixture(dir, fixture_model(dir), true);
    EXPECT_EQ(r.status, VerifyStatus::kRejected) << v;
    std::string name = fixture_model(dir) == dir ? "signme-1" : ".";
    EXPECT_EQ(r.reason.message, "model does not match the signature: changed " + name) << v;
  }
}

// A small signed model: three files of different sizes, signed with P-256.
struct SignedSample {
  TempDir t;
  test::TestKey key = test::make_key(KeyType::kP256);
  std::string model, bundle, pub;
  std::vector<std::string> files = {"a.bin", "dir/b.safetensors", "z.json"};

  SignedSample() {
    std::mt19937 rng(7);
    for (size_t i = 0; i < files.size(); ++i) {
      std::string bytes(1 + i * 517, '\0');
      for (char& c : bytes) c = char(rng());
      t.write("model/" + files[i], bytes);
    }
    model = (t.path() / "model").string();
    bundle = model + "/model.sig";
    pub = t.write("key.pub", key.public_pem);
    resign();
  }
  void resign(ManifestOptions o = {}) {
    SignRequest req{model, o, t.write("key.pem", key.private_pem), std::nullopt, "", {}, bundle};
    SignResult res;
    Error err;
    EXPECT_TRUE(sign_model(req, &res, &err)) << err.str();
    t.write("model/model.sig", res.bundle);
  }
  VerifyResult verify(const std::string& key_path = "") const {
    VerifyRequest req;
    req.model_path = model;
    req.bundle_path = bundle;
    req.key_path = key_path.empty() ? pub : key_path;
    return verify_model(req);
  }
  nlohmann::json bundle_json() const {
    std::ifstream in(bundle);
    return nlohmann::json::parse(in);
  }
  void write_bundle(const nlohmann::json& j) const { t.write("model/model.sig", j.dump()); }
  // Replaces the payload and signs it properly (so only the payload content is wrong).
  void sign_payload(const std::string& payload) const {
    Key k;
    Error err;
    EXPECT_TRUE(load_private_key(t.path().string() + "/key.pem", std::nullopt, &k, &err));
    std::string sig;
    EXPECT_TRUE(sign_message(k, dsse_pae(kInTotoPayloadType, payload), &sig, &err));
    nlohmann::json j = bundle_json();
    j["dsseEnvelope"]["payload"] = base64_encode(payload);
    j["dsseEnvelope"]["signatures"][0]["sig"] = base64_encode(sig);
    write_bundle(j);
  }
  std::string payload() const {
    std::string p;
    base64_decode(bundle_json()["dsseEnvelope"]["payload"].get<std::string>(), &p);
    return p;
  }
};

TEST(SigningVerify, SampleVerifies) {
  SignedSample s;
  VerifyResult r = s.verify();
  EXPECT_EQ(r.status, VerifyStatus::kVerified) << r.reason.str();
  EXPECT_EQ(r.resources, 3u);
  EXPECT_EQ(r.model_name, "model");
  EXPECT_TRUE(r.warnings.empty());
}

TEST(SigningVerify, FlippingAnyByteOfAnySignedFileIsDetected) {
  SignedSample s;
  std::mt19937 rng(11);
  for (const std::string& f : s.files) {
    fs::path p = fs::path(s.model) / f;
    uint64_t size = fs::file_size(p);
    std::vector<uint64_t> positions = {0, size - 1, size / 2};
    for (int i = 0; i < 5; ++i) positions.push_back(rng() % size);
    for (uint64_t pos : positions) {
      flip_byte(p, pos);
      VerifyResult r = s.verify();
      EXPECT_EQ(r.status, VerifyStatus::kRejected) << f << " @" << pos;
      EXPECT_EQ(r.reason.str(), s.model + ": model does not match the signature: changed " + f) << pos;
      flip_byte(p, pos);
    }
  }
  EXPECT_EQ(s.verify().status, VerifyStatus::kVerified);
}

TEST(SigningVerify, FlippingThePayloadOrTheSignatureIsDetected) {
  SignedSample s;
  nlohmann::json good = s.bundle_json();
  std::string payload = s.payload();
  for (size_t pos : {size_t(0), payload.size() / 2, payload.size() - 1}) {
    std::string bad = payload;
    bad[pos] ^= 0x01;
    nlohmann::json j = good;
    j["dsseEnvelope"]["payload"] = base64_encode(bad);
    s.write_bundle(j);
    VerifyResult r = s.verify();
    EXPECT_EQ(r.status, VerifyStatus::kRejected);
    EXPECT_EQ(r.reason.str(), s.bundle + ": signature does not verify with the given key") << pos;
  }
  std::string sig;
  base64_decode(good["dsseEnvelope"]["signatures"][0]["sig"].get<std::string>(), &sig);
  for (size_t pos : {size_t(5), sig.size() / 2, sig.size() - 1}) {
    std::string bad = sig;
    bad[pos] ^= 0x01;
    nlohmann::json j = good;
    j["dsseEnvelope"]["signatures"][0]["sig"] = base64_encode(bad);
    s.write_bundle(j);
    VerifyResult r = s.verify();
    EXPECT_EQ(r.status, VerifyStatus::kRejected);
    EXPECT_EQ(r.reason.str(), s.bundle + ": signature does not verify with the given key") << pos;
  }
}

TEST(SigningVerify, AddedAndRemovedFilesAreNamed) {
  SignedSample s;
  s.t.write("model/new.bin", "x");
  VerifyResult r = s.verify();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.message, "model does not match the signature: unsigned new.bin");
  EXPECT_EQ(r.extra, std::vector<std::string>{"new.bin"});
  VerifyRequest req;
  req.model_path = s.model;
  req.bundle_path = s.bundle;
  req.key_path = s.pub;
  req.ignore_unsigned_files = true;
  EXPECT_EQ(verify_model(req).status, VerifyStatus::kVerified);
  fs::remove(fs::path(s.model) / "new.bin");
  fs::remove(fs::path(s.model) / "dir/b.safetensors");
  r = s.verify();
  EXPECT_EQ(r.reason.message, "model does not match the signature: missing dir/b.safetensors");
  s.t.write("model/z.json", "changed");
  s.t.write("model/extra", "e");
  r = s.verify();
  EXPECT_EQ(r.reason.message,
            "model does not match the signature: changed z.json; missing dir/b.safetensors; unsigned extra");
}

TEST(SigningVerify, WrongKeyAndWrongCurve) {
  SignedSample s;
  for (KeyType type : {KeyType::kP256, KeyType::kP384, KeyType::kEd25519}) {
    std::string other = s.t.write("other.pub", test::make_key(type).public_pem);
    VerifyResult r = s.verify(other);
    EXPECT_EQ(r.status, VerifyStatus::kRejected);
    EXPECT_EQ(r.reason.str(), s.bundle + ": signature does not verify with the given key") << key_type_name(type);
  }
}

TEST(SigningVerify, HintThatNamesAnotherKey) {
  SignedSample s;
  nlohmann::json j = s.bundle_json();
  j["verificationMaterial"]["publicKey"]["hint"] = std::string(64, '0');
  s.write_bundle(j);
  VerifyResult r = s.verify();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.str(), s.bundle + ": public key hint " + std::string(64, '0') + " does not match the given key (" +
                                test::sha256_hex(s.key.public_pem) + ")");
}

TEST(SigningVerify, SwappedPayloadTypeAndOtherPredicate) {
  SignedSample s;
  nlohmann::json j = s.bundle_json();
  j["dsseEnvelope"]["payloadType"] = "application/vnd.dsse.envelope.v1+json";
  s.write_bundle(j);
  VerifyResult r = s.verify();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.str(), s.bundle + ": payload type 'application/vnd.dsse.envelope.v1+json' is not "
                                       "application/vnd.in-toto+json");
  s.resign();
  nlohmann::json p = nlohmann::json::parse(s.payload());
  p["predicateType"] = "https://slsa.dev/provenance/v1";
  s.sign_payload(p.dump());
  r = s.verify();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.str(), s.bundle + ": signed payload: predicate type 'https://slsa.dev/provenance/v1' is not "
                                       "https://model_signing/signature/v1.0");
}

TEST(SigningVerify, SignedPayloadWithInconsistentSubject) {
  SignedSample s;
  nlohmann::json p = nlohmann::json::parse(s.payload());
  std::string claimed = std::string(64, 'a');
  std::string real = p["subject"][0]["digest"]["sha256"];
  p["subject"][0]["digest"]["sha256"] = claimed;
  s.sign_payload(p.dump());
  VerifyResult r = s.verify();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.str(), s.bundle + ": signed payload: subject digest sha256:" + claimed +
                                " does not match its resources (sha256:" + real + ")");
}

TEST(SigningVerify, RawPayloadBytesAreVerifiedNotReserialized) {
  // Same JSON, different bytes (extra spaces): signed as is, it must verify.
  SignedSample s;
  std::string spaced = s.payload();
  spaced.insert(1, "   ");
  s.sign_payload(spaced);
  EXPECT_EQ(s.verify().status, VerifyStatus::kVerified);
}

TEST(SigningVerify, LegacyEncodingOnlyWithLegacyPayload) {
  SignedSample s;
  Key k;
  Error err;
  ASSERT_TRUE(load_private_key(s.t.path().string() + "/key.pem", std::nullopt, &k, &err));
  std::string payload = s.payload(), sig;
  ASSERT_TRUE(sign_message(k, legacy_pae(kInTotoPayloadType, payload), &sig, &err));  // P-256: SHA-256
  nlohmann::json j = s.bundle_json();
  j["dsseEnvelope"]["signatures"][0]["sig"] = base64_encode(sig);
  s.write_bundle(j);
  VerifyResult r = s.verify();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.message, "the v0.2 pre-authentication encoding is accepted only with a v0.2 payload");
}

TEST(SigningVerify, BundleMethodMustMatchTheTrustGiven) {
  SignedSample s;
  VerifyRequest req;
  req.model_path = s.model;
  req.bundle_path = s.bundle;
  req.root_paths = {s.t.write("root.pem", test::make_pki().root.cert_pem)};
  VerifyResult r = verify_model(req);
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.str(), s.bundle + ": bundle is signed with a public key; verify with --key");
  req.key_path = s.pub;
  EXPECT_EQ(verify_model(req).status, VerifyStatus::kCannotRun);
}

TEST(SigningVerify, TruncatedAndNonJsonBundlesCannotRun) {
  SignedSample s;
  std::string text = s.bundle_json().dump();
  s.t.write("model/model.sig", text.substr(0, 100));
  VerifyResult r = s.verify();
  EXPECT_EQ(r.status, VerifyStatus::kCannotRun);
  EXPECT_EQ(r.reason.str(), s.bundle + ": offset 0x64: bundle is truncated (JSON ends early)");
  s.t.write("model/model.sig", "-----BEGIN PGP SIGNATURE-----\n");
  r = s.verify();
  EXPECT_EQ(r.status, VerifyStatus::kCannotRun);
  EXPECT_EQ(r.reason.str(), s.bundle + ": offset 0x1: bundle is not JSON");
}

// Certificate method on a model signed with a generated PKI.
struct CertSample {
  TempDir t;
  test::TestPki pki = test::make_pki();
  std::string model;
  time_t now = time(nullptr);

  // The time as the verifier prints it.
  std::string now_text() const {
    char buf[32];
    struct tm tm {};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

  CertSample() {
    t.write("model/w.bin", "weights");
    model = (t.path() / "model").string();
  }
  bool sign(const test::TestCert& leaf, const std::vector<std::string>& chain_pems) {
    SignRequest req;
    req.model_path = model;
    req.key_path = t.write("leaf.key", leaf.key.private_pem);
    req.cert_path = t.write("leaf.pem", leaf.cert_pem);
    for (size_t i = 0; i < chain_pems.size(); ++i)
      req.chain_paths.push_back(t.write("chain" + std::to_string(i) + ".pem", chain_pems[i]));
    req.output_path = model + "/model.sig";
    SignResult res;
    Error err;
    if (!sign_model(req, &res, &err)) return false;
    t.write("model/model.sig", res.bundle);
    return true;
  }
  VerifyResult verify(const test::TestCert& root, bool at_signing_time = false,
                      const std::vector<std::string>& extra = {}) {
    VerifyRequest req;
    req.model_path = model;
    req.bundle_path = model + "/model.sig";
    req.root_paths = {t.write("root.pem", root.cert_pem)};
    for (size_t i = 0; i < extra.size(); ++i) req.chain_paths.push_back(t.write("x" + std::to_string(i), extra[i]));
    req.at_signing_time = at_signing_time;
    req.now = now;
    return verify_model(req);
  }
};

TEST(SigningVerify, CertificateChainVerifies) {
  CertSample c;
  ASSERT_TRUE(c.sign(c.pki.leaf, {c.pki.intermediate.cert_pem}));
  VerifyResult r = c.verify(c.pki.root);
  EXPECT_EQ(r.status, VerifyStatus::kVerified) << r.reason.str();
  EXPECT_EQ(r.method, "certificate");
  // Intermediate supplied at verification time instead of in the bundle.
  ASSERT_TRUE(c.sign(c.pki.leaf, {}));
  r = c.verify(c.pki.root);
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.message, "certificate chain does not verify at " + c.now_text() +
                                ": unable to get local issuer certificate (certificate CN=test-leaf)");
  EXPECT_EQ(c.verify(c.pki.root, false, {c.pki.intermediate.cert_pem}).status, VerifyStatus::kVerified);
}

TEST(SigningVerify, ChainThatDoesNotReachTheRoot) {
  CertSample c;
  ASSERT_TRUE(c.sign(c.pki.leaf, {c.pki.intermediate.cert_pem}));
  test::TestPki other = test::make_pki();
  VerifyResult r = c.verify(other.root);
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.str(), c.model + "/model.sig: certificate chain does not verify at " + c.now_text() +
                                ": unable to get local issuer certificate (certificate CN=test-intermediate)");
}

TEST(SigningVerify, LeafWithoutSigningUsage) {
  CertSample c;
  test::TestCert leaf = test::make_cert({"no-sign", false, "critical,keyEncipherment", ""}, &c.pki.intermediate);
  ASSERT_TRUE(c.sign(leaf, {c.pki.intermediate.cert_pem}));
  VerifyResult r = c.verify(c.pki.root);
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.message, "signing certificate CN=no-sign cannot be used for signing: key usage lacks "
                              "digitalSignature and extended key usage lacks codeSigning");
}

TEST(SigningVerify, ExpiredLeafRejectedNowAcceptedAtSigningTime) {
  CertSample c;
  test::TestCert leaf = test::make_cert({"expired", false, "critical,digitalSignature", "", -5, -1}, &c.pki.intermediate);
  ASSERT_TRUE(c.sign(leaf, {c.pki.intermediate.cert_pem}));
  VerifyResult r = c.verify(c.pki.root);
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.message,
            "certificate chain does not verify at " + c.now_text() + ": certificate has expired (certificate CN=expired)");
  EXPECT_EQ(c.verify(c.pki.root, true).status, VerifyStatus::kVerified);
}

TEST(SigningVerify, LeafIssuedByANonCa) {
  CertSample c;
  test::TestCert fake = test::make_cert({"fake-ca", false, "critical,keyCertSign", ""}, &c.pki.root);
  test::TestCert leaf = test::make_cert({"leaf", false}, &fake);
  ASSERT_TRUE(c.sign(leaf, {fake.cert_pem}));
  VerifyResult r = c.verify(c.pki.root);
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(r.reason.message,
            "certificate chain does not verify at " + c.now_text() + ": invalid CA certificate (certificate CN=fake-ca)");
}

}  // namespace
}  // namespace pedigree
