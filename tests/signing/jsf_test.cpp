// Tests JSF signing and verification: a round trip per algorithm (ES256,
// ES384, ES512, Ed25519, RS256, PS256), tampering with signed fields, wrong
// keys, `signers` and `chain` built by hand and by jsf_sign with mixed
// algorithms (tampering naming the signer, removed signers caught by required
// keys, reordered links, --append), certificatePath against roots (good, bad
// root, wrong usage, mismatched key), strict excludes/extensions/members, the
// exact messages for malformed signature objects, and the CycloneDX spec tests.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <functional>

#include "sbom/validate.h"
#include "signing/certs.h"
#include "signing/jcs.h"
#include "signing/jsf.h"
#include "tests/support/pki_util.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

using json = nlohmann::json;

json sample_bom() {
  return json::parse(R"({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
    "components": [{"type": "machine-learning-model", "name": "m", "bom-ref": "m",
      "hashes": [{"alg": "SHA-256", "content": "aa"}],
      "properties": [{"name": "pedigree:format", "value": "gguf"}]}]})");
}

JsfKey private_key(const std::string& pem) {
  test::TempDir t;
  JsfKey k;
  Error err;
  EXPECT_TRUE(load_any_private_key(t.write("k.pem", pem), std::nullopt, &k, &err)) << err.str();
  return k;
}

JsfKey key_of(KeyType type) { return private_key(test::make_key(type).private_pem); }

bool verifies(const json& doc, EVP_PKEY* trusted = nullptr) {
  JsfReport r;
  Error err;
  return jsf_verify(doc, trusted, &r, &err) && r.valid();
}

struct Case {
  const char* alg;
  std::function<JsfKey()> make;
  bool pss;
};

TEST(Jsf, RoundTripsEveryAlgorithm) {
  std::vector<Case> cases = {{"ES256", [] { return key_of(KeyType::kP256); }, false},
                             {"ES384", [] { return key_of(KeyType::kP384); }, false},
                             {"ES512", [] { return key_of(KeyType::kP521); }, false},
                             {"Ed25519", [] { return key_of(KeyType::kEd25519); }, false},
                             {"RS256", [] { return private_key(test::make_rsa_key_pem()); }, false},
                             {"PS256", [] { return private_key(test::make_rsa_key_pem()); }, true}};
  for (const Case& c : cases) {
    JsfKey key = c.make();
    json doc = sample_bom();
    Error err;
    ASSERT_TRUE(jsf_sign(&doc, key.get(), c.pss, &err)) << c.alg << err.str();
    EXPECT_EQ(doc["signature"]["algorithm"], c.alg);
    json reread = json::parse(doc.dump(2));
    JsfReport r;
    ASSERT_TRUE(jsf_verify(reread, nullptr, &r, &err)) << err.str();
    ASSERT_EQ(r.signers.size(), 1u);
    EXPECT_TRUE(r.signers[0].valid) << c.alg << r.signers[0].problem;
    EXPECT_EQ(r.signers[0].key_source, "publicKey");
    EXPECT_TRUE(verifies(reread, key.get())) << c.alg;  // the private key holds the public one
    if (std::string(c.alg).starts_with("ES")) {
      std::string raw;
      ASSERT_TRUE(base64url_decode(doc["signature"]["value"].get<std::string>(), &raw));
      size_t coord = c.alg == std::string("ES256") ? 32 : c.alg == std::string("ES384") ? 48 : 66;
      EXPECT_EQ(raw.size(), 2 * coord) << c.alg;  // IEEE P1363 R||S, not DER
    }
    json other = reread;
    other["components"][0]["name"] = "n";
    EXPECT_FALSE(verifies(other)) << c.alg;
  }
}

TEST(Jsf, AnyChangeToASignedFieldFails) {
  JsfKey key = key_of(KeyType::kP256);
  json doc = sample_bom();
  Error err;
  ASSERT_TRUE(jsf_sign(&doc, key.get(), false, &err));
  ASSERT_TRUE(verifies(doc));
  for (const char* ptr : {"/components/0/name", "/components/0/hashes/0/content", "/components/0/properties/0/value",
                          "/signature/algorithm"}) {
    json t = doc;
    t[json::json_pointer(ptr)] = "ES384x";
    EXPECT_FALSE(verifies(t)) << ptr;
  }
  json t = doc;
  t["version"] = 2;
  EXPECT_FALSE(verifies(t));
  json other = sample_bom();
  JsfKey key2 = key_of(KeyType::kP256);
  ASSERT_TRUE(jsf_sign(&other, key2.get(), false, &err));
  t = doc;
  t["signature"]["publicKey"] = other["signature"]["publicKey"];
  EXPECT_FALSE(verifies(t));
}

