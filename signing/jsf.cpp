// This file implements JSF 0.82 signing and verification of CycloneDX BOMs
// (see jsf.h): JWK public keys, ECDSA values as fixed-length R||S, PS256 with
// a 32-byte salt, certificate paths, and the data each signature object
// covers (RFC 8785 form of the document without `excludes` and the members it
// names, the object's own value removed, other signers left out, earlier chain
// links kept whole).
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

#include <algorithm>
#include <map>
#include <set>

#include "fingerprint/digest.h"
#include "signing/certs.h"
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

// Most signature objects in one signers array or chain.
constexpr size_t kMaxSignatures = 64;

const std::set<std::string>& reserved_names() {
  static const std::set<std::string> s = {"algorithm", "certificatePath", "chain", "extensions", "excludes",
                                          "keyId",     "publicKey",       "signers", "value"};
  return s;
}

// The global options of a signature: `excludes` and `extensions`.
struct Options {
  std::vector<std::string> excludes;
  std::set<std::string> extensions;
};

// A non-empty array of distinct strings, or an exact message.
bool string_set(const json& v, const std::string& where, std::vector<std::string>* out, Error* err) {
  if (!v.is_array() || v.empty()) return reject(err, where + ": not a non-empty array of strings");
  for (const json& e : v) {
    if (!e.is_string()) return reject(err, where + ": not a non-empty array of strings");
    std::string name = e.get<std::string>();
    if (std::find(out->begin(), out->end(), name) != out->end())
      return reject(err, where + ": duplicate \"" + name + "\"");
    out->push_back(name);
  }
  return true;
}

bool parse_options(const json& holder, const json& doc, Options* o, Error* err) {
  if (auto ex = holder.find("excludes"); ex != holder.end()) {
    if (!string_set(*ex, "/signature/excludes", &o->excludes, err)) return false;
    for (const std::string& name : o->excludes) {
      if (name == "signature") return reject(err, "/signature/excludes: \"signature\" cannot be excluded");
      if (!doc.contains(name)) return reject(err, "/signature/excludes: \"" + name + "\" is not a top-level member");
    }
  }
  if (auto ext = holder.find("extensions"); ext != holder.end()) {
    std::vector<std::string> names;
    if (!string_set(*ext, "/signature/extensions", &names, err)) return false;
    for (const std::string& name : names)
      if (reserved_names().count(name)) return reject(err, "/signature/extensions: \"" + name + "\" is a JSF name");
    o->extensions.insert(names.begin(), names.end());
  }
  return true;
}

// A signature object read strictly.
struct SigObject {
  std::string algorithm;
  std::string value;  // decoded
  std::string key_id;
  JsfKey key;                   // from publicKey; null when absent
  std::vector<CertPtr> certs;   // from certificatePath, leaf first
};

bool parse_cert_path(const json& path, const std::string& where, std::vector<CertPtr>* out, Error* err) {
  if (!path.is_array() || path.empty()) return reject(err, where + ": not a non-empty array of strings");
  if (path.size() > kMaxCertificates)
    return reject(err, where + ": more than " + std::to_string(kMaxCertificates) + " certificates");
  for (size_t i = 0; i < path.size(); ++i) {
    std::string w = where + "/" + std::to_string(i), der;
    if (!path[i].is_string() || !base64url_decode(path[i].get<std::string>(), &der) || der.empty())
      return reject(err, w + ": not base64url");
    CertPtr cert;
    if (!certificate_from_der(der, &cert)) return reject(err, w + ": not one DER X.509 certificate");
    out->push_back(std::move(cert));
  }
  return true;
}

// Members a signature object may have: JSF's, the declared extensions, and
// for a single signature its global options.
bool check_members(const json& s, const std::string& where, const Options& o, bool single, Error* err) {
  static const std::set<std::string> core = {"algorithm", "keyId", "publicKey", "certificatePath", "value"};
  for (const auto& [name, v] : s.items()) {
    if (core.count(name) || o.extensions.count(name)) continue;
    if (single && (name == "excludes" || name == "extensions")) continue;
    return reject(err, where + ": unexpected member \"" + name + "\"");
  }
  return true;
}

