// This file implements `pedigree verify` as a library call: read the bundle,
// check the DSSE signature with a given public key or with the leaf of a
// certificate chain that reaches a given root, or with a Sigstore keyless
// certificate checked against a trusted root (see keyless.h), then recompute the manifest
// from disk with the serialization recorded in the payload and compare it
// resource by resource.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "fingerprint/error.h"
#include "fingerprint/manifest.h"
#include "signing/keyless.h"

namespace pedigree {

/// What to verify and against which trust.
struct VerifyRequest {
  std::string model_path;
  std::string bundle_path;
  std::string key_path;                  ///< key method: PEM/DER public key
  std::vector<std::string> root_paths;   ///< certificate method: trusted roots (PEM)
  std::vector<std::string> chain_paths;  ///< certificate method: extra intermediates (PEM)
  std::string trust_root_path;           ///< keyless method: Sigstore TrustedRoot or ClientTrustConfig JSON
  std::string identity;                  ///< keyless method: expected SAN (email or URI)
  std::string issuer;                    ///< keyless method: expected OIDC issuer
  bool ignore_unsigned_files = false;    ///< files on disk that the payload does not list are accepted
  bool at_signing_time = false;          ///< check certificate validity at the leaf's notBefore (reference rule)
  /// No trust given: skip the signature and identity checks and only compare the files
  /// with the signed manifest (method "none"; the signer is whatever the bundle claims).
  bool integrity_only = false;
  std::optional<time_t> now;             ///< validity time override (tests); default: current time
  unsigned jobs = 0;
};

/// Outcome of a verification.
enum class VerifyStatus { kVerified, kRejected, kCannotRun };

/// Everything a verification found; `reason` is set unless verified.
struct VerifyResult {
  VerifyStatus status = VerifyStatus::kCannotRun;
  Error reason;
  std::string method;                  ///< "key", "certificate", "keyless" or "none" (integrity_only)
  std::string key_type;                ///< "ECDSA P-384", ...
  std::string signer;                  ///< leaf subject (certificate method; claimed, with integrity_only)
  std::string material;                ///< "public key", "certificate chain" or "Sigstore certificate"
  std::string model_name;              ///< subject name in the payload
  std::string root_hex;                ///< manifest root (subject digest)
  size_t resources = 0;                ///< resources in the payload
  bool legacy_pae = false;             ///< signed the v0.2.0 pre-authentication encoding
  bool legacy_payload = false;         ///< Digests/v0.1 payload (v0.2.0)
  std::vector<std::string> missing;    ///< signed but not on disk
  std::vector<std::string> changed;    ///< on disk with another digest
  std::vector<std::string> extra;      ///< on disk but not signed
  std::vector<std::string> warnings;   ///< e.g. key hint absent, Ed25519 extension
  std::vector<CheckResult> checks;     ///< keyless method: every check, in order
  std::string identity, oidc_issuer;   ///< keyless method: as the leaf states them
  std::vector<time_t> signing_times;   ///< keyless method: verified signing times
};

/// Runs the whole verification.
VerifyResult verify_model(const VerifyRequest& req, ProgressCounter* progress = nullptr);

}  // namespace pedigree
