// This file implements the interface of CycloneDX signatures in the JSON
// Signature Format (JSF 0.82): signing a BOM as a single `signature`, as
// independent `signers` or as a signature `chain` (optionally appending to an
// existing one), and verifying each signature object with its embedded
// publicKey or certificatePath, given keys and trusted root certificates.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/error.h"
#include "signing/keys.h"

namespace pedigree {

/// A private or public key of any JSF type (EC P-256/384/521, Ed25519, RSA).
using JsfKey = PkeyPtr;

/// The JSF algorithm for a key: ES256/ES384/ES512 by curve, Ed25519, and RS256
/// (or PS256 when `rsa_pss`) for RSA. Fails for other key types.
bool jsf_algorithm_for_key(EVP_PKEY* key, bool rsa_pss, std::string* algorithm, Error* err);

/// The three JSF signature forms.
enum class JsfForm { kSingle, kSigners, kChain };

/// "single", "signers", "chain".
const char* jsf_form_name(JsfForm f);

/// One signer to add.
struct JsfSigner {
  EVP_PKEY* key = nullptr;  ///< private key (not owned)
  bool rsa_pss = false;     ///< PS256 instead of RS256 for an RSA key
  /// DER certificates, leaf first. When set, `certificatePath` is written
  /// instead of `publicKey` (the leaf must hold the key's public part).
  std::vector<std::string> certificate_path;
  bool embed_key = true;  ///< write `publicKey` (ignored with a certificate path)
};

/// Signs `doc` (an object). kSingle takes exactly one signer and adds
/// `signature`; kSigners and kChain add `signature.signers` / `.chain` in
/// the order given. With `append` the document must already carry that form
/// and the new objects go after the existing ones (whose values stay valid:
/// a signer covers only itself, a chain link covers the links before it).
bool jsf_sign(nlohmann::json* doc, const std::vector<JsfSigner>& signers, JsfForm form, bool append, Error* err);

/// Single-signature shorthand of the above.
bool jsf_sign(nlohmann::json* doc, EVP_PKEY* key, bool rsa_pss, Error* err, bool embed_key = true);

/// What a verifier trusts.
struct JsfTrust {
  std::vector<EVP_PKEY*> keys;   ///< given public keys (not owned); each must be among the signers
  std::vector<X509*> roots;      ///< trusted roots for certificatePath (not owned)
  std::optional<time_t> at;      ///< certificate validity time (default: now)
};

/// The outcome for one signature object.
struct JsfSignerResult {
  std::string pointer;    ///< "/signature", "/signature/signers/1", "/signature/chain/0"
  std::string algorithm;  ///< as written
  std::string key_id;     ///< the object's keyId, if any
  std::string key_source;   ///< "publicKey", "certificatePath", "given key" or "" (no key)
  std::string fingerprint;  ///< "sha256:" + hex SHA-256 of the verifying key's DER SubjectPublicKeyInfo
  std::string certificate;  ///< leaf subject when the object has a certificatePath
  bool valid = false;          ///< the signature (and any certificate checks) hold
  bool given_key = false;      ///< verified by one of JsfTrust::keys
  bool chained_to_root = false;  ///< its certificatePath leads to one of JsfTrust::roots
  std::string problem;         ///< why it is not valid (empty when valid)
};

/// The outcome of verifying a document's top-level signature.
struct JsfReport {
  std::string form;  ///< "single", "signers" or "chain"
  std::vector<JsfSignerResult> signers;
  std::vector<std::string> missing_keys;  ///< fingerprints of given keys no valid signer used
  bool root_required = false;             ///< roots were given
  /// At least one signer, every signer valid, every given key used by a
  /// valid signer, and (with roots) at least one signer chained to a root.
  bool valid() const;
};

/// Parses the top-level `signature` of `doc` strictly (fails with an exact
/// message on a malformed signature object, bad base64url, a bad JWK or
/// certificate, or a bad `excludes`/`extensions`) and verifies each
/// signature object. Cryptographic failures are reported in `out`.
bool jsf_verify(const nlohmann::json& doc, const JsfTrust& trust, JsfReport* out, Error* err);

/// Shorthand: `trusted` (may be null) is the one given key.
bool jsf_verify(const nlohmann::json& doc, EVP_PKEY* trusted, JsfReport* out, Error* err);

/// "sha256:" + lowercase hex SHA-256 of the key's DER SubjectPublicKeyInfo.
std::string jsf_key_fingerprint(EVP_PKEY* key);

/// base64url without padding.
std::string base64url_encode(std::string_view bytes);

/// Strict base64url decode: alphabet A-Z a-z 0-9 - _, no padding.
bool base64url_decode(std::string_view text, std::string* out);

}  // namespace pedigree