TEST(Jsf, WrongKeyAndAlteredValueFail) {
  JsfKey key = key_of(KeyType::kEd25519), other = key_of(KeyType::kEd25519);
  json doc = sample_bom();
  Error err;
  ASSERT_TRUE(jsf_sign(&doc, key.get(), false, &err));
  JsfReport r;
  ASSERT_TRUE(jsf_verify(doc, other.get(), &r, &err));
  EXPECT_TRUE(r.signers[0].valid);  // with its embedded key, but not by the given one
  EXPECT_FALSE(r.signers[0].given_key);
  EXPECT_EQ(r.missing_keys, std::vector<std::string>{jsf_key_fingerprint(other.get())});
  EXPECT_FALSE(r.valid());
  json bare = doc;
  bare["signature"].erase("publicKey");  // the publicKey is signed data
  EXPECT_FALSE(verifies(bare, key.get()));
  bare = sample_bom();
  ASSERT_TRUE(jsf_sign(&bare, key.get(), false, &err, false));
  EXPECT_FALSE(bare["signature"].contains("publicKey"));
  ASSERT_TRUE(jsf_verify(bare, other.get(), &r, &err));
  EXPECT_EQ(r.signers[0].problem, "no public key in the signature and no given key verifies it");
  EXPECT_TRUE(verifies(bare, key.get()));
  ASSERT_TRUE(jsf_verify(bare, nullptr, &r, &err));
  EXPECT_EQ(r.signers[0].problem, "no public key in the signature; give --key");
  std::string v = doc["signature"]["value"];
  v[3] = v[3] == 'A' ? 'B' : 'A';
  json t = doc;
  t["signature"]["value"] = v;
  ASSERT_TRUE(jsf_verify(t, nullptr, &r, &err));
  EXPECT_EQ(r.signers[0].problem, "signature does not match the document");
  t = doc;
  t["signature"]["algorithm"] = "XS256";
  ASSERT_TRUE(jsf_verify(t, nullptr, &r, &err));
  EXPECT_EQ(r.signers[0].problem, "unsupported algorithm \"XS256\"");
  t["signature"]["algorithm"] = "ES256";
  ASSERT_TRUE(jsf_verify(t, nullptr, &r, &err));
  EXPECT_EQ(r.signers[0].problem, "key type does not fit algorithm ES256");
}

std::string verify_error(const json& doc) {
  JsfReport r;
  Error err;
  EXPECT_FALSE(jsf_verify(doc, nullptr, &r, &err));
  return err.str();
}

TEST(Jsf, MalformedSignatureObjectsEachHaveTheirMessage) {
  JsfKey key = key_of(KeyType::kP256);
  json doc = sample_bom();
  Error err;
  EXPECT_EQ(verify_error(doc), "no top-level signature");
  ASSERT_TRUE(jsf_sign(&doc, key.get(), false, &err));
  auto with = [&](const char* ptr, json v) {
    json t = doc;
    if (v.is_discarded()) t[json::json_pointer(ptr).parent_pointer()].erase(json::json_pointer(ptr).back());
    else t[json::json_pointer(ptr)] = v;
    return verify_error(t);
  };
  json gone(json::value_t::discarded);
  EXPECT_EQ(with("/signature", 3), "/signature: not an object");
  EXPECT_EQ(with("/signature/value", gone), "/signature: missing string \"value\"");
  EXPECT_EQ(with("/signature/algorithm", gone), "/signature: missing string \"algorithm\"");
  EXPECT_EQ(with("/signature/value", "ab+c"), "/signature/value: not base64url");
  EXPECT_EQ(with("/signature/value", "abc="), "/signature/value: not base64url");
  EXPECT_EQ(with("/signature/publicKey", "k"), "/signature/publicKey: not an object");
  EXPECT_EQ(with("/signature/publicKey/kty", "oct"), "/signature/publicKey: unsupported \"kty\" \"oct\" (EC, RSA or OKP)");
  EXPECT_EQ(with("/signature/publicKey/kty", gone), "/signature/publicKey: missing string \"kty\"");
  EXPECT_EQ(with("/signature/publicKey/crv", "P-192"),
            "/signature/publicKey: unsupported or missing EC \"crv\" (P-256, P-384 or P-521)");
  EXPECT_EQ(with("/signature/publicKey/x", "A"), "/signature/publicKey/x: not base64url");
  EXPECT_EQ(with("/signature/publicKey/y", gone), "/signature/publicKey: missing string \"y\"");
  EXPECT_EQ(with("/signature/publicKey/x", "AAAA"), "/signature/publicKey: EC coordinates must be 32 bytes");
  EXPECT_EQ(with("/signature/publicKey/x", base64url_encode(std::string(32, '\x01'))),
            "/signature/publicKey: EC point is not on the curve");
  json rsa = {{"kty", "RSA"}, {"n", base64url_encode(std::string(256, '\xff'))}, {"e", "AQAB"}};
  rsa["e"] = base64url_encode(std::string(9, '\x01'));
  EXPECT_EQ(with("/signature/publicKey", rsa), "/signature/publicKey: RSA exponent longer than 64 bits");
  rsa["e"] = "AQAB";
  rsa["n"] = "AQAB";
  EXPECT_EQ(with("/signature/publicKey", rsa), "/signature/publicKey: RSA modulus must be 2048 to 16384 bits");
  EXPECT_EQ(with("/signature/signers", json::array()), "/signature/signers: not a non-empty array");
  json t = doc;
  t["signature"].erase("publicKey");
  t["signature"]["certificatePath"] = {"AAAA"};
  EXPECT_EQ(verify_error(t), "/signature/certificatePath/0: not one DER X.509 certificate");
}

