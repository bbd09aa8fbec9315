// This file implements `pedigree sign`: sign a model into an OpenSSF Model
// Signing v1.0 bundle with a private key (key method) or a key plus its
// certificate chain (certificate method), written atomically.
#include <openssl/crypto.h>

#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "signing/keys.h"
#include "signing/sign.h"

namespace pedigree::cli {

bool read_key_password(const std::string& password_file, std::optional<std::string>* out, Error* err) {
  if (!password_file.empty()) {
    std::string text;
    if (!read_small_file(password_file, 64 * 1024, "password file", &text, err)) return false;
    std::string line = text.substr(0, text.find('\n'));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    *out = line;
    OPENSSL_cleanse(text.data(), text.size());
    return true;
  }
  if (const char* env = std::getenv("PEDIGREE_KEY_PASSWORD")) *out = std::string(env);
  return true;
}

namespace {

uint64_t model_bytes(const SignRequest& req) {
  Manifest m;
  Error ignored;
  return enumerate_model(req.model_path, req.options, &m, &ignored) ? m.total_bytes : 0;
}

}  // namespace

int run_sign(const SignArgs& a) {
  SignRequest req;
  Error err;
  req.model_path = a.hash.path;
  if (!manifest_options_from_args(a.hash, &req.options, &err)) return report_error(err.message);
  if (a.cert.empty() && !a.chain.empty()) return report_error("--chain needs --cert");
  req.key_path = a.key;
  req.cert_path = a.cert;
  req.chain_paths = a.chain;
  req.output_path = a.hash.output.empty() ? default_signature_path(a.hash.path) : a.hash.output;
  if (!read_key_password(a.password_file, &req.password, &err)) return report_error(err);
  SignResult res;
  bool ok;
  {
    Progress p("hashing", model_bytes(req));
    ok = sign_model(req, &res, &err, p.counter());
  }
  if (req.password) OPENSSL_cleanse(req.password->data(), req.password->size());
  if (!ok) return report_error(err);
  if (!reference_accepts(res.key_type))
    std::fputs("pedigree: warning: Ed25519 is a Pedigree extension; the OMS reference verifier (model_signing) "
               "does not accept it\n", stderr);
  if (!write_output(req.output_path, res.bundle, &err)) return report_error(err);
  if (req.output_path == "-") return kOk;
  std::string who = a.cert.empty() ? fmt::format("{} key (hint {})", key_type_name(res.key_type), res.key_hint)
                                   : fmt::format("certificate {} ({})", res.signer, key_type_name(res.key_type));
  std::fprintf(stderr, "signed %s: %zu resources, manifest root sha256:%s, %s -> %s\n",
               res.manifest.model_name.c_str(), res.manifest.resources.size(),
               to_hex(manifest_root(res.manifest.resources)).c_str(), who.c_str(), req.output_path.c_str());
  return kOk;
}

}  // namespace pedigree::cli
