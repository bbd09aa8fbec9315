// This file implements `pedigree bom sign` and `pedigree bom verify`: JSF
// signatures (single, signers or chain) over the RFC 8785 form of a CycloneDX
// JSON BOM. Verify exits 0 when every signature verifies and every trust
// requirement holds, 1 when not (or a signature object is malformed), 2 when
// the BOM, a key or a certificate cannot be read (see docs/signing.md).
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "cli/bom_cli.h"
#include "cli/cli.h"
#include "sbom/validate.h"
#include "signing/certs.h"
#include "signing/jsf.h"

namespace pedigree::cli {
namespace {

using json = nlohmann::json;

std::string signer_label(const JsfSignerResult& s) {
  std::string out = s.algorithm;
  if (!s.fingerprint.empty()) out += ", " + s.key_source + " " + s.fingerprint;
  if (!s.key_id.empty()) out += ", keyId \"" + s.key_id + "\"";
  if (!s.certificate.empty()) out += ", certificate " + s.certificate;
  return out;
}

std::string signer_status(const JsfSignerResult& s) {
  if (!s.valid) return "signature NOT valid: " + s.problem;
  if (s.given_key && s.chained_to_root) return "signature valid (given key; certificate chains to a given root)";
  if (s.given_key) return "signature valid (signed by a given key)";
  if (s.chained_to_root) return "signature valid (certificate chains to a given root)";
  return "signature valid (embedded key, signer not authenticated)";
}

// The --key file whose fingerprint is `fp`.
std::string key_file(const std::vector<std::string>& files, const std::vector<JsfKey>& keys, const std::string& fp) {
  for (size_t i = 0; i < keys.size(); ++i)
    if (jsf_key_fingerprint(keys[i].get()) == fp) return files[i];
  return "";
}

std::string text_report(const BomVerifyArgs& a, const std::vector<JsfKey>& keys, const JsfReport& r) {
  std::string out;
  for (const JsfSignerResult& s : r.signers)
    out += a.file + ": " + s.pointer + " (" + signer_label(s) + "): " + signer_status(s) + "\n";
  for (const std::string& fp : r.missing_keys)
    out += a.file + ": given key " + key_file(a.keys, keys, fp) + " (" + fp + ") is not among the valid signers\n";
  bool rooted = false;
  for (const JsfSignerResult& s : r.signers) rooted = rooted || s.chained_to_root;
  if (r.root_required && !rooted) out += a.file + ": no signature's certificatePath leads to a given root\n";
  out += a.file + ": " + (r.valid() ? "verified" : "NOT verified") + "\n";
  return out;
}

json json_report(const BomVerifyArgs& a, const std::vector<JsfKey>& keys, const JsfReport& r) {
  json signers = json::array(), missing = json::array();
  for (const JsfSignerResult& s : r.signers)
    signers.push_back({{"pointer", s.pointer},
                       {"algorithm", s.algorithm},
                       {"key_id", s.key_id},
                       {"key_source", s.key_source},
                       {"fingerprint", s.fingerprint},
                       {"certificate", s.certificate},
                       {"valid", s.valid},
                       {"given_key", s.given_key},
                       {"chained_to_root", s.chained_to_root},
                       {"signer_authenticated", s.valid && (s.given_key || s.chained_to_root)},
                       {"problem", s.problem}});
  for (const std::string& fp : r.missing_keys)
    missing.push_back({{"file", key_file(a.keys, keys, fp)}, {"fingerprint", fp}});
  return {{"file", a.file}, {"verified", r.valid()}, {"form", r.form}, {"signers", signers},
          {"missing_keys", missing}};
}

// The form: --mode; with --append and no --mode the document's; else single
// for one key and signers for several.
JsfForm pick_form(const BomSignArgs& a, const json& doc) {
  std::string mode = a.mode;
  const json* sig = doc.contains("signature") ? &doc["signature"] : nullptr;
  if (mode.empty() && a.append) mode = sig && sig->is_object() && sig->contains("chain") ? "chain" : "signers";
  if (mode.empty()) mode = a.keys.size() == 1 ? "single" : "signers";
  return mode == "chain" ? JsfForm::kChain : mode == "signers" ? JsfForm::kSigners : JsfForm::kSingle;
}

bool load_keys(const BomSignArgs& a, std::vector<JsfKey>* keys, Error* err) {
  std::optional<std::string> password;
  if (!read_key_password(a.password_file, &password, err)) return false;
  bool ok = true;
  for (const std::string& path : a.keys) {
    keys->emplace_back();
    if (!(ok = load_any_private_key(path, password, &keys->back(), err))) break;
  }
  if (password) OPENSSL_cleanse(password->data(), password->size());
  return ok;
}

// The certificatePath (DER, leaf first) of key `i` from --cert and --chain.
bool cert_path(const BomSignArgs& a, size_t i, EVP_PKEY* key, std::vector<std::string>* out, Error* err) {
  std::vector<CertPtr> leaf_file, owned;
  if (!load_pem_certificates(a.certs[i], &leaf_file, err)) return false;
  X509* leaf = leaf_file[0].get();
  EVP_PKEY* leaf_key = X509_get0_pubkey(leaf);
  if (!leaf_key || EVP_PKEY_eq(leaf_key, key) != 1)
    return fail(err, a.certs[i], std::nullopt, "certificate does not match the key " + a.keys[i]);
  std::string why;
  if (!certificate_has_digital_signature(leaf, &why)) return fail(err, a.certs[i], std::nullopt, why);
  std::vector<X509*> pool;
  for (size_t k = 1; k < leaf_file.size(); ++k) pool.push_back(leaf_file[k].get());
  for (const std::string& f : a.chain) {
    std::vector<CertPtr> certs;
    if (!load_pem_certificates(f, &certs, err)) return false;
    for (CertPtr& c : certs) pool.push_back(c.get()), owned.push_back(std::move(c));
  }
  out->push_back(certificate_der(leaf));
  for (X509* c : issuers_from_pool(leaf, pool)) out->push_back(certificate_der(c));
  return true;
}

bool make_signers(const BomSignArgs& a, const std::vector<JsfKey>& keys, std::vector<JsfSigner>* out, Error* err) {
  bool any_rsa = false;
  for (const JsfKey& k : keys) any_rsa = any_rsa || EVP_PKEY_get_base_id(k.get()) == EVP_PKEY_RSA;
  for (size_t i = 0; i < keys.size(); ++i) {
    JsfSigner s;
    s.key = keys[i].get();
    bool rsa = EVP_PKEY_get_base_id(s.key) == EVP_PKEY_RSA;
    s.rsa_pss = a.algorithm == "PS256" && (rsa || !any_rsa);  // no RSA key at all: jsf_sign says why
    if (!a.certs.empty() && !cert_path(a, i, s.key, &s.certificate_path, err)) return false;
    out->push_back(std::move(s));
  }
  return true;
}

// Re-reads the text about to be written and checks that it verifies with the signing keys.
bool self_check(const std::string& text, const std::vector<JsfKey>& keys, Error* err) {
  json back;
  JsfReport r;
  JsfTrust t;
  for (const JsfKey& k : keys) t.keys.push_back(k.get());
  if (!parse_bom(text, "(signed output)", &back, err) || !jsf_verify(back, t, &r, err)) return false;
  if (r.valid()) return true;
  for (const JsfSignerResult& s : r.signers)
    if (!s.valid) return fail(err, "", std::nullopt, "signed output does not verify: " + s.pointer + ": " + s.problem);
  return fail(err, "", std::nullopt, "signed output does not verify");
}

int check_sign_args(const BomSignArgs& a) {
  if (!a.algorithm.empty() && a.algorithm != "PS256" && a.algorithm != "RS256")
    return report_error("--algorithm: '" + a.algorithm + "' is not PS256 or RS256 (other algorithms follow the key)");
  if (!a.mode.empty() && a.mode != "signers" && a.mode != "chain")
    return report_error("--mode: '" + a.mode + "' is not signers or chain");
  if (!a.certs.empty() && a.certs.size() != a.keys.size())
    return report_error("--cert: give one certificate per --key (" + std::to_string(a.keys.size()) + " keys, " +
                        std::to_string(a.certs.size()) + " certificates)");
  if (a.certs.empty() && !a.chain.empty()) return report_error("--chain needs --cert");
  return kOk;
}

}  // namespace

int run_bom_sign(const BomSignArgs& a) {
  if (int rc = check_sign_args(a); rc != kOk) return rc;
  json doc;
  std::vector<JsfKey> keys;
  std::vector<JsfSigner> signers;
  Error err;
  if (!read_bom_file(a.file, &doc, &err) || !load_keys(a, &keys, &err) || !make_signers(a, keys, &signers, &err))
    return report_error(err);
  if (!jsf_sign(&doc, signers, pick_form(a, doc), a.append, &err)) {
    if (err.path.empty()) err.path = a.file;
    return report_error(err);
  }
  std::string text = json_text(doc);
  if (!self_check(text, keys, &err) || !write_output(a.output, text, &err)) return report_error(err);
  return kOk;
}

int run_bom_verify(const BomVerifyArgs& a) {
  json doc;
  std::vector<JsfKey> keys(a.keys.size());
  std::vector<CertPtr> roots;
  JsfTrust trust;
  Error err;
  if (!read_bom_file(a.file, &doc, &err)) return report_error(err);
  for (size_t i = 0; i < a.keys.size(); ++i) {
    if (!load_any_public_key(a.keys[i], &keys[i], &err)) return report_error(err);
    trust.keys.push_back(keys[i].get());
  }
  for (const std::string& f : a.cert_roots) {
    std::vector<CertPtr> certs;
    if (!load_pem_certificates(f, &certs, &err)) return report_error(err);
    for (CertPtr& c : certs) trust.roots.push_back(c.get()), roots.push_back(std::move(c));
  }
  JsfReport r;
  if (!jsf_verify(doc, trust, &r, &err)) {
    if (err.path.empty()) err.path = a.file;
    report_error(err);
    return kFlagged;
  }
  std::string text = a.json ? json_text(json_report(a, keys, r)) : text_report(a, keys, r);
  if (!write_output("", text, &err)) return report_error(err);
  return r.valid() ? kOk : kFlagged;
}

}  // namespace pedigree::cli