// Signs `data` with an Ed25519 key the way JSF does (no DER step needed).
std::string ed25519_value(EVP_PKEY* key, const std::string& data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 64;
  std::string sig(64, '\0');
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(data.data()), data.size()), 1);
  EVP_MD_CTX_free(ctx);
  return base64url_encode(sig);
}

json public_jwk(EVP_PKEY* key) {
  json doc = sample_bom();
  Error err;
  EXPECT_TRUE(jsf_sign(&doc, key, false, &err));
  return doc["signature"]["publicKey"];
}

std::string jcs(const json& j) {
  std::string out;
  Error err;
  EXPECT_TRUE(jcs_canonicalize(j, &out, &err));
  return out;
}

TEST(Jsf, SignersEachSignTheDocumentWithOnlyThemselves) {
  JsfKey a = key_of(KeyType::kEd25519), b = key_of(KeyType::kEd25519);
  json doc = sample_bom();
  json sa = {{"algorithm", "Ed25519"}, {"publicKey", public_jwk(a.get())}};
  json sb = {{"algorithm", "Ed25519"}, {"publicKey", public_jwk(b.get())}};
  json tmp = doc;
  tmp["signature"] = {{"signers", {sa}}};
  sa["value"] = ed25519_value(a.get(), jcs(tmp));
  tmp["signature"] = {{"signers", {sb}}};
  sb["value"] = ed25519_value(b.get(), jcs(tmp));
  doc["signature"] = {{"signers", {sa, sb}}};
  JsfReport r;
  Error err;
  ASSERT_TRUE(jsf_verify(doc, nullptr, &r, &err)) << err.str();
  EXPECT_EQ(r.form, "signers");
  ASSERT_EQ(r.signers.size(), 2u);
  EXPECT_TRUE(r.valid());
  EXPECT_EQ(r.signers[1].pointer, "/signature/signers/1");
  ASSERT_TRUE(jsf_verify(doc, b.get(), &r, &err));
  EXPECT_TRUE(r.valid());  // the given key is among the signers
  EXPECT_FALSE(r.signers[0].given_key);
  EXPECT_TRUE(r.signers[1].given_key);
  doc["components"][0]["name"] = "x";
  EXPECT_FALSE(verifies(doc));
}

