// This file implements the signing keys: loading PEM private keys (optionally
// encrypted) and PEM/DER public keys through OpenSSL, the supported key types
// (ECDSA P-256/P-384/P-521 with the hash chosen by the curve, and Ed25519 as a
// Pedigree extension), signing, verification and the OMS public key hint.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "fingerprint/error.h"

namespace pedigree {

/// Key types Pedigree signs and verifies with.
enum class KeyType { kP256, kP384, kP521, kEd25519 };

/// "ECDSA P-256", "ECDSA P-384", "ECDSA P-521", "Ed25519".
std::string_view key_type_name(KeyType t);

/// True for the types the OMS reference verifier accepts (the ECDSA curves).
bool reference_accepts(KeyType t);

/// Frees an EVP_PKEY.
struct PkeyFree {
  void operator()(EVP_PKEY* k) const;
};

/// A loaded key (private or public-only) and its type.
struct Key {
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey;
  KeyType type = KeyType::kP256;
};

/// Largest key or certificate file read (1 MiB).
inline constexpr uint64_t kMaxKeyFileBytes = 1 << 20;

/// Any OpenSSL key (the JSF signer also takes RSA keys).
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

/// Reads a PEM private key of any type OpenSSL knows; `password` decrypts an
/// encrypted key. The key bytes and password never appear in error messages:
/// "private key is encrypted; give --password-file or set
/// PEDIGREE_KEY_PASSWORD", "cannot decrypt private key (wrong password?)",
/// "not a PEM private key".
bool load_any_private_key(const std::string& path, const std::optional<std::string>& password, PkeyPtr* out,
                          Error* err);

/// Reads a public key of any type (PEM "PUBLIC KEY" or DER SubjectPublicKeyInfo).
bool load_any_public_key(const std::string& path, PkeyPtr* out, Error* err);

/// Reads a PEM private key (see load_any_private_key) of a supported type.
bool load_private_key(const std::string& path, const std::optional<std::string>& password, Key* out,
                      Error* err);

/// Reads a public key (PEM "PUBLIC KEY" or DER SubjectPublicKeyInfo).
bool load_public_key(const std::string& path, Key* out, Error* err);

/// Decodes a DER SubjectPublicKeyInfo held in memory; `label` names it in errors.
bool public_key_from_der(std::string_view der, const std::string& label, Key* out, Error* err);

/// Wraps an EVP_PKEY (takes ownership), checking that its type is supported.
bool key_from_pkey(EVP_PKEY* pkey, const std::string& path, Key* out, Error* err);

/// Signs `message` (ECDSA: hash by curve, DER signature; Ed25519: pure).
bool sign_message(const Key& key, std::string_view message, std::string* signature, Error* err);

/// Verifies a signature. `legacy_sha256` forces SHA-256 for ECDSA (the
/// model_signing v0.2.0 behaviour).
bool verify_message(const Key& key, std::string_view message, std::string_view signature,
                    bool legacy_sha256 = false);

/// PEM SubjectPublicKeyInfo of the key ("-----BEGIN PUBLIC KEY-----...").
std::string public_key_pem(const Key& key);

/// The OMS v1.1 key hint: lowercase hex SHA-256 of public_key_pem().
std::string public_key_hint(const Key& key);

/// True when both keys have the same public part.
bool same_public_key(const Key& a, const Key& b);

/// Reads a whole small file (at most `cap` bytes).
bool read_small_file(const std::string& path, uint64_t cap, const char* what, std::string* out, Error* err);

}  // namespace pedigree
