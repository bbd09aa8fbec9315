// This file implements signing a model into an OMS v1.0 bundle (see sign.h).
#include "signing/sign.h"

#include <filesystem>

#include "signing/bundle.h"
#include "signing/certs.h"
#include "signing/encoding.h"
#include "signing/statement.h"

namespace pedigree {
namespace {

namespace fs = std::filesystem;

bool load_certificate_material(const SignRequest& req, const Key& key, SignResult* out, Bundle* b, Error* err) {
  std::vector<CertPtr> leaf;
  if (!load_pem_certificates(req.cert_path, &leaf, err)) return false;
  Key cert_key;
  if (!certificate_key(leaf[0].get(), req.cert_path, &cert_key, err)) return false;
  if (!same_public_key(key, cert_key))
    return fail(err, req.cert_path, std::nullopt, "certificate's public key does not match the private key");
  b->material = BundleMaterial::kCertificateChain;
  for (const CertPtr& c : leaf) b->certificates.push_back(certificate_der(c.get()));
  for (const std::string& p : req.chain_paths) {
    std::vector<CertPtr> chain;
    if (!load_pem_certificates(p, &chain, err)) return false;
    for (const CertPtr& c : chain) b->certificates.push_back(certificate_der(c.get()));
  }
  if (b->certificates.size() > kMaxCertificates)
    return fail(err, req.cert_path, std::nullopt, "more than " + std::to_string(kMaxCertificates) + " certificates");
  out->signer = certificate_subject(leaf[0].get());
  return true;
}

}  // namespace

std::string default_signature_path(const std::string& model_path) {
  fs::path p(model_path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) return (p / "model.sig").string();
  fs::path parent = p.lexically_normal().parent_path();
  return parent.empty() ? std::string("model.sig") : (parent / "model.sig").string();
}

std::string signature_inside_model(const std::string& model_path, const std::string& signature_path) {
  std::error_code ec;
  if (!fs::is_directory(model_path, ec)) return {};
  fs::path root = fs::weakly_canonical(fs::absolute(model_path), ec);
  fs::path sig = fs::weakly_canonical(fs::absolute(signature_path), ec);
  if (ec) return {};
  fs::path rel = sig.lexically_relative(root);
  if (rel.empty() || *rel.begin() == ".." || rel == ".") return {};
  return rel.generic_string();
}

bool sign_model(const SignRequest& req, SignResult* out, Error* err, ProgressCounter* progress) {
  ManifestOptions opts = req.options;
  std::string inside = signature_inside_model(req.model_path, req.output_path);
  if (!inside.empty() && inside != opts.signature_name) opts.ignore_paths.push_back(inside);
  Key key;
  if (!load_private_key(req.key_path, req.password, &key, err)) return false;
  Bundle b;
  if (!req.cert_path.empty() && !load_certificate_material(req, key, out, &b, err)) return false;
  if (!enumerate_model(req.model_path, opts, &out->manifest, err)) return false;
  if (out->manifest.resources.empty())
    return fail(err, req.model_path, std::nullopt, "model has no files to sign (after ignored paths)");
  if (!hash_manifest(&out->manifest, err, progress)) return false;
  b.payload = statement_payload(out->manifest);
  if (!sign_message(key, dsse_pae(b.payload_type, b.payload), &b.signature, err)) return false;
  if (b.material == BundleMaterial::kPublicKey) b.key_hint = out->key_hint = public_key_hint(key);
  out->key_type = key.type;
  out->bundle = bundle_text(b);
  return true;
}

}  // namespace pedigree