TEST(Jsf, ChainLinksCoverTheEarlierLinks) {
  JsfKey a = key_of(KeyType::kEd25519), b = key_of(KeyType::kEd25519);
  json doc = sample_bom();
  json sa = {{"algorithm", "Ed25519"}, {"publicKey", public_jwk(a.get())}};
  json sb = {{"algorithm", "Ed25519"}, {"publicKey", public_jwk(b.get())}};
  json tmp = doc;
  tmp["signature"] = {{"chain", {sa}}};
  sa["value"] = ed25519_value(a.get(), jcs(tmp));
  tmp["signature"] = {{"chain", {sa, sb}}};
  sb["value"] = ed25519_value(b.get(), jcs(tmp));
  doc["signature"] = {{"chain", {sa, sb}}};
  JsfReport r;
  Error err;
  ASSERT_TRUE(jsf_verify(doc, nullptr, &r, &err)) << err.str();
  EXPECT_EQ(r.form, "chain");
  EXPECT_TRUE(r.valid());
  json t = doc;
  std::string v = t["signature"]["chain"][0]["value"];
  t["signature"]["chain"][0]["value"] = ed25519_value(a.get(), "other");
  ASSERT_TRUE(jsf_verify(t, nullptr, &r, &err));
  EXPECT_FALSE(r.signers[0].valid);
  EXPECT_FALSE(r.signers[1].valid);  // the second link signed the first value
}

// Test vectors of the JSF 0.82 specification (appendix A): the P-256 key of
// the sample object, signed with publicKey, with extensions, with excludes,
// and through a certificatePath; and the P-521 vector.
TEST(Jsf, VerifiesTheJsfSpecTestVectors) {
  const std::string base = R"("now": "2019-02-10T11:23:06Z", "name": "Joe", "id": 2200063,)";
  const std::string p256 = R"("publicKey": {"kty": "EC", "crv": "P-256",
    "x": "censDzcMEkgiePz6DXB7cDuwFemshAFR90UNVQFCg8Q", "y": "xq8rze6ewG0-eVcSF72J77gKiD0IHnzpwHaU7t6nVeY"},)";
  std::vector<std::string> docs = {
      "{" + base + R"("signature": {"algorithm": "ES256", )" + p256 +
          R"("value": "DaLAAenX3yOC7ycVyfjIe3tLyrH0U04lPcnQ7ct72ixryZVHdAWQazgDlWhpIDnrgLC0Pq03AvgsCc4ROOCInQ"}})",
      "{" + base + R"("signature": {"algorithm": "ES256", )" + p256 +
          R"("extensions": ["otherExt", "https://example.com/extension"], "otherExt": "Cool Stuff",
          "https://example.com/extension": {"life-is-great": true},
          "value": "THxzfI5M3V-ZofagQcW97YuQBEIUZpo28p2Gq4xxSw4EesqTAkKqPgVKJAjceZSsWgYu6KMgdxH26T2bcgtkBQ"}})",
      R"({"mySignedData": "something", "myUnsignedData": "something else", "signature": {"algorithm": "ES256", )" +
          p256 + R"("excludes": ["myUnsignedData"],
          "value": "18HYl2jLzfVNhmTFPcK4eycWU-0_bSpCKYXXDztwFUt5asXboZCe61jelMU8l1u4EUoUXVXXBE4_qMkmj7Zafw"}})",
      "{" + base + R"("signature": {"algorithm": "ES512", "publicKey": {"kty": "EC", "crv": "P-521",
          "x": "AT9Hw32aVQCGd5csltC1dqhSB4fFt-mEWO-QxZqrr9Yrwn69_q7n1YOYrHSWjk_qMkCGk6qQ4f9ZRYIJPGqjfxC9",
          "y": "AeVHV1elHFzR_P5Lzb22hMyhAzcGSTT1sdwVmFkJGBYt55RKXGNO1H9De2v_p5S-kkK8BZVh3JGzixMyT0Eo_ckS"},
          "value": "AJ659xkbRdTlQQQpcV0dSbZ9DvtpIPTP2l00Xsrbp3PrXPzmJtGzDTnL4hz813SzLgq7ZJZ5ZR7fGvMQ6E_XO-2MAPrGAe5Kny4M2IPbeYuSTRXNvGhshNmhrSveTSqcAOZ3NLd-7KL55KKvF81eAkSxyRF1uyiPy2qK9bozrpz3oWem"}})",
  };
  for (const std::string& text : docs) {
    json doc = json::parse(text);
    EXPECT_TRUE(verifies(doc)) << text;
    doc["name"] = "Jane";
    EXPECT_FALSE(verifies(doc)) << text;
  }
  json excl = json::parse(docs[2]);
  excl["myUnsignedData"] = "changed";  // excluded: still verifies
  EXPECT_TRUE(verifies(excl));
}

