// This file implements the Sigstore bundle v0.3 JSON that carries an OMS
// signature: reading it (media type, DSSE envelope, verification material for
// the key and certificate methods) with a distinct message for every way it
// can be unacceptable, and writing it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/error.h"
#include "signing/rekor.h"

namespace pedigree {

inline constexpr char kBundleMediaType[] = "application/vnd.dev.sigstore.bundle.v0.3+json";
inline constexpr char kInTotoPayloadType[] = "application/vnd.in-toto+json";

/// Largest signature file read (64 MiB).
inline constexpr uint64_t kMaxBundleBytes = uint64_t(64) << 20;

/// What a bundle's verificationMaterial holds.
enum class BundleMaterial {
  kPublicKey,         ///< key method
  kCertificateChain,  ///< certificate method (x509CertificateChain)
  kCertificate,       ///< Sigstore keyless (a single Fulcio certificate)
};

/// The parts of a bundle the key, certificate and keyless methods use.
struct Bundle {
  std::string media_type = kBundleMediaType;
  BundleMaterial material = BundleMaterial::kPublicKey;
  std::string key_hint;                   ///< publicKey.hint (v1.1 and later), may be empty
  std::string key_raw;                    ///< decoded publicKey.rawBytes (older releases), may be empty
  std::vector<std::string> certificates;  ///< DER, leaf first, then intermediates
  std::string payload_type = kInTotoPayloadType;
  std::string payload;                    ///< raw decoded payload bytes (what was signed)
  std::string signature;                  ///< raw decoded signature bytes
  std::vector<TlogEntry> tlog_entries;    ///< verificationMaterial.tlogEntries
  std::vector<std::string> rfc3161;       ///< DER TimeStampResponses (timestampVerificationData)
};

/// Outcome of reading a bundle.
enum class BundleStatus {
  kOk,
  kUnreadable,  ///< missing file, too large, empty, truncated or not JSON (exit 2)
  kRejected,    ///< well-formed JSON that is not an acceptable bundle (exit 1)
};

/// Parses bundle text; `path` names it in errors.
BundleStatus parse_bundle(std::string_view text, const std::string& path, Bundle* out, Error* err);

/// Reads and parses a bundle file.
BundleStatus read_bundle(const std::string& path, Bundle* out, Error* err);

/// The bundle as JSON text (2-space indent, trailing newline), as written by `pedigree sign`.
std::string bundle_text(const Bundle& b);

}  // namespace pedigree
