// Tests of signing/keyless.cpp through verify_model: the four Sigstore keyless
// fixtures of the OMS reference verify offline against the fixture trust
// config, and each check fails with its own message when the model, the
// bundle (tlog entry, SET, SCT, RFC 3161 token) or the trusted root is
// tampered with in code. Needs ../shared; skipped when it is absent.
#include "signing/keyless.h"

#include <gtest/gtest.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "signing/encoding.h"
#include "signing/verify.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using nlohmann::json;
using test::TempDir;
namespace fs = std::filesystem;

constexpr char kIdentity[] = "stefanb@us.ibm.com";
constexpr char kIssuer[] = "https://sigstore.verify.ibm.com/oauth2";
const std::vector<std::string> kVersions = {"v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"};

std::string fixtures() {
  std::string s = test::shared_dir();
  return s.empty() ? s : s + "/fixtures/oms-model-transparency";
}

json load_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

// A copy of one sigstore fixture whose bundle and trust root tests may edit.
struct Case {
  TempDir t;
  std::string dir;
  json bundle, trust;
  explicit Case(const std::string& version) {
    dir = (t.path() / "m").string();
    fs::copy(fixtures() + "/" + version + "-sigstore", dir, fs::copy_options::recursive);
    fs::remove(dir + "/model.sig");
    bundle = load_json(fixtures() + "/" + version + "-sigstore/model.sig");
    trust = load_json(fixtures() + "/trust/custom_trust_config.json");
  }
  json& entry() { return bundle["verificationMaterial"]["tlogEntries"][0]; }
  json& root() { return trust["trustedRoot"]; }
  VerifyResult run(const std::string& identity = kIdentity, const std::string& issuer = kIssuer) {
    VerifyRequest req;
    req.model_path = dir;
    req.bundle_path = t.write("model.sig", bundle.dump());
    req.trust_root_path = t.write("trust.json", trust.dump());
    req.identity = identity;
    req.issuer = issuer;
    req.ignore_unsigned_files = true;  // v1.0.1 leaves ignore-me unsigned
    return verify_model(req);
  }
};

const CheckResult* find_check(const VerifyResult& r, const std::string& name) {
  for (const CheckResult& c : r.checks)
    if (c.name == name) return &c;
  return nullptr;
}

std::string reason(const VerifyResult& r) { return r.reason.message; }

// Flips one bit of a base64 field's decoded bytes at `pos` (negative: from the end).
void flip_b64(json& field, long pos) {
  std::string raw;
  ASSERT_TRUE(base64_decode(field.get<std::string>(), &raw));
  size_t at = pos < 0 ? raw.size() + pos : size_t(pos);
  raw[at] = char(raw[at] ^ 0x01);
  field = base64_encode(raw);
}

#define SKIP_WITHOUT_SHARED() \
  if (fixtures().empty()) GTEST_SKIP() << "../shared is absent"

TEST(SigningKeyless, EveryFixtureVerifies) {
  SKIP_WITHOUT_SHARED();
  for (const std::string& v : kVersions) {
    Case c(v);
    VerifyResult r = c.run();
    ASSERT_EQ(r.status, VerifyStatus::kVerified) << v << ": " << r.reason.str();
    EXPECT_EQ(r.method, "keyless");
    EXPECT_EQ(r.identity, kIdentity);
    EXPECT_EQ(r.oidc_issuer, kIssuer);
    ASSERT_EQ(r.signing_times.size(), 1u) << v;
    for (const char* n : {"tlog-body", "tlog-inclusion-proof", "tlog-checkpoint", "tlog-set", "fulcio-chain", "sct",
                          "identity", "issuer", "dsse-signature"}) {
      const CheckResult* ch = find_check(r, n);
      ASSERT_NE(ch, nullptr) << v << " " << n;
      EXPECT_EQ(ch->state, CheckState::kPassed) << v << " " << n << ": " << ch->detail;
    }
    const CheckResult* ts = find_check(r, "rfc3161");
    ASSERT_NE(ts, nullptr);
    if (v == "v1.1.0") {
      // The token is from the sigstore.dev TSA; the fixture trust config lists only a GitHub TSA.
      EXPECT_EQ(ts->state, CheckState::kNotUsed);
      EXPECT_EQ(ts->detail, "timestamp signer CN=sigstore-tsa,O=sigstore.dev does not chain to a timestamp authority "
                            "in the trusted root (unable to get local issuer certificate (certificate "
                            "CN=sigstore-tsa,O=sigstore.dev)); time not used");
    } else {
      EXPECT_EQ(ts->state, CheckState::kAbsent);
      EXPECT_EQ(ts->detail, "absent in bundle");
    }
  }
}

