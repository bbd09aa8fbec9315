// Tests JSF signing and verification: a round trip per algorithm (ES256,
// ES384, ES512, Ed25519, RS256, PS256), tampering with signed fields, wrong
// keys, `signers` and `chain` forms built by hand, the exact messages for
// malformed signature objects, and the CycloneDX spec test document.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <cstdio>
#include <functional>

#include "sbom/validate.h"
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
  EXPECT_TRUE(load_jsf_private_key(t.write("k.pem", pem), &k, &err)) << err.str();
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
    EXPECT_TRUE(r.signers[0].embedded_key);
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
  EXPECT_EQ(r.signers[0].problem, "embedded public key does not match the given key");
  json bare = doc;
  bare["signature"].erase("publicKey");  // the publicKey is signed data
  EXPECT_FALSE(verifies(bare, key.get()));
  bare = sample_bom();
  ASSERT_TRUE(jsf_sign(&bare, key.get(), false, &err, false));
  EXPECT_FALSE(bare["signature"].contains("publicKey"));
  ASSERT_TRUE(jsf_verify(bare, other.get(), &r, &err));
  EXPECT_EQ(r.signers[0].problem, "signature does not match the document");
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
  EXPECT_EQ(verify_error(t), "/signature/certificatePath/0: not an X.509 certificate");
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
  EXPECT_FALSE(r.signers[0].valid);  // signer 0 is not --key
  EXPECT_TRUE(r.signers[1].valid);
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
  EXPECT_TRUE(r.signers[0].embedded_key);
}

TEST(Jsf, SpecTestDocumentParses) {
  json doc;
  Error err;
  ASSERT_TRUE(read_bom_file(test::shared_dir() + "/fixtures/cyclonedx/spec-tests/valid-signatures-1.6.json", &doc,
                            &err)) << err.str();
  JsfReport r;
  ASSERT_TRUE(jsf_verify(doc, nullptr, &r, &err)) << err.str();
  ASSERT_EQ(r.signers.size(), 1u);
  EXPECT_EQ(r.signers[0].algorithm, "ES256");
  // Dummy values: the spec test is a schema test, its signature is not expected to verify.
  std::printf("valid-signatures-1.6.json verifies: %s (%s)\n", r.valid() ? "yes" : "no", r.signers[0].problem.c_str());
}

}  // namespace
}  // namespace pedigree
