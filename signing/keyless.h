// This file implements offline verification of the Sigstore keyless material
// of a bundle against a trusted root: the Rekor entry (body, inclusion proof,
// checkpoint, signed entry timestamp), RFC 3161 timestamps, the Fulcio chain
// at the verified signing time, the embedded SCT and the signer identity.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "signing/bundle.h"
#include "signing/trusted_root.h"

namespace pedigree {

/// How one check ended.
enum class CheckState {
  kPassed,
  kFailed,
  kAbsent,   ///< the bundle has no material for it
  kNotUsed,  ///< present but cannot be checked with this trusted root (optional checks only)
};

/// "passed", "failed", "absent" or "not used".
std::string_view check_state_name(CheckState s);

/// One named check with a human-readable detail.
struct CheckResult {
  std::string name;
  CheckState state = CheckState::kFailed;
  std::string detail;
};

/// Who must have signed (both compared exactly).
struct KeylessPolicy {
  std::string identity;  ///< SAN email or URI
  std::string issuer;    ///< OIDC issuer
};

/// What the keyless checks found.
struct KeylessResult {
  bool ok = false;
  std::string reason;  ///< "<check>: <detail>" of the first failed check
  std::vector<CheckResult> checks;
  std::string identity, issuer;      ///< as the leaf certificate states them
  std::vector<time_t> signing_times;  ///< verified: SET integrated time and RFC 3161 times
};

/// Runs every keyless check on a bundle whose material is kCertificate. The
/// DSSE signature and the payload are left to the caller.
KeylessResult verify_keyless(const Bundle& b, const TrustedRoot& root, const KeylessPolicy& policy);

}  // namespace pedigree