bool parse_sig(const json& s, const std::string& where, const Options& o, bool single, SigObject* out, Error* err) {
  if (!s.is_object()) return reject(err, where + ": not an object");
  if (!check_members(s, where, o, single, err)) return false;
  auto alg = s.find("algorithm");
  if (alg == s.end() || !alg->is_string()) return reject(err, where + ": missing string \"algorithm\"");
  out->algorithm = alg->get<std::string>();
  auto val = s.find("value");
  if (val == s.end() || !val->is_string()) return reject(err, where + ": missing string \"value\"");
  if (!base64url_decode(val->get<std::string>(), &out->value) || out->value.empty())
    return reject(err, where + "/value: not base64url");
  if (auto kid = s.find("keyId"); kid != s.end()) {
    if (!kid->is_string()) return reject(err, where + "/keyId: not a string");
    out->key_id = kid->get<std::string>();
  }
  if (auto pk = s.find("publicKey"); pk != s.end() && !key_from_jwk(*pk, where + "/publicKey", &out->key, err))
    return false;
  if (auto cp = s.find("certificatePath"); cp != s.end())
    return parse_cert_path(*cp, where + "/certificatePath", &out->certs, err);
  return true;
}

// The document as the signature object at `index` of `list` (null for a
// single signature) sees it: without `excludes` and the members it names,
// signers: only this object in the array; chain: the links up to it; and
// this object without its value.
json signed_view(const json& doc, const char* list, size_t index, const Options& o) {
  json view = doc;
  for (const std::string& name : o.excludes) view.erase(name);
  json& sig = view["signature"];
  sig.erase("excludes");
  if (!list) return sig.erase("value"), view;
  json& arr = sig[list];
  if (std::string(list) == "signers") arr = json::array({arr[index]});
  else arr.erase(arr.begin() + long(index) + 1, arr.end());
  arr.back().erase("value");
  return view;
}

// The key a signature object is checked with, or null (problem set).
EVP_PKEY* pick_key(const SigObject& s, const Algorithm& alg, const std::string& data, const JsfTrust& t,
                   JsfSignerResult* r) {
  if (!s.certs.empty()) {
    EVP_PKEY* leaf = X509_get0_pubkey(s.certs[0].get());
    ERR_clear_error();
    r->key_source = "certificatePath";
    r->certificate = certificate_subject(s.certs[0].get());
    if (!leaf) return r->problem = "certificatePath leaf has no usable public key", nullptr;
    if (s.key && EVP_PKEY_eq(leaf, s.key.get()) != 1)
      return r->problem = "publicKey does not match the certificatePath leaf", nullptr;
    return leaf;
  }
  if (s.key) return r->key_source = "publicKey", s.key.get();
  for (EVP_PKEY* k : t.keys)
    if (key_fits(k, alg) && raw_verify(k, alg, data, s.value)) return r->key_source = "given key", k;
  r->problem = t.keys.empty() ? "no public key in the signature; give --key"
                              : "no public key in the signature and no given key verifies it";
  return nullptr;
}

// Certificate checks against the given roots (only when roots are given).
void check_certificates(const SigObject& s, EVP_PKEY* key, const JsfTrust& t, JsfSignerResult* r) {
  if (s.certs.empty() || t.roots.empty()) return;
  std::vector<X509*> rest;
  for (size_t i = 1; i < s.certs.size(); ++i) rest.push_back(s.certs[i].get());
  std::string why;
  time_t at = t.at ? *t.at : time(nullptr);
  if (!verify_certificate_chain(s.certs[0].get(), rest, t.roots, at, &why))
    r->problem = "certificate path does not lead to a given root: " + why;
  else if (!certificate_has_digital_signature(s.certs[0].get(), &why)) r->problem = why;
  else if (X509_get0_pubkey(s.certs[0].get()) != key && EVP_PKEY_eq(X509_get0_pubkey(s.certs[0].get()), key) != 1)
    r->problem = "certificatePath leaf key is not the key that verified the signature";
  else r->chained_to_root = true;
  ERR_clear_error();
}

// Verifies one parsed signature object over `data`; `used` is the key that verified it.
JsfSignerResult check(const SigObject& s, const std::string& pointer, const std::string& data, const JsfTrust& t,
                      EVP_PKEY** used) {
  JsfSignerResult r;
  r.pointer = pointer;
  r.algorithm = s.algorithm;
  r.key_id = s.key_id;
  *used = nullptr;
  auto alg = algorithms().find(s.algorithm);
  if (alg == algorithms().end()) return r.problem = "unsupported algorithm \"" + s.algorithm + "\"", r;
  EVP_PKEY* key = pick_key(s, alg->second, data, t, &r);
  if (!key) return r;
  r.fingerprint = jsf_key_fingerprint(key);
  if (!key_fits(key, alg->second)) return r.problem = "key type does not fit algorithm " + s.algorithm, r;
  if (!raw_verify(key, alg->second, data, s.value)) return r.problem = "signature does not match the document", r;
  check_certificates(s, key, t, &r);
  if (!r.problem.empty()) return r;
  for (EVP_PKEY* k : t.keys) r.given_key = r.given_key || EVP_PKEY_eq(k, key) == 1;
  r.valid = true;
  *used = key;
  return r;
}

