// This file implements JSF 0.82 signing and verification of CycloneDX BOMs
// (see jsf.h): JWK public keys, ECDSA values as fixed-length R||S, PS256 with
// a 32-byte salt, and the data each signature covers (RFC 8785 form of the
// document with that signature's value removed, other signers left out).
#include "signing/jsf.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <map>

#include "signing/encoding.h"
#include "signing/jcs.h"

namespace pedigree {
namespace {

using json = nlohmann::json;

enum class Kind { kEcdsa, kEd25519, kRsaPkcs1, kRsaPss };

struct Algorithm {
  Kind kind;
  const char* curve;  // JWK crv for EC / OKP
  size_t coord;       // EC coordinate bytes
  const EVP_MD* (*md)();
};

const std::map<std::string, Algorithm>& algorithms() {
  static const std::map<std::string, Algorithm> m = {
      {"ES256", {Kind::kEcdsa, "P-256", 32, EVP_sha256}},
      {"ES384", {Kind::kEcdsa, "P-384", 48, EVP_sha384}},
      {"ES512", {Kind::kEcdsa, "P-521", 66, EVP_sha512}},
      {"Ed25519", {Kind::kEd25519, "Ed25519", 32, nullptr}},
      {"RS256", {Kind::kRsaPkcs1, "", 0, EVP_sha256}},
      {"PS256", {Kind::kRsaPss, "", 0, EVP_sha256}},
  };
  return m;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

bool reject(Error* err, const std::string& msg) { return fail(err, "", std::nullopt, msg); }

std::string curve_of(EVP_PKEY* key) {
  char group[64] = {0};
  size_t len = 0;
  if (!EVP_PKEY_get_group_name(key, group, sizeof group, &len)) return "";
  std::string g(group, len);
  if (g == "prime256v1" || g == "P-256") return "P-256";
  if (g == "secp384r1" || g == "P-384") return "P-384";
  if (g == "secp521r1" || g == "P-521") return "P-521";
  return g;
}

// True when `key` is of the type `alg` needs.
bool key_fits(EVP_PKEY* key, const Algorithm& alg) {
  int id = EVP_PKEY_get_base_id(key);
  switch (alg.kind) {
    case Kind::kEcdsa: return id == EVP_PKEY_EC && curve_of(key) == alg.curve;
    case Kind::kEd25519: return id == EVP_PKEY_ED25519;
    default: return id == EVP_PKEY_RSA;
  }
}

std::string bn_bytes(EVP_PKEY* key, const char* param, size_t pad) {
  BIGNUM* raw = nullptr;
  if (!EVP_PKEY_get_bn_param(key, param, &raw)) return "";
  BnPtr bn(raw);
  size_t n = pad ? pad : size_t(BN_num_bytes(bn.get()));
  std::string out(n, '\0');
  BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), int(n));
  return out;
}

json jwk_of(EVP_PKEY* key) {
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519) {
    std::string x(32, '\0');
    size_t len = x.size();
    EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(x.data()), &len);
    return {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url_encode(x)}};
  }
  if (id == EVP_PKEY_RSA)
    return {{"kty", "RSA"},
            {"n", base64url_encode(bn_bytes(key, OSSL_PKEY_PARAM_RSA_N, 0))},
            {"e", base64url_encode(bn_bytes(key, OSSL_PKEY_PARAM_RSA_E, 0))}};
  std::string crv = curve_of(key);
  size_t coord = crv == "P-256" ? 32 : crv == "P-384" ? 48 : 66;
  return {{"kty", "EC"},
          {"crv", crv},
          {"x", base64url_encode(bn_bytes(key, OSSL_PKEY_PARAM_EC_PUB_X, coord))},
          {"y", base64url_encode(bn_bytes(key, OSSL_PKEY_PARAM_EC_PUB_Y, coord))}};
}

bool jwk_member(const json& jwk, const char* name, const std::string& where, std::string* out, Error* err) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return reject(err, where + ": missing string \"" + name + "\"");
  if (!base64url_decode(it->get<std::string>(), out) || out->empty())
    return reject(err, where + "/" + name + ": not base64url");
  return true;
}

bool from_params(const char* type, OSSL_PARAM_BLD* bld, JsfKey* out) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  bool ok = params && ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
            EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) == 1;
  ERR_clear_error();
  out->reset(ok ? pkey : nullptr);
  return ok;
}

