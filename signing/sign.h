// This file implements `pedigree sign` as a library call: hash the model with
// the requested serialization, build the OMS statement, sign its DSSE PAE with
// an ECDSA (or Ed25519) key, and assemble the bundle for the key method or the
// certificate method (leaf then intermediates).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fingerprint/error.h"
#include "fingerprint/manifest.h"
#include "signing/keys.h"

namespace pedigree {

/// What to sign and with what.
struct SignRequest {
  std::string model_path;
  ManifestOptions options;                  ///< serialization (as for `pedigree hash`)
  std::string key_path;                     ///< PEM private key
  std::optional<std::string> password;      ///< for an encrypted key
  std::string cert_path;                    ///< leaf certificate (PEM); empty for the key method
  std::vector<std::string> chain_paths;     ///< intermediates (PEM), certificate method only
  std::string output_path;                  ///< where the bundle goes (kept out of the manifest)
};

/// The signed result.
struct SignResult {
  std::string bundle;      ///< bundle JSON text to write
  Manifest manifest;
  KeyType key_type = KeyType::kP256;
  std::string key_hint;    ///< key method
  std::string signer;      ///< certificate subject (certificate method)
};

/// Where the signature goes by default: DIR/model.sig for a directory, and
/// model.sig next to the file for a single-file model (as the reference
/// implementation's fixtures are laid out).
std::string default_signature_path(const std::string& model_path);

/// Signs a model. An empty model (no files after ignores) is an error.
bool sign_model(const SignRequest& req, SignResult* out, Error* err, ProgressCounter* progress = nullptr);

/// The signature path relative to the model directory when it lies inside it
/// (so the manifest leaves it out), else empty.
std::string signature_inside_model(const std::string& model_path, const std::string& signature_path);

}  // namespace pedigree