// Marks the given keys that `used` matches.
void mark_used(const JsfTrust& t, EVP_PKEY* used, std::vector<bool>* seen) {
  for (size_t k = 0; used && k < t.keys.size(); ++k)
    if (EVP_PKEY_eq(t.keys[k], used) == 1) (*seen)[k] = true;
}

// Parses and verifies one signature object of `doc` (list null: the single one).
bool verify_one(const json& doc, const char* list, size_t index, const Options& o, const JsfTrust& t,
                JsfReport* out, std::vector<bool>* seen, Error* err) {
  std::string where = list ? std::string("/signature/") + list + "/" + std::to_string(index) : "/signature";
  const json& obj = list ? doc["signature"][list][index] : doc["signature"];
  SigObject s;
  if (!parse_sig(obj, where, o, !list, &s, err)) return false;
  std::string data;
  if (!jcs_canonicalize(signed_view(doc, list, index, o), &data, err)) return false;
  EVP_PKEY* used = nullptr;
  out->signers.push_back(check(s, where, data, t, &used));
  mark_used(t, used, seen);
  return true;
}

// The array member of a signature object ("signers", "chain") or null for a
// single signature; fails on a malformed outer object.
bool form_of(const json& sig, const char** list, Error* err) {
  bool signers = sig.contains("signers"), chain = sig.contains("chain");
  if (signers && chain) return reject(err, "/signature: has both \"signers\" and \"chain\"");
  *list = signers ? "signers" : chain ? "chain" : nullptr;
  if (!*list) return true;
  const json& arr = sig[*list];
  std::string base = std::string("/signature/") + *list;
  if (!arr.is_array() || arr.empty()) return reject(err, base + ": not a non-empty array");
  if (arr.size() > kMaxSignatures)
    return reject(err, base + ": more than " + std::to_string(kMaxSignatures) + " signatures");
  for (const auto& [name, v] : sig.items())
    if (name != *list && name != "excludes" && name != "extensions")
      return reject(err, "/signature: unexpected member \"" + name + "\" beside \"" + *list + "\"");
  return true;
}

// A new signature object (without value) for `s`.
bool new_object(const JsfSigner& s, json* obj, std::string* alg_name, Error* err) {
  if (!jsf_algorithm_for_key(s.key, s.rsa_pss, alg_name, err)) return false;
  *obj = {{"algorithm", *alg_name}};
  if (s.certificate_path.empty()) {
    if (s.embed_key) (*obj)["publicKey"] = jwk_of(s.key);
    return true;
  }
  if (s.certificate_path.size() > kMaxCertificates)
    return reject(err, "more than " + std::to_string(kMaxCertificates) + " certificates in a certificate path");
  CertPtr leaf;
  if (!certificate_from_der(s.certificate_path[0], &leaf)) return reject(err, "certificate path: bad leaf certificate");
  EVP_PKEY* leaf_key = X509_get0_pubkey(leaf.get());
  ERR_clear_error();
  if (!leaf_key || EVP_PKEY_eq(leaf_key, s.key) != 1)
    return reject(err, "the certificate does not hold the signing key's public key");
  json path = json::array();
  for (const std::string& der : s.certificate_path) path.push_back(base64url_encode(der));
  (*obj)["certificatePath"] = path;
  return true;
}

// Signs the object at `index` of `list` (null: single) in `doc` and sets its value.
bool sign_at(json* doc, const char* list, size_t index, EVP_PKEY* key, const std::string& alg_name, Error* err) {
  Options o;
  if (!parse_options((*doc)["signature"], *doc, &o, err)) return false;
  std::string data, value;
  if (!jcs_canonicalize(signed_view(*doc, list, index, o), &data, err)) return false;
  bool ok = raw_sign(key, algorithms().at(alg_name), data, &value);
  ERR_clear_error();
  if (!ok) return reject(err, "signing failed");
  json& obj = list ? (*doc)["signature"][list][index] : (*doc)["signature"];
  obj["value"] = base64url_encode(value);
  return true;
}

// Before appending: every existing signature object verifies on its own key.
bool existing_verify(const json& doc, Error* err) {
  JsfReport r;
  if (!jsf_verify(doc, JsfTrust{}, &r, err)) return false;
  for (const JsfSignerResult& s : r.signers)
    if (!s.valid) return reject(err, "cannot append: existing signature " + s.pointer + " does not verify: " + s.problem);
  return true;
}