TEST(SigningKeyless, BareTrustedRootIsAccepted) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.0.0");
  c.trust = json(c.root());
  EXPECT_EQ(c.run().status, VerifyStatus::kVerified);
}

TEST(SigningKeyless, ChangedModelFile) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.1.0");
  std::string p = c.dir + "/signme-1";
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  char ch = 0;
  f.read(&ch, 1);
  f.seekp(0);
  ch = char(ch ^ 0x20);
  f.write(&ch, 1);
  f.close();
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "model does not match the signature: changed signme-1");
}

TEST(SigningKeyless, WrongIdentityAndIssuer) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.0.1");
  VerifyResult r = c.run("mallory@example.com");
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "identity: certificate identity stefanb@us.ibm.com does not match --identity mallory@example.com");
  r = c.run(kIdentity, "https://accounts.google.com");
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "issuer: certificate issuer https://sigstore.verify.ibm.com/oauth2 does not match --issuer "
                       "https://accounts.google.com");
}

TEST(SigningKeyless, ModifiedInclusionProofHash) {
  SKIP_WITHOUT_SHARED();
  Case c("v0.3.1");
  flip_b64(c.entry()["inclusionProof"]["hashes"][3], 0);
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  std::string want_end = " does not match rootHash 6LgsIBWGEM0QwyPvHIqtMBZOneCWtxe8D3AfxOaezq4=";
  EXPECT_EQ(reason(r).rfind("tlog-inclusion-proof: recomputed root hash ", 0), 0u) << reason(r);
  EXPECT_EQ(reason(r).substr(reason(r).size() - want_end.size()), want_end);
  c.entry()["inclusionProof"]["hashes"].erase(0);
  r = c.run();
  EXPECT_EQ(reason(r), "tlog-inclusion-proof: proof has 11 hashes, a leaf at index 84437787 of a tree of size "
                       "84437788 needs 12");
}

TEST(SigningKeyless, ModifiedRootHashAndCheckpoint) {
  SKIP_WITHOUT_SHARED();
  Case c("v0.3.1");
  c.entry()["inclusionProof"]["rootHash"] = base64_encode(std::string(32, '\x07'));
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "tlog-inclusion-proof: recomputed root hash 6LgsIBWGEM0QwyPvHIqtMBZOneCWtxe8D3AfxOaezq4= does "
                       "not match rootHash BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=");
  const CheckResult* cp = find_check(r, "tlog-checkpoint");
  ASSERT_NE(cp, nullptr);
  EXPECT_EQ(cp->detail, "checkpoint (size 84437788, root 6LgsIBWGEM0QwyPvHIqtMBZOneCWtxe8D3AfxOaezq4=) does not match "
                        "the inclusion proof (size 84437788, root BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=)");

  Case d("v0.3.1");
  std::string note = d.entry()["inclusionProof"]["checkpoint"]["envelope"];
  size_t sig = note.rfind(' ') + 1;
  std::string raw;
  ASSERT_TRUE(base64_decode(note.substr(sig, note.size() - sig - 1), &raw));
  raw.back() = char(raw.back() ^ 0x01);
  d.entry()["inclusionProof"]["checkpoint"]["envelope"] = note.substr(0, sig) + base64_encode(raw) + "\n";
  r = d.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "tlog-checkpoint: no checkpoint signature verifies with the transparency log key "
                       "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=");
}

TEST(SigningKeyless, ModifiedSignedEntryTimestamp) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.0.0");
  flip_b64(c.entry()["inclusionPromise"]["signedEntryTimestamp"], -1);
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "tlog-set: signed entry timestamp does not verify with the transparency log key");
  // Without a verified SET there is no signing time for the chain.
  EXPECT_EQ(find_check(r, "fulcio-chain")->detail,
            "no verified signing time (needs a verified signed entry timestamp or RFC 3161 timestamp)");
  c.bundle = load_json(fixtures() + "/v1.0.0-sigstore/model.sig");
  c.entry()["integratedTime"] = "1746236087";  // a changed time is caught by the SET too
  EXPECT_EQ(reason(c.run()), "tlog-set: signed entry timestamp does not verify with the transparency log key");
}

