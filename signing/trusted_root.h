// This file implements reading a Sigstore TrustedRoot (media type
// application/vnd.dev.sigstore.trustedroot+json), bare or wrapped in a
// ClientTrustConfig: transparency logs, certificate authorities, CT logs and
// timestamp authorities, each with its validFor window.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/error.h"

namespace pedigree {

/// Largest trusted root file read (4 MiB) and most entries of each kind.
inline constexpr uint64_t kMaxTrustedRootBytes = uint64_t(4) << 20;
inline constexpr size_t kMaxTrustedEntries = 64;

/// A validFor window; an absent end means still valid.
struct ValidityWindow {
  std::optional<time_t> start, end;
  bool contains(time_t t) const { return (!start || t >= *start) && (!end || t <= *end); }
};

/// A transparency log or CT log: its key and key id.
struct TrustedLog {
  std::string base_url;
  std::string key_der;  ///< DER SubjectPublicKeyInfo
  std::string key_id;   ///< raw logId.keyId
  ValidityWindow valid;
};

/// A certificate authority or timestamp authority: its chain, leaf-most first.
struct TrustedAuthority {
  std::string uri;
  std::vector<std::string> chain_der;
  ValidityWindow valid;
};

/// The trust material of a TrustedRoot.
struct TrustedRoot {
  std::vector<TrustedLog> tlogs, ctlogs;
  std::vector<TrustedAuthority> certificate_authorities, timestamp_authorities;
};

/// Parses an RFC 3339 UTC time ("2021-01-12T11:53:27.000Z", fraction optional).
std::optional<time_t> parse_rfc3339(std::string_view s);

/// Formats a time as "2021-01-12T11:53:27Z".
std::string format_rfc3339(time_t t);

/// Parses TrustedRoot or ClientTrustConfig JSON; `path` names it in errors.
bool parse_trusted_root(std::string_view text, const std::string& path, TrustedRoot* out, Error* err);

/// Reads and parses a trusted root file.
bool read_trusted_root(const std::string& path, TrustedRoot* out, Error* err);

}  // namespace pedigree