bool prepare(json* doc, const char* list, bool append, Error* err) {
  if (!append) {
    if (doc->contains("signature"))
      return reject(err, "document already has a top-level signature (--append adds to signers or a chain)");
    if (list) (*doc)["signature"] = {{list, json::array()}};
    return true;
  }
  if (!list) return reject(err, "cannot append to a single signature: it signs the document alone (re-sign with "
                                "--mode signers or --mode chain)");
  auto sig = doc->find("signature");
  if (sig == doc->end() || !sig->is_object() || !sig->contains(list))
    return reject(err, std::string("cannot append: the document has no top-level \"") + list + "\" signature");
  return existing_verify(*doc, err);
}

}  // namespace

const char* jsf_form_name(JsfForm f) {
  switch (f) {
    case JsfForm::kSingle: return "single";
    case JsfForm::kSigners: return "signers";
    case JsfForm::kChain: return "chain";
  }
  return "?";
}

std::string jsf_key_fingerprint(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key, &der);
  ERR_clear_error();
  if (n <= 0) return "";
  std::string bytes(reinterpret_cast<char*>(der), size_t(n));
  OPENSSL_free(der);
  return "sha256:" + to_hex(digest_bytes(HashAlgorithm::kSha256, bytes));
}

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

bool jsf_sign(json* doc, const std::vector<JsfSigner>& signers, JsfForm form, bool append, Error* err) {
  if (!doc->is_object()) return reject(err, "document root is not an object");
  if (signers.empty()) return reject(err, "no signing key");
  if (form == JsfForm::kSingle && signers.size() != 1)
    return reject(err, "a single signature takes exactly one key (use --mode signers or --mode chain)");
  const char* list = form == JsfForm::kSigners ? "signers" : form == JsfForm::kChain ? "chain" : nullptr;
  json work = *doc;
  if (!prepare(&work, list, append, err)) return false;
  for (const JsfSigner& s : signers) {
    json obj;
    std::string alg_name;
    if (!new_object(s, &obj, &alg_name, err)) return false;
    size_t index = 0;
    if (list) {
      json& arr = work["signature"][list];
      if (arr.size() >= kMaxSignatures)
        return reject(err, "more than " + std::to_string(kMaxSignatures) + " signatures");
      arr.push_back(obj);
      index = arr.size() - 1;
    } else {
      work["signature"] = obj;
    }
    if (!sign_at(&work, list, index, s.key, alg_name, err)) return false;
  }
  *doc = std::move(work);
  return true;
}

bool jsf_sign(json* doc, EVP_PKEY* key, bool rsa_pss, Error* err, bool embed_key) {
  JsfSigner s;
  s.key = key;
  s.rsa_pss = rsa_pss;
  s.embed_key = embed_key;
  return jsf_sign(doc, {s}, JsfForm::kSingle, false, err);
}

bool JsfReport::valid() const {
  if (signers.empty() || !missing_keys.empty()) return false;
  bool rooted = false;
  for (const JsfSignerResult& s : signers) {
    if (!s.valid) return false;
    rooted = rooted || s.chained_to_root;
  }
  return !root_required || rooted;
}

bool jsf_verify(const json& doc, const JsfTrust& trust, JsfReport* out, Error* err) {
  *out = {};
  out->root_required = !trust.roots.empty();
  if (!doc.is_object()) return reject(err, "document root is not an object");
  auto sig = doc.find("signature");
  if (sig == doc.end()) return reject(err, "no top-level signature");
  if (!sig->is_object()) return reject(err, "/signature: not an object");
  const char* list = nullptr;
  Options o;
  if (!form_of(*sig, &list, err) || !parse_options(*sig, doc, &o, err)) return false;
  out->form = list ? list : "single";
  std::vector<bool> seen(trust.keys.size(), false);
  size_t n = list ? (*sig)[list].size() : 1;
  for (size_t i = 0; i < n; ++i)
    if (!verify_one(doc, list, i, o, trust, out, &seen, err)) return false;
  for (size_t k = 0; k < trust.keys.size(); ++k)
    if (!seen[k]) out->missing_keys.push_back(jsf_key_fingerprint(trust.keys[k]));
  return true;
}

bool jsf_verify(const json& doc, EVP_PKEY* trusted, JsfReport* out, Error* err) {
  JsfTrust t;
  if (trusted) t.keys.push_back(trusted);
  return jsf_verify(doc, t, out, err);
}

}  // namespace pedigree