TEST(SigningKeyless, ModifiedSct) {
  SKIP_WITHOUT_SHARED();
  Case c("v0.3.1");
  json& cert = c.bundle["verificationMaterial"]["certificate"]["rawBytes"];
  std::string der;
  ASSERT_TRUE(base64_decode(cert.get<std::string>(), &der));
  std::string log_id = test::unhex("dd3d306ac6c7113263191e1c99673702a24a5eb8de3cadff878a72802f29ee8e");
  size_t at = der.find(log_id);
  ASSERT_NE(at, std::string::npos);
  der[at + 32 + 7] = char(der[at + 32 + 7] ^ 0x01);  // last byte of the SCT timestamp
  cert = base64_encode(der);
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  const CheckResult* sct = find_check(r, "sct");
  ASSERT_NE(sct, nullptr);
  EXPECT_EQ(sct->state, CheckState::kFailed);
  EXPECT_EQ(sct->detail, "SCT from https://ctfe.sigstore.dev/2022 does not verify over the precertificate");
  // The changed certificate is no longer the one Fulcio signed nor the one Rekor recorded.
  EXPECT_EQ(find_check(r, "tlog-body")->detail, "body records another certificate than the bundle's");
  EXPECT_EQ(find_check(r, "fulcio-chain")->state, CheckState::kFailed);
}

TEST(SigningKeyless, SctLogNotInTrustedRoot) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.0.0");
  c.root()["ctlogs"].erase(1);
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "sct: SCT log id 3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4= is not a CT log in the trusted root");
}

TEST(SigningKeyless, TrustRootWithoutTheCa) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.0.1");
  c.root()["certificateAuthorities"].erase(1);
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "fulcio-chain: leaf issuer CN=sigstore-intermediate,O=sigstore.dev is not a certificate "
                       "authority in the trusted root");
}

TEST(SigningKeyless, CaValidityWindowExcludesTheSigningTime) {
  SKIP_WITHOUT_SHARED();
  Case c("v0.3.1");
  c.root()["certificateAuthorities"][1]["validFor"]["end"] = "2024-01-01T00:00:00Z";
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "fulcio-chain: certificate authority https://fulcio.sigstore.dev is not valid at "
                       "2025-05-03T01:10:02Z (validFor 2022-04-13T20:06:15Z to 2024-01-01T00:00:00Z)");
}

TEST(SigningKeyless, TransparencyLogNotInTrustedRoot) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.1.0");
  c.root()["tlogs"] = json::array();
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "tlog-checkpoint: log id wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0= is not a transparency "
                       "log in the trusted root");
}

TEST(SigningKeyless, MissingTlogMaterial) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.0.0");
  c.entry().erase("inclusionPromise");
  VerifyResult r = c.run();  // inclusion is proven, but only the SET signs the integrated time
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(find_check(r, "tlog-set")->detail, "absent in bundle");
  EXPECT_EQ(find_check(r, "tlog-checkpoint")->state, CheckState::kPassed);
  EXPECT_EQ(reason(r), "fulcio-chain: no verified signing time (needs a verified signed entry timestamp or RFC 3161 "
                       "timestamp)");
  c.bundle = load_json(fixtures() + "/v1.0.0-sigstore/model.sig");
  c.entry().erase("inclusionProof");
  r = c.run();  // a verified SET alone is a promise of inclusion
  EXPECT_EQ(r.status, VerifyStatus::kVerified) << r.reason.str();
  EXPECT_EQ(find_check(r, "tlog-inclusion-proof")->state, CheckState::kAbsent);
  EXPECT_EQ(find_check(r, "tlog-checkpoint")->state, CheckState::kAbsent);
  c.bundle["verificationMaterial"]["tlogEntries"] = json::array();
  r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(find_check(r, "tlog-body")->detail, "absent in bundle");
}

TEST(SigningKeyless, ModifiedTlogBody) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.0.1");
  c.entry()["kindVersion"]["kind"] = "intoto";
  VerifyResult r = c.run();
  EXPECT_EQ(reason(r), "tlog-body: entry kind intoto 0.0.1 is not supported (dsse 0.0.1)");
}

TEST(SigningKeyless, ModifiedEnvelopePayload) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.1.0");
  std::string payload;
  ASSERT_TRUE(base64_decode(c.bundle["dsseEnvelope"]["payload"].get<std::string>(), &payload));
  c.bundle["dsseEnvelope"]["payload"] = base64_encode(payload + " ");
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r).rfind("tlog-body: payloadHash 1dc62239e6e2776a8776eed7ad423123f46eaab33dc15967d7b999168c6d11ed "
                            "is not the bundle's (", 0), 0u) << reason(r);
  EXPECT_EQ(find_check(r, "dsse-signature")->detail, "signature does not verify with the leaf certificate's key");
  flip_b64(c.bundle["dsseEnvelope"]["signatures"][0]["sig"], 10);
  c.bundle["dsseEnvelope"]["payload"] = base64_encode(payload);
  EXPECT_EQ(reason(c.run()), "tlog-body: body records another signature than the envelope's");
}