bool ec_from_jwk(const json& jwk, const std::string& where, JsfKey* out, Error* err) {
  auto crv = jwk.find("crv");
  std::map<std::string, std::pair<const char*, size_t>> curves = {
      {"P-256", {"prime256v1", 32}}, {"P-384", {"secp384r1", 48}}, {"P-521", {"secp521r1", 66}}};
  if (crv == jwk.end() || !crv->is_string() || !curves.count(crv->get<std::string>()))
    return reject(err, where + ": unsupported or missing EC \"crv\" (P-256, P-384 or P-521)");
  auto [group, coord] = curves.at(crv->get<std::string>());
  std::string x, y;
  if (!jwk_member(jwk, "x", where, &x, err) || !jwk_member(jwk, "y", where, &y, err)) return false;
  if (x.size() != coord || y.size() != coord)
    return reject(err, where + ": EC coordinates must be " + std::to_string(coord) + " bytes");
  std::string point = "\x04" + x + y;
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  if (!from_params("EC", bld.get(), out)) return reject(err, where + ": EC point is not on the curve");
  return true;
}

bool rsa_from_jwk(const json& jwk, const std::string& where, JsfKey* out, Error* err) {
  std::string n, e;
  if (!jwk_member(jwk, "n", where, &n, err) || !jwk_member(jwk, "e", where, &e, err)) return false;
  if (n.size() < 256 || n.size() > 2048) return reject(err, where + ": RSA modulus must be 2048 to 16384 bits");
  if (e.size() > 8) return reject(err, where + ": RSA exponent longer than 64 bits");
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), int(n.size()), nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), int(e.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  if (!from_params("RSA", bld.get(), out)) return reject(err, where + ": unusable RSA key");
  return true;
}

bool key_from_jwk(const json& jwk, const std::string& where, JsfKey* out, Error* err) {
  if (!jwk.is_object()) return reject(err, where + ": not an object");
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) return reject(err, where + ": missing string \"kty\"");
  std::string t = kty->get<std::string>();
  if (t == "EC") return ec_from_jwk(jwk, where, out, err);
  if (t == "RSA") return rsa_from_jwk(jwk, where, out, err);
  if (t != "OKP") return reject(err, where + ": unsupported \"kty\" \"" + t + "\" (EC, RSA or OKP)");
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || *crv != "Ed25519") return reject(err, where + ": unsupported OKP \"crv\" (Ed25519)");
  std::string x;
  if (!jwk_member(jwk, "x", where, &x, err)) return false;
  if (x.size() != 32) return reject(err, where + ": Ed25519 key must be 32 bytes");
  out->reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                         reinterpret_cast<const unsigned char*>(x.data()), x.size()));
  ERR_clear_error();
  if (!*out) return reject(err, where + ": unusable Ed25519 key");
  return true;
}

// Public key of the first certificate of a certificatePath (not path-validated).
bool key_from_cert_path(const json& path, const std::string& where, JsfKey* out, Error* err) {
  if (!path.is_array() || path.empty() || !path[0].is_string())
    return reject(err, where + ": not a non-empty array of strings");
  std::string der;
  if (!base64url_decode(path[0].get<std::string>(), &der)) return reject(err, where + "/0: not base64url");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, long(der.size())));
  EVP_PKEY* pkey = cert ? X509_get_pubkey(cert.get()) : nullptr;
  ERR_clear_error();
  if (!pkey) return reject(err, where + "/0: not an X.509 certificate");
  out->reset(pkey);
  return true;
}

bool init_ctx(EVP_MD_CTX* ctx, EVP_PKEY* key, const Algorithm& alg, bool sign) {
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = alg.md ? alg.md() : nullptr;
  int ok = sign ? EVP_DigestSignInit(ctx, &pctx, md, nullptr, key) : EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, key);
  if (ok != 1) return false;
  if (alg.kind != Kind::kRsaPss) return true;
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
}

// DER ECDSA-Sig-Value -> R||S, each `coord` bytes.
bool der_to_raw(const std::string& der, size_t coord, std::string* raw) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, long(der.size())));
  if (!sig) return false;
  raw->assign(2 * coord, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw->data());
  return BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, int(coord)) == int(coord) &&
         BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + coord, int(coord)) == int(coord);
}