TEST(Jsf, VerifiesThroughTheSpecCertificatePath) {
  // The certificatePath of the CycloneDX spec test is the JSF P-256 vector's.
  json doc;
  Error err;
  ASSERT_TRUE(read_bom_file(test::shared_dir() + "/fixtures/cyclonedx/spec-tests/valid-signatures-1.6.json", &doc,
                            &err)) << err.str();
  json v = json::parse(R"({"now": "2019-02-10T11:23:06Z", "name": "Joe", "id": 2200063})");
  v["signature"] = {{"algorithm", "ES256"}, {"certificatePath", doc["signature"]["certificatePath"]},
                    {"value", "OyltWriKjFuc2QLty_FvgEutNZcRHhNPDhi_lSBCn_zI-8pYhlwsY7cR4DcxlBFJ1rTr1L1tC1YaG59Hyt2tWQ"}};
  JsfReport r;
  ASSERT_TRUE(jsf_verify(v, nullptr, &r, &err)) << err.str();
  EXPECT_TRUE(r.valid()) << r.signers[0].problem;
  EXPECT_EQ(r.signers[0].key_source, "certificatePath");
}

TEST(Jsf, SpecTestDocumentsParse) {
  for (const char* v : {"1.6", "1.7"}) {
    std::string path = test::shared_dir() + "/fixtures/cyclonedx/spec-tests/valid-signatures-" + v + ".json";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " absent (needs ../shared)";
    json doc;
    Error err;
    ASSERT_TRUE(read_bom_file(path, &doc, &err)) << err.str();
    JsfReport r;
    ASSERT_TRUE(jsf_verify(doc, nullptr, &r, &err)) << v << err.str();
    EXPECT_EQ(r.form, "single");
    ASSERT_EQ(r.signers.size(), 1u);
    EXPECT_EQ(r.signers[0].algorithm, "ES256");
    EXPECT_EQ(r.signers[0].key_source, "certificatePath");
    // Dummy values: the spec test is a schema test, its signature is not expected to verify.
    EXPECT_EQ(r.signers[0].problem, "signature does not match the document") << v;
  }
}

JsfSigner signer_for(EVP_PKEY* key) {
  JsfSigner s;
  s.key = key;
  return s;
}

// One signing key of each kind the multi-signature tests mix.
std::vector<JsfKey> mixed_keys() {
  std::vector<JsfKey> keys;
  keys.push_back(key_of(KeyType::kP256));
  keys.push_back(key_of(KeyType::kEd25519));
  keys.push_back(private_key(test::make_rsa_key_pem()));
  keys.push_back(key_of(KeyType::kP521));
  return keys;
}

std::vector<JsfSigner> signers_of(const std::vector<JsfKey>& keys) {
  std::vector<JsfSigner> out;
  for (const JsfKey& k : keys) out.push_back(signer_for(k.get()));
  out[2].rsa_pss = true;
  return out;
}

JsfTrust trust_of(const std::vector<JsfKey>& keys) {
  JsfTrust t;
  for (const JsfKey& k : keys) t.keys.push_back(k.get());
  return t;
}

JsfReport report(const json& doc, const JsfTrust& t = {}) {
  JsfReport r;
  Error err;
  EXPECT_TRUE(jsf_verify(doc, t, &r, &err)) << err.str();
  return r;
}

// Indices of the signers that did not verify.
std::vector<size_t> failing(const JsfReport& r) {
  std::vector<size_t> out;
  for (size_t i = 0; i < r.signers.size(); ++i)
    if (!r.signers[i].valid) out.push_back(i);
  return out;
}

TEST(Jsf, SignersAndChainRoundTripWithMixedAlgorithms) {
  std::vector<JsfKey> keys = mixed_keys();
  for (JsfForm form : {JsfForm::kSigners, JsfForm::kChain}) {
    json doc = sample_bom();
    Error err;
    ASSERT_TRUE(jsf_sign(&doc, signers_of(keys), form, false, &err)) << err.str();
    const char* list = jsf_form_name(form);
    ASSERT_EQ(doc["signature"].size(), 1u);
    ASSERT_EQ(doc["signature"][list].size(), 4u);
    json reread = json::parse(doc.dump(2));
    JsfReport r = report(reread, trust_of(keys));
    EXPECT_EQ(r.form, list);
    EXPECT_TRUE(r.valid());
    std::vector<std::string> algs;
    for (const JsfSignerResult& s : r.signers) {
      algs.push_back(s.algorithm);
      EXPECT_TRUE(s.given_key) << s.pointer;
      EXPECT_EQ(s.key_source, "publicKey");
    }
    EXPECT_EQ(algs, (std::vector<std::string>{"ES256", "Ed25519", "PS256", "ES512"}));
    EXPECT_EQ(r.signers[3].pointer, std::string("/signature/") + list + "/3");
    EXPECT_EQ(r.signers[1].fingerprint, jsf_key_fingerprint(keys[1].get()));
    EXPECT_TRUE(report(reread).valid());  // embedded keys alone
  }
}

