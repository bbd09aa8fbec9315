// This file implements the interface of CycloneDX signatures in the JSON
// Signature Format (JSF 0.82): signing a BOM with a single signer and
// verifying a top-level `signature` that is a single signer, a `signers`
// array (each signer alone) or a `chain` (each link over the earlier ones).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/error.h"
#include "signing/keys.h"

namespace pedigree {

/// A private or public key of any JSF type (EC P-256/384/521, Ed25519, RSA).
using JsfKey = std::unique_ptr<EVP_PKEY, PkeyFree>;

/// Reads a PEM private key (unencrypted) for JSF signing.
bool load_jsf_private_key(const std::string& path, JsfKey* out, Error* err);

/// Reads a PEM or DER SubjectPublicKeyInfo for JSF verification.
bool load_jsf_public_key(const std::string& path, JsfKey* out, Error* err);

/// The JSF algorithm for a key: ES256/ES384/ES512 by curve, Ed25519, and RS256
/// (or PS256 when `rsa_pss`) for RSA. Fails for other key types.
bool jsf_algorithm_for_key(EVP_PKEY* key, bool rsa_pss, std::string* algorithm, Error* err);

/// Adds a top-level JSF `signature` (algorithm, publicKey as JWK, value) to
/// `doc`, signed over the RFC 8785 form of `doc` with the value left out.
/// Fails when `doc` is not an object or already has a `signature`. Without
/// `embed_key` the publicKey is left out (verifiers then need the key).
bool jsf_sign(nlohmann::json* doc, EVP_PKEY* key, bool rsa_pss, Error* err, bool embed_key = true);

/// The outcome for one signature object.
struct JsfSignerResult {
  std::string pointer;    ///< "/signature", "/signature/signers/1", "/signature/chain/0"
  std::string algorithm;  ///< as written
  bool valid = false;     ///< the signature verifies with the key used
  bool embedded_key = false;  ///< verified with the document's own publicKey or certificate
  std::string problem;    ///< why it did not verify (empty when valid)
};

/// The outcome of verifying a document's top-level signature.
struct JsfReport {
  std::string form;  ///< "single", "signers" or "chain"
  std::vector<JsfSignerResult> signers;
  bool valid() const;  ///< at least one signer and every signer valid
};

/// Parses the top-level `signature` of `doc` strictly (fails with an exact
/// message on a missing value, bad base64url or a bad JWK) and verifies each
/// signature object. `trusted` (may be null) must equal an embedded public
/// key; with none embedded it is the verification key. An unsupported
/// algorithm is reported in `out`, not as a failure.
bool jsf_verify(const nlohmann::json& doc, EVP_PKEY* trusted, JsfReport* out, Error* err);

/// base64url without padding.
std::string base64url_encode(std::string_view bytes);

/// Strict base64url decode: alphabet A-Z a-z 0-9 - _, no padding.
bool base64url_decode(std::string_view text, std::string* out);

}  // namespace pedigree
