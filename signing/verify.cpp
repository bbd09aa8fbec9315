// This file implements verification of an OMS bundle against a model on disk
// (see verify.h): trust (key, certificate chain or keyless), DSSE signature over the
// raw payload bytes, payload checks, then a resource-by-resource comparison
// with a manifest recomputed using the serialization the payload records.
#include "signing/verify.h"

#include <map>
#include <set>

#include "signing/bundle.h"
#include "signing/certs.h"
#include "signing/encoding.h"
#include "signing/keyless.h"
#include "signing/keys.h"
#include "signing/sign.h"
#include "signing/statement.h"
#include "signing/trusted_root.h"

namespace pedigree {
namespace {

constexpr size_t kNamesShown = 10;  // names listed per category in the reason

VerifyResult& finish(VerifyResult& r, VerifyStatus st, Error err) {
  r.status = st;
  r.reason = std::move(err);
  return r;
}

VerifyResult& reject(VerifyResult& r, const std::string& path, std::string msg) {
  return finish(r, VerifyStatus::kRejected, Error{path, std::nullopt, std::move(msg)});
}

std::string utc_time(time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Standard PAE first; then the v0.2.0 encoding (always SHA-256), flagged.
bool check_signature(const Key& key, const Bundle& b, VerifyResult* r) {
  if (verify_message(key, dsse_pae(b.payload_type, b.payload), b.signature)) return true;
  if (key.type != KeyType::kEd25519 && verify_message(key, legacy_pae(b.payload_type, b.payload), b.signature, true))
    return r->legacy_pae = true;
  return false;
}

bool trust_key(const VerifyRequest& req, const Bundle& b, Key* key, VerifyResult* r) {
  Error err;
  if (!load_public_key(req.key_path, key, &err)) return finish(*r, VerifyStatus::kCannotRun, err), false;
  r->method = "key";
  r->key_type = std::string(key_type_name(key->type));
  if (b.material != BundleMaterial::kPublicKey)
    return reject(*r, req.bundle_path, "bundle is signed with a certificate chain; verify with --cert-root"), false;
  if (!check_signature(*key, b, r))
    return reject(*r, req.bundle_path, "signature does not verify with the given key"), false;
  if (!b.key_hint.empty() && b.key_hint != public_key_hint(*key))
    return reject(*r, req.bundle_path, "public key hint " + b.key_hint + " does not match the given key (" +
                                           public_key_hint(*key) + ")"), false;
  if (b.key_hint.empty())
    r->warnings.push_back("bundle has no public key hint (verification material of model_signing before v1.1)");
  return true;
}

bool load_trust_files(const std::vector<std::string>& paths, std::vector<CertPtr>* out, VerifyResult* r) {
  for (const std::string& p : paths) {
    std::vector<CertPtr> certs;
    Error err;
    if (!load_pem_certificates(p, &certs, &err)) return finish(*r, VerifyStatus::kCannotRun, err), false;
    for (CertPtr& c : certs) out->push_back(std::move(c));
  }
  return true;
}

std::vector<X509*> raw(const std::vector<CertPtr>& v) {
  std::vector<X509*> out;
  for (const CertPtr& c : v) out.push_back(c.get());
  return out;
}

bool trust_chain(const VerifyRequest& req, const Bundle& b, Key* key, VerifyResult* r) {
  r->method = "certificate";
  std::vector<CertPtr> roots, extra;
  if (!load_trust_files(req.root_paths, &roots, r) || !load_trust_files(req.chain_paths, &extra, r)) return false;
  if (b.material != BundleMaterial::kCertificateChain)
    return reject(*r, req.bundle_path, "bundle is signed with a public key; verify with --key"), false;
  std::vector<CertPtr> bundled(b.certificates.size());
  for (size_t i = 0; i < b.certificates.size(); ++i) certificate_from_der(b.certificates[i], &bundled[i]);
  X509* leaf = bundled[0].get();
  r->signer = certificate_subject(leaf);
  std::vector<X509*> untrusted = raw(extra);
  for (size_t i = 1; i < bundled.size(); ++i) untrusted.push_back(bundled[i].get());
  time_t at = req.now ? *req.now : time(nullptr);
  if (req.at_signing_time) at = certificate_not_before(leaf).value_or(at);
  std::string why;
  if (!verify_certificate_chain(leaf, untrusted, raw(roots), at, &why))
    return reject(*r, req.bundle_path, "certificate chain does not verify at " + utc_time(at) + ": " + why), false;
  if (!certificate_can_sign(leaf, &why)) return reject(*r, req.bundle_path, why), false;
  Error err;
  if (!certificate_key(leaf, req.bundle_path, key, &err)) return finish(*r, VerifyStatus::kRejected, err), false;
  r->key_type = std::string(key_type_name(key->type));
  if (!check_signature(*key, b, r))
    return reject(*r, req.bundle_path, "signature does not verify with the signing certificate's key"), false;
  return true;
}

bool trust_keyless(const VerifyRequest& req, const Bundle& b, Key* key, VerifyResult* r) {
  r->method = "keyless";
  TrustedRoot root;
  Error err;
  if (!read_trusted_root(req.trust_root_path, &root, &err)) return finish(*r, VerifyStatus::kCannotRun, err), false;
  if (b.material != BundleMaterial::kCertificate)
    return reject(*r, req.bundle_path, "bundle is not a Sigstore keyless signature; verify with --key or --cert-root"),
           false;
  KeylessResult k = verify_keyless(b, root, {req.identity, req.issuer});
  r->checks = std::move(k.checks);
  r->identity = k.identity;
  r->oidc_issuer = k.issuer;
  r->signing_times = k.signing_times;
  CertPtr leaf;
  certificate_from_der(b.certificates[0], &leaf);
  r->signer = k.identity;
  if (!certificate_key(leaf.get(), req.bundle_path, key, &err)) return finish(*r, VerifyStatus::kRejected, err), false;
  r->key_type = std::string(key_type_name(key->type));
  bool sig_ok = verify_message(*key, dsse_pae(b.payload_type, b.payload), b.signature);
  r->checks.push_back({"dsse-signature", sig_ok ? CheckState::kPassed : CheckState::kFailed,
                       sig_ok ? "envelope signed by the leaf certificate's key"
                              : "signature does not verify with the leaf certificate's key"});
  if (!k.ok) return reject(*r, req.bundle_path, k.reason), false;
  if (!sig_ok) return reject(*r, req.bundle_path, "dsse-signature: " + r->checks.back().detail), false;
  return true;
}

bool keyless_bundle_misused(const VerifyRequest& req, const Bundle& b, VerifyResult* r) {
  if (b.material != BundleMaterial::kCertificate) return false;
  r->method = req.key_path.empty() ? "certificate" : "key";
  reject(*r, req.bundle_path, "bundle is a Sigstore keyless signature; verify with --trust-root, --identity and --issuer");
  return true;
}

ManifestOptions options_for(const VerifyRequest& req, const Statement& st) {
  ManifestOptions o = st.options;
  o.ignore_defaults = true;
  o.signature_name = "model.sig";
  std::string inside = signature_inside_model(req.model_path, req.bundle_path);
  if (!inside.empty()) o.ignore_paths.push_back(inside);
  o.jobs = req.jobs;
  return o;
}

std::string name_list(const char* what, const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < kNamesShown; ++i) out += std::string(out.empty() ? "" : ", ") + names[i];
  if (names.size() > kNamesShown) out += " and " + std::to_string(names.size() - kNamesShown) + " more";
  return std::string(what) + " " + out;
}

void compare(const Statement& st, const Manifest& m, bool ignore_unsigned, VerifyResult* r) {
  std::map<std::string, const std::vector<uint8_t>*> disk;
  for (const Resource& res : m.resources) disk[res.name] = &res.digest;
  std::set<std::string> listed;
  for (const SignedResource& s : st.resources) {
    listed.insert(s.name);
    auto it = disk.find(s.name);
    if (it == disk.end()) r->missing.push_back(s.name);
    else if (*it->second != s.digest) r->changed.push_back(s.name);
  }
  for (const auto& [name, digest] : disk)
    if (!listed.count(name) && !ignore_unsigned) r->extra.push_back(name);
}

std::string mismatch_text(const VerifyResult& r) {
  std::vector<std::string> parts;
  if (!r.changed.empty()) parts.push_back(name_list("changed", r.changed));
  if (!r.missing.empty()) parts.push_back(name_list("missing", r.missing));
  if (!r.extra.empty()) parts.push_back(name_list("unsigned", r.extra));
  std::string out = "model does not match the signature: ";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
  return out;
}

bool check_payload_root(const Statement& st, const std::string& path, VerifyResult* r) {
  std::vector<Resource> listed;
  for (const SignedResource& s : st.resources) listed.push_back({s.name, "", 0, 0, s.digest, {}});
  std::vector<uint8_t> root = manifest_root(listed);
  if (st.legacy) {
    r->root_hex = to_hex(root);
    return true;
  }
  if (root != st.subject_digest)
    return reject(*r, path, "signed payload: subject digest sha256:" + to_hex(st.subject_digest) +
                                " does not match its resources (sha256:" + to_hex(root) + ")"), false;
  r->root_hex = to_hex(root);
  return true;
}

bool duplicate_names(const Statement& st, const std::string& path, VerifyResult* r) {
  std::set<std::string> seen;
  for (const SignedResource& s : st.resources)
    if (!seen.insert(s.name).second)
      return reject(*r, path, "signed payload: resource " + s.name + " is listed twice"), true;
  return false;
}

// Recomputes the manifest; a model that cannot be serialized the signed way
// (a symbolic link where none was allowed) is a mismatch, other errors cannot run.
bool recompute(const VerifyRequest& req, const Statement& st, Manifest* m, VerifyResult* r, ProgressCounter* p) {
  ManifestOptions o = options_for(req, st);
  Error err;
  if (enumerate_model(req.model_path, o, m, &err) && hash_manifest(m, &err, p)) return true;
  bool policy = err.message.find("symbolic link") != std::string::npos;
  finish(*r, policy ? VerifyStatus::kRejected : VerifyStatus::kCannotRun, err);
  return false;
}

bool check_model(const VerifyRequest& req, const Statement& st, VerifyResult* r, ProgressCounter* p) {
  Manifest m;
  if (!recompute(req, st, &m, r, p)) return false;
  compare(st, m, req.ignore_unsigned_files, r);
  if (!r->missing.empty() || !r->changed.empty() || !r->extra.empty())
    return reject(*r, req.model_path, mismatch_text(*r)), false;
  std::map<std::string, const Resource*> disk;
  for (const Resource& res : m.resources) disk[res.name] = &res;
  std::vector<Resource> ordered;
  for (const SignedResource& s : st.resources) ordered.push_back(*disk.at(s.name));
  if (!st.legacy && manifest_root(ordered) != st.subject_digest)
    return reject(*r, req.model_path, "recomputed manifest root does not match the subject digest"), false;
  return true;
}

const char* material_name(BundleMaterial m) {
  return m == BundleMaterial::kPublicKey ? "public key" : m == BundleMaterial::kCertificateChain ? "certificate chain"
                                                                                                 : "Sigstore certificate";
}

// What an unverified bundle claims about its signer: the leaf's subject, or the key hint.
std::string claimed_signer(const Bundle& b) {
  if (b.material == BundleMaterial::kPublicKey) return b.key_hint.empty() ? "" : "key hint " + b.key_hint;
  CertPtr leaf;
  if (b.certificates.empty() || !certificate_from_der(b.certificates[0], &leaf)) return "";
  return certificate_subject(leaf.get());
}

}  // namespace

VerifyResult verify_model(const VerifyRequest& req, ProgressCounter* progress) {
  VerifyResult r;
  int methods = !req.key_path.empty() + !req.root_paths.empty() + !req.trust_root_path.empty();
  if (req.integrity_only && methods != 0)
    return finish(r, VerifyStatus::kCannotRun, Error{"", std::nullopt, "integrity-only verification takes no trust"});
  if (!req.integrity_only && methods != 1)
    return finish(r, VerifyStatus::kCannotRun, Error{"", std::nullopt, "give one of --key, --cert-root or --trust-root"});
  if (!req.trust_root_path.empty() && (req.identity.empty() || req.issuer.empty()))
    return finish(r, VerifyStatus::kCannotRun, Error{"", std::nullopt, "--trust-root needs --identity and --issuer"});
  Bundle b;
  Error err;
  BundleStatus bs = read_bundle(req.bundle_path, &b, &err);
  if (bs != BundleStatus::kOk)
    return finish(r, bs == BundleStatus::kUnreadable ? VerifyStatus::kCannotRun : VerifyStatus::kRejected, err);
  r.material = material_name(b.material);
  Key key;
  if (req.integrity_only) {
    r.method = "none";
    r.signer = claimed_signer(b);
  } else if (!req.trust_root_path.empty()) {
    if (!trust_keyless(req, b, &key, &r)) return r;
  } else if (keyless_bundle_misused(req, b, &r)) {
    return r;
  } else if (!(req.key_path.empty() ? trust_chain(req, b, &key, &r) : trust_key(req, b, &key, &r))) {
    return r;
  }
  if (!req.integrity_only && key.type == KeyType::kEd25519)
    r.warnings.push_back("Ed25519 signature: a Pedigree extension the OMS reference verifier does not accept");
  Statement st;
  if (!parse_statement(b.payload, req.bundle_path, &st, &err)) return finish(r, VerifyStatus::kRejected, err);
  if (r.legacy_pae && !st.legacy)
    return reject(r, req.bundle_path, "the v0.2 pre-authentication encoding is accepted only with a v0.2 payload");
  r.legacy_payload = st.legacy;
  if (st.legacy) r.warnings.push_back("legacy v0.2 payload (https://model_signing/Digests/v0.1)");
  r.model_name = st.subject_name;
  r.resources = st.resources.size();
  if (duplicate_names(st, req.bundle_path, &r) || !check_payload_root(st, req.bundle_path, &r)) return r;
  if (!check_model(req, st, &r, progress)) return r;
  r.status = VerifyStatus::kVerified;
  return r;
}

}  // namespace pedigree
