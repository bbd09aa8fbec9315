// This file implements the in-toto Statement v1 that an OMS signature signs:
// building the payload bytes from a manifest (predicate
// https://model_signing/signature/v1.0) and reading a signed payload back,
// including the legacy https://model_signing/Digests/v0.1 form of v0.2.0.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/error.h"
#include "fingerprint/manifest.h"

namespace pedigree {

inline constexpr char kStatementType[] = "https://in-toto.io/Statement/v1";
inline constexpr char kPredicateType[] = "https://model_signing/signature/v1.0";
inline constexpr char kLegacyPredicateType[] = "https://model_signing/Digests/v0.1";

/// Most resources read from a signed payload.
inline constexpr size_t kMaxSignedResources = 10000000;

/// A resource as listed in a signed payload.
struct SignedResource {
  std::string name;
  std::string algorithm;
  std::vector<uint8_t> digest;
};

/// What a signed payload says about the model.
struct Statement {
  bool legacy = false;                   ///< Digests/v0.1 payload (model_signing v0.2.0)
  std::string subject_name;
  std::vector<uint8_t> subject_digest;   ///< manifest root (v1.0 payloads only)
  ManifestOptions options;               ///< serialization recorded in the payload
  bool records_ignore_paths = false;     ///< serialization.ignore_paths present (v1.1 and later)
  std::vector<SignedResource> resources; ///< in payload order
};

/// The payload bytes for a manifest: the statement JSON (2-space indent).
std::string statement_payload(const Manifest& m);

/// Parses a signed payload; `path` names the bundle in errors.
bool parse_statement(std::string_view payload, const std::string& path, Statement* out, Error* err);

}  // namespace pedigree