TEST(SigningKeyless, KeyBundleWithTrustRoot) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.1.0");
  c.bundle = load_json(fixtures() + "/v1.1.0-elliptic-key/model.sig");
  VerifyResult r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "bundle is not a Sigstore keyless signature; verify with --key or --cert-root");
}

// The DER certificate that signed an RFC 3161 response (its first embedded certificate).
std::string token_signer_der(const std::string& resp_der) {
  const auto* p = reinterpret_cast<const unsigned char*>(resp_der.data());
  TS_RESP* resp = d2i_TS_RESP(nullptr, &p, long(resp_der.size()));
  std::string out;
  PKCS7* p7 = resp ? TS_RESP_get_token(resp) : nullptr;
  STACK_OF(X509)* certs = p7 && PKCS7_type_is_signed(p7) ? p7->d.sign->cert : nullptr;
  if (certs && sk_X509_num(certs) > 0) {
    unsigned char* buf = nullptr;
    int n = i2d_X509(sk_X509_value(certs, 0), &buf);
    out.assign(reinterpret_cast<char*>(buf), size_t(n));
    OPENSSL_free(buf);
  }
  TS_RESP_free(resp);
  return out;
}

TEST(SigningKeyless, Rfc3161TimestampVerifiesAndTamperFails) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.1.0");
  json& token = c.bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"];
  std::string der;
  ASSERT_TRUE(base64_decode(token.get<std::string>(), &der));
  std::string signer = token_signer_der(der);
  ASSERT_FALSE(signer.empty());
  c.root()["timestampAuthorities"] =
      json::array({{{"uri", "https://timestamp.sigstore.dev"},
                    {"certChain", {{"certificates", json::array({{{"rawBytes", base64_encode(signer)}}})}}},
                    {"validFor", {{"start", "2025-01-01T00:00:00Z"}}}}});
  VerifyResult r = c.run();
  ASSERT_EQ(r.status, VerifyStatus::kVerified) << r.reason.str();
  EXPECT_EQ(find_check(r, "rfc3161")->state, CheckState::kPassed);
  EXPECT_EQ(find_check(r, "rfc3161")->detail, "time 2025-10-10T02:12:20Z signed by CN=sigstore-tsa,O=sigstore.dev");
  EXPECT_EQ(r.signing_times.size(), 2u);

  flip_b64(token, -1);  // last byte of the CMS signature
  r = c.run();
  EXPECT_EQ(r.status, VerifyStatus::kRejected);
  EXPECT_EQ(reason(r), "rfc3161: timestamp at 2025-10-10T02:12:20Z does not verify: signature failure");

  // A TSA whose window excludes the token time leaves the timestamp unused, not trusted.
  Case d("v1.1.0");
  d.root()["timestampAuthorities"] = c.root()["timestampAuthorities"];
  d.root()["timestampAuthorities"][0]["validFor"]["end"] = "2025-06-01T00:00:00Z";
  r = d.run();
  EXPECT_EQ(r.status, VerifyStatus::kVerified);
  EXPECT_EQ(find_check(r, "rfc3161")->state, CheckState::kNotUsed);
}

TEST(SigningKeyless, KeylessBundleWithOtherMethods) {
  SKIP_WITHOUT_SHARED();
  Case c("v1.0.0");
  VerifyRequest req;
  req.model_path = c.dir;
  req.bundle_path = c.t.write("model.sig", c.bundle.dump());
  req.key_path = fixtures() + "/keys/certificate/signing-key-pub.pem";
  VerifyResult r = verify_model(req);
  EXPECT_EQ(reason(r), "bundle is a Sigstore keyless signature; verify with --trust-root, --identity and --issuer");
  req.key_path.clear();
  req.trust_root_path = c.t.write("trust.json", c.trust.dump());
  req.identity = kIdentity;
  r = verify_model(req);
  EXPECT_EQ(r.status, VerifyStatus::kCannotRun);
  EXPECT_EQ(reason(r), "--trust-root needs --identity and --issuer");
}

TEST(SigningKeyless, CheckStateNames) {
  EXPECT_EQ(check_state_name(CheckState::kPassed), "passed");
  EXPECT_EQ(check_state_name(CheckState::kFailed), "failed");
  EXPECT_EQ(check_state_name(CheckState::kAbsent), "absent");
  EXPECT_EQ(check_state_name(CheckState::kNotUsed), "not used");
}

}  // namespace
}  // namespace pedigree