bool raw_to_der(const std::string& raw, std::string* der) {
  size_t half = raw.size() / 2;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(p, int(half), nullptr);
  BIGNUM* s = BN_bin2bn(p + half, int(half), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r), BN_free(s);
    return false;
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return false;
  der->assign(size_t(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der->data());
  return i2d_ECDSA_SIG(sig.get(), &out) == len;
}

bool raw_sign(EVP_PKEY* key, const Algorithm& alg, const std::string& data, std::string* value) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const auto* msg = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = 0;
  if (!ctx || !init_ctx(ctx.get(), key, alg, true) || EVP_DigestSign(ctx.get(), nullptr, &len, msg, data.size()) != 1)
    return false;
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, msg, data.size()) != 1)
    return false;
  sig.resize(len);
  if (alg.kind == Kind::kEcdsa) return der_to_raw(sig, alg.coord, value);
  *value = sig;
  return true;
}

bool raw_verify(EVP_PKEY* key, const Algorithm& alg, const std::string& data, const std::string& value) {
  std::string sig = value;
  if (alg.kind == Kind::kEcdsa && (value.size() != 2 * alg.coord || !raw_to_der(value, &sig))) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  bool ok = ctx && init_ctx(ctx.get(), key, alg, false) &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  ERR_clear_error();
  return ok;
}

// A signature object read strictly.
struct SigObject {
  std::string algorithm;
  std::string value;  // decoded
  JsfKey key;         // from publicKey or certificatePath; null when neither
};

bool parse_sig(const json& s, const std::string& where, SigObject* out, Error* err) {
  if (!s.is_object()) return reject(err, where + ": not an object");
  auto alg = s.find("algorithm");
  if (alg == s.end() || !alg->is_string()) return reject(err, where + ": missing string \"algorithm\"");
  out->algorithm = alg->get<std::string>();
  auto val = s.find("value");
  if (val == s.end() || !val->is_string()) return reject(err, where + ": missing string \"value\"");
  if (!base64url_decode(val->get<std::string>(), &out->value) || out->value.empty())
    return reject(err, where + "/value: not base64url");
  if (auto pk = s.find("publicKey"); pk != s.end()) return key_from_jwk(*pk, where + "/publicKey", &out->key, err);
  if (auto cp = s.find("certificatePath"); cp != s.end())
    return key_from_cert_path(*cp, where + "/certificatePath", &out->key, err);
  return true;
}

// Verifies one parsed signature object over `data`.
JsfSignerResult check(const SigObject& s, const std::string& pointer, const std::string& data, EVP_PKEY* trusted) {
  JsfSignerResult r;
  r.pointer = pointer;
  r.algorithm = s.algorithm;
  auto alg = algorithms().find(s.algorithm);
  EVP_PKEY* key = trusted ? trusted : s.key.get();
  r.embedded_key = !trusted;
  if (alg == algorithms().end()) r.problem = "unsupported algorithm \"" + s.algorithm + "\"";
  else if (!key) r.problem = "no public key in the signature; give --key";
  else if (trusted && s.key && EVP_PKEY_eq(trusted, s.key.get()) != 1)
    r.problem = "embedded public key does not match the given key";
  else if (!key_fits(key, alg->second)) r.problem = "key type does not fit algorithm " + s.algorithm;
  else if (!raw_verify(key, alg->second, data, s.value)) r.problem = "signature does not match the document";
  else r.valid = true;
  return r;
}

// Verifies each object of signature.signers (alone in the array) or
// signature.chain (with the links before it), its own value left out.
bool verify_list(const json& doc, const char* member, JsfReport* out, EVP_PKEY* trusted, Error* err) {
  const json& list = doc["signature"][member];
  std::string base = std::string("/signature/") + member;
  if (!list.is_array() || list.empty()) return reject(err, base + ": not a non-empty array");
  if (list.size() > 64) return reject(err, base + ": more than 64 signatures");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string where = base + "/" + std::to_string(i);
    SigObject s;
    if (!parse_sig(list[i], where, &s, err)) return false;
    json copy = doc;
    json& arr = copy["signature"][member];
    if (std::string(member) == "signers") arr = json::array({list[i]});
    else arr.erase(arr.begin() + long(i) + 1, arr.end());
    arr.back().erase("value");
    std::string data;
    if (!jcs_canonicalize(copy, &data, err)) return false;
    out->signers.push_back(check(s, where, data, trusted));
  }
  return true;
}