TEST(Jsf, AnyChangeToASignedFieldFailsNamingTheSigner) {
  std::vector<JsfKey> keys = mixed_keys();
  json doc = sample_bom();
  Error err;
  ASSERT_TRUE(jsf_sign(&doc, signers_of(keys), JsfForm::kSigners, false, &err)) << err.str();
  json t = doc;
  t["components"][0]["hashes"][0]["content"] = "bb";
  EXPECT_EQ(failing(report(t)), (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_EQ(report(t).signers[2].problem, "signature does not match the document");
  t = doc;
  t["signature"]["signers"][1]["keyId"] = "added";  // a signer's own members are its signed data
  EXPECT_EQ(failing(report(t)), (std::vector<size_t>{1}));
  t = doc;
  t["signature"]["signers"][3]["algorithm"] = "ES384";
  JsfReport r = report(t);
  EXPECT_EQ(failing(r), (std::vector<size_t>{3}));
  EXPECT_EQ(r.signers[3].problem, "key type does not fit algorithm ES384");
  EXPECT_EQ(r.signers[3].pointer, "/signature/signers/3");
}

TEST(Jsf, RemovingASignerIsCaughtByTheRequiredKeys) {
  std::vector<JsfKey> keys = mixed_keys();
  json doc = sample_bom();
  Error err;
  ASSERT_TRUE(jsf_sign(&doc, signers_of(keys), JsfForm::kSigners, false, &err)) << err.str();
  json t = doc;
  t["signature"]["signers"].erase(1);
  // Signers are independent: the others still verify, so only the required keys notice.
  EXPECT_TRUE(report(t).valid());
  JsfReport r = report(t, trust_of(keys));
  EXPECT_FALSE(r.valid());
  EXPECT_EQ(r.missing_keys, std::vector<std::string>{jsf_key_fingerprint(keys[1].get())});
  EXPECT_TRUE(failing(r).empty());
}

TEST(Jsf, ChainReorderingAndRemovalFail) {
  std::vector<JsfKey> keys = mixed_keys();
  json doc = sample_bom();
  Error err;
  ASSERT_TRUE(jsf_sign(&doc, signers_of(keys), JsfForm::kChain, false, &err)) << err.str();
  json t = doc;
  std::swap(t["signature"]["chain"][1], t["signature"]["chain"][2]);
  EXPECT_EQ(failing(report(t)), (std::vector<size_t>{1, 2, 3}));
  t = doc;
  t["signature"]["chain"].erase(0);
  EXPECT_EQ(failing(report(t)), (std::vector<size_t>{0, 1, 2}));
  t = doc;
  t["signature"]["chain"].erase(3);  // the last link can go unnoticed without required keys
  EXPECT_TRUE(report(t).valid());
  EXPECT_FALSE(report(t, trust_of(keys)).valid());
  t = doc;
  t["signature"]["chain"][1]["value"] = doc["signature"]["chain"][0]["value"];
  EXPECT_EQ(failing(report(t)), (std::vector<size_t>{1, 2, 3}));
}

TEST(Jsf, AppendKeepsEarlierSignaturesValid) {
  std::vector<JsfKey> keys = mixed_keys();
  for (JsfForm form : {JsfForm::kSigners, JsfForm::kChain}) {
    json doc = sample_bom();
    Error err;
    std::vector<JsfSigner> all = signers_of(keys);
    ASSERT_TRUE(jsf_sign(&doc, {all[0], all[1]}, form, false, &err)) << err.str();
    ASSERT_TRUE(jsf_sign(&doc, {all[2]}, form, true, &err)) << err.str();
    ASSERT_TRUE(jsf_sign(&doc, {all[3]}, form, true, &err)) << err.str();
    EXPECT_EQ(doc["signature"][jsf_form_name(form)].size(), 4u);
    EXPECT_TRUE(report(doc, trust_of(keys)).valid()) << jsf_form_name(form);
    JsfForm other = form == JsfForm::kSigners ? JsfForm::kChain : JsfForm::kSigners;
    json t = doc;
    EXPECT_FALSE(jsf_sign(&t, {all[0]}, other, true, &err));
    EXPECT_EQ(err.str(), std::string("cannot append: the document has no top-level \"") + jsf_form_name(other) +
                             "\" signature");
    t["components"][0]["name"] = "changed";
    EXPECT_FALSE(jsf_sign(&t, {all[0]}, form, true, &err));
    EXPECT_EQ(err.str(), std::string("cannot append: existing signature /signature/") + jsf_form_name(form) +
                             "/0 does not verify: signature does not match the document");
  }
  json doc = sample_bom();
  Error err;
  ASSERT_TRUE(jsf_sign(&doc, keys[0].get(), false, &err));
  EXPECT_FALSE(jsf_sign(&doc, {signer_for(keys[1].get())}, JsfForm::kSigners, true, &err));
  EXPECT_EQ(err.str(), "cannot append: the document has no top-level \"signers\" signature");
  EXPECT_FALSE(jsf_sign(&doc, {signer_for(keys[1].get())}, JsfForm::kSingle, true, &err));
  EXPECT_EQ(err.str(),
            "cannot append to a single signature: it signs the document alone (re-sign with --mode signers or "
            "--mode chain)");
  EXPECT_FALSE(jsf_sign(&doc, {signer_for(keys[1].get())}, JsfForm::kSigners, false, &err));
  EXPECT_EQ(err.str(), "document already has a top-level signature (--append adds to signers or a chain)");
}

struct CertCase {
  test::TestPki pki = test::make_pki();
  JsfKey leaf_key = private_key(pki.leaf.key.private_pem);
  std::vector<CertPtr> owned;

  X509* cert(const std::string& pem) {
    test::TempDir t;
    std::vector<CertPtr> certs;
    Error err;
    EXPECT_TRUE(load_pem_certificates(t.write("c.pem", pem), &certs, &err)) << err.str();
    owned.push_back(std::move(certs[0]));
    return owned.back().get();
  }
  JsfSigner signer(const test::TestCert& leaf, EVP_PKEY* key) {
    JsfSigner s = signer_for(key);
    s.certificate_path = {certificate_der(cert(leaf.cert_pem)), certificate_der(cert(pki.intermediate.cert_pem))};
    return s;
  }
};

TEST(Jsf, CertificatePathChainsToTheGivenRoot) {
  CertCase c;
  json doc = sample_bom();
  Error err;
  ASSERT_TRUE(jsf_sign(&doc, {c.signer(c.pki.leaf, c.leaf_key.get())}, JsfForm::kSingle, false, &err)) << err.str();
  EXPECT_FALSE(doc["signature"].contains("publicKey"));
  ASSERT_EQ(doc["signature"]["certificatePath"].size(), 2u);
  JsfTrust t;
  t.roots = {c.cert(c.pki.root.cert_pem)};
  JsfReport r = report(doc, t);
  EXPECT_TRUE(r.valid()) << r.signers[0].problem;
  EXPECT_TRUE(r.signers[0].chained_to_root);
  EXPECT_EQ(r.signers[0].key_source, "certificatePath");
  EXPECT_EQ(r.signers[0].certificate.rfind("CN=", 0), 0u) << r.signers[0].certificate;
  // Without roots: integrity only; with another PKI's root: not valid.
  r = report(doc);
  EXPECT_TRUE(r.valid());
  EXPECT_FALSE(r.signers[0].chained_to_root);
  test::TestPki other = test::make_pki();
  t.roots = {c.cert(other.root.cert_pem)};
  r = report(doc, t);
  EXPECT_FALSE(r.valid());
  EXPECT_EQ(r.signers[0].problem.rfind("certificate path does not lead to a given root: ", 0), 0u)
      << r.signers[0].problem;
}

TEST(Jsf, CertificatePathWrongUsageAndMismatchedKeyFail) {
  CertCase c;
  test::TestCert no_sign = test::make_cert(test::CertSpec("nosign", false, "critical,keyEncipherment"),
                                           &c.pki.intermediate);
  JsfKey no_sign_key = private_key(no_sign.key.private_pem);
  json doc = sample_bom();
  Error err;
  ASSERT_TRUE(jsf_sign(&doc, {c.signer(no_sign, no_sign_key.get())}, JsfForm::kSingle, false, &err)) << err.str();
  JsfTrust t;
  t.roots = {c.cert(c.pki.root.cert_pem)};
  JsfReport r = report(doc, t);
  EXPECT_FALSE(r.valid());
  EXPECT_EQ(r.signers[0].problem, "certificate CN=nosign key usage lacks digitalSignature");
  // The leaf holds another key than the one signing.
  JsfKey other = key_of(KeyType::kP256);
  json d2 = sample_bom();
  EXPECT_FALSE(jsf_sign(&d2, {c.signer(c.pki.leaf, other.get())}, JsfForm::kSingle, false, &err));
  EXPECT_EQ(err.str(), "the certificate does not hold the signing key's public key");
  // Swap in a certificatePath whose leaf is not the signer's key.
  ASSERT_TRUE(jsf_sign(&d2, other.get(), false, &err));
  json t2 = d2;
  t2["signature"]["certificatePath"] = doc["signature"]["certificatePath"];
  r = report(t2, t);
  EXPECT_EQ(r.signers[0].problem, "publicKey does not match the certificatePath leaf");
  t2["signature"].erase("publicKey");
  r = report(t2, t);
  EXPECT_EQ(r.signers[0].problem, "signature does not match the document");
}

TEST(Jsf, ExcludesExtensionsAndMembersAreCheckedStrictly) {
  JsfKey key = key_of(KeyType::kP256);
  json doc = sample_bom();
  Error err;
  ASSERT_TRUE(jsf_sign(&doc, key.get(), false, &err));
  auto sig_with = [&](const char* name, json v) {
    json t = doc;
    t["signature"][name] = v;
    return verify_error(t);
  };
  EXPECT_EQ(sig_with("excludes", json::array()), "/signature/excludes: not a non-empty array of strings");
  EXPECT_EQ(sig_with("excludes", {"version", "version"}), "/signature/excludes: duplicate \"version\"");
  EXPECT_EQ(sig_with("excludes", {"signature"}), "/signature/excludes: \"signature\" cannot be excluded");
  EXPECT_EQ(sig_with("excludes", {"nothere"}), "/signature/excludes: \"nothere\" is not a top-level member");
  EXPECT_EQ(sig_with("extensions", {1}), "/signature/extensions: not a non-empty array of strings");
  EXPECT_EQ(sig_with("extensions", {"value"}), "/signature/extensions: \"value\" is a JSF name");
  EXPECT_EQ(sig_with("other", 1), "/signature: unexpected member \"other\"");
  JsfReport r = report([&] {
    json t = doc;
    t["signature"]["excludes"] = {"version"};
    return t;
  }());
  EXPECT_EQ(failing(r), std::vector<size_t>{0});  // excludes was not signed when the signature was made
  json multi = sample_bom();
  ASSERT_TRUE(jsf_sign(&multi, {signer_for(key.get())}, JsfForm::kSigners, false, &err));
  json t = multi;
  t["signature"]["chain"] = t["signature"]["signers"];
  EXPECT_EQ(verify_error(t), "/signature: has both \"signers\" and \"chain\"");
  t = multi;
  t["signature"]["algorithm"] = "ES256";
  EXPECT_EQ(verify_error(t), "/signature: unexpected member \"algorithm\" beside \"signers\"");
  t = multi;
  t["signature"]["signers"][0]["excludes"] = {"version"};
  EXPECT_EQ(verify_error(t), "/signature/signers/0: unexpected member \"excludes\"");
}

// A multi-signature document signed with outer `excludes` (JSF global option):
// the excluded member may change, the others may not.
TEST(Jsf, OuterExcludesApplyToEverySigner) {
  std::vector<JsfKey> keys = mixed_keys();
  std::vector<JsfSigner> all = signers_of(keys);
  json doc = sample_bom();
  Error err;
  ASSERT_TRUE(jsf_sign(&doc, {all[0], all[1]}, JsfForm::kSigners, false, &err)) << err.str();
  // `excludes` and the member it names are outside every signer's data.
  doc["unsigned"] = "anything";
  doc["signature"]["excludes"] = {"unsigned"};
  EXPECT_TRUE(report(doc).valid());
  ASSERT_TRUE(jsf_sign(&doc, {all[2], all[3]}, JsfForm::kSigners, true, &err)) << err.str();
  doc["unsigned"] = "changed";
  EXPECT_TRUE(report(doc, trust_of(keys)).valid());
  doc["version"] = 7;
  EXPECT_EQ(failing(report(doc)), (std::vector<size_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace pedigree