// JSF `excludes`: the named top-level members and `excludes` itself are not signed.
void apply_excludes(const json& sig, json* copy) {
  auto ex = sig.find("excludes");
  if (ex == sig.end() || !ex->is_array()) return;
  for (const json& name : *ex)
    if (name.is_string() && name != "signature") copy->erase(name.get<std::string>());
  (*copy)["signature"].erase("excludes");
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string s = base64_encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

bool base64url_decode(std::string_view text, std::string* out) {
  for (char c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return base64_decode(text, out);
}

bool load_jsf_private_key(const std::string& path, JsfKey* out, Error* err) {
  std::string pem;
  if (!read_small_file(path, kMaxKeyFileBytes, "private key file", &pem, err)) return false;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  OPENSSL_cleanse(pem.data(), pem.size());
  ERR_clear_error();
  if (!pkey) return fail(err, path, std::nullopt, "not an unencrypted PEM private key");
  out->reset(pkey);
  return true;
}

bool load_jsf_public_key(const std::string& path, JsfKey* out, Error* err) {
  std::string bytes;
  if (!read_small_file(path, kMaxKeyFileBytes, "public key file", &bytes, err)) return false;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(bytes.data(), int(bytes.size())));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!pkey) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    pkey = d2i_PUBKEY(nullptr, &p, long(bytes.size()));
  }
  ERR_clear_error();
  if (!pkey) return fail(err, path, std::nullopt, "not a PEM or DER public key");
  out->reset(pkey);
  return true;
}

bool jsf_algorithm_for_key(EVP_PKEY* key, bool rsa_pss, std::string* algorithm, Error* err) {
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519) *algorithm = "Ed25519";
  else if (id == EVP_PKEY_RSA) *algorithm = rsa_pss ? "PS256" : "RS256";
  else if (id == EVP_PKEY_EC && curve_of(key) == "P-256") *algorithm = "ES256";
  else if (id == EVP_PKEY_EC && curve_of(key) == "P-384") *algorithm = "ES384";
  else if (id == EVP_PKEY_EC && curve_of(key) == "P-521") *algorithm = "ES512";
  else return reject(err, "unsupported key type for JSF (EC P-256/P-384/P-521, Ed25519 or RSA)");
  if (rsa_pss && id != EVP_PKEY_RSA) return reject(err, "PS256 needs an RSA key");
  return true;
}

bool jsf_sign(json* doc, EVP_PKEY* key, bool rsa_pss, Error* err, bool embed_key) {
  if (!doc->is_object()) return reject(err, "document root is not an object");
  if (doc->contains("signature")) return reject(err, "document already has a top-level signature");
  std::string name;
  if (!jsf_algorithm_for_key(key, rsa_pss, &name, err)) return false;
  (*doc)["signature"] = {{"algorithm", name}};
  if (embed_key) (*doc)["signature"]["publicKey"] = jwk_of(key);
  std::string data, value;
  if (!jcs_canonicalize(*doc, &data, err)) return doc->erase("signature"), false;
  bool ok = raw_sign(key, algorithms().at(name), data, &value);
  ERR_clear_error();
  if (!ok) return doc->erase("signature"), reject(err, "signing failed");
  (*doc)["signature"]["value"] = base64url_encode(value);
  return true;
}

bool JsfReport::valid() const {
  if (signers.empty()) return false;
  for (const JsfSignerResult& s : signers)
    if (!s.valid) return false;
  return true;
}

bool jsf_verify(const json& doc, EVP_PKEY* trusted, JsfReport* out, Error* err) {
  *out = {};
  if (!doc.is_object()) return reject(err, "document root is not an object");
  auto sig = doc.find("signature");
  if (sig == doc.end()) return reject(err, "no top-level signature");
  if (!sig->is_object()) return reject(err, "/signature: not an object");
  json base = doc;
  apply_excludes(*sig, &base);
  if (sig->contains("signers")) return out->form = "signers", verify_list(base, "signers", out, trusted, err);
  if (sig->contains("chain")) return out->form = "chain", verify_list(base, "chain", out, trusted, err);
  out->form = "single";
  SigObject s;
  if (!parse_sig(*sig, "/signature", &s, err)) return false;
  base["signature"].erase("value");
  std::string data;
  if (!jcs_canonicalize(base, &data, err)) return false;
  out->signers.push_back(check(s, "/signature", data, trusted));
  return true;
}

}  // namespace pedigree
