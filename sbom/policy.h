// This file implements the policy engine behind `pedigree check`: parsing a
// YAML policy (docs/policy.md) into plain structs, and evaluating it over
// evidence the caller gathered (read model, manifest root, AI-BOM, signature
// verification attempts, and hooks for lineage and probe evidence). A rule
// whose evidence is missing is "not evaluated", never passed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/artifact.h"
#include "fingerprint/error.h"

namespace pedigree {

/// What a rule that could not be evaluated counts as.
enum class NotEvaluatedMode { kFail, kWarn, kPass };

/// One way a signature may be trusted (any configured trust suffices).
struct SignatureTrust {
  enum class Kind { kKey, kCertificate, kKeyless } kind = Kind::kKey;
  std::string key;                  ///< kKey: PEM/DER public key path (resolved against the policy's directory)
  std::vector<std::string> roots;   ///< kCertificate: trusted root certificates (PEM)
  std::vector<std::string> chain;   ///< kCertificate: intermediates not in the bundle (PEM)
  std::string identity, issuer;     ///< kKeyless: certificate identity (SAN) and OIDC issuer
  std::string trust_root;           ///< kKeyless: Sigstore trusted_root.json
  /// "key release.pub", "certificate root root.pem", "keyless ID from ISSUER".
  std::string label() const;
};

/// `rules.signature`.
struct SignaturePolicy {
  bool required = true;
  std::vector<SignatureTrust> trusts;
  std::optional<NotEvaluatedMode> on_not_evaluated;
};

/// `rules.licenses`.
struct LicensePolicy {
  std::optional<std::vector<std::string>> allow, deny;
  NotEvaluatedMode unknown = NotEvaluatedMode::kFail;  ///< licence absent or not an SPDX id: fail, warn or pass
};

/// `rules.pickle`.
struct PicklePolicy {
  bool forbid_unsafe_imports = false;
  bool forbid_formats = false;
};

/// `rules.bom`.
struct BomPolicy {
  std::vector<std::string> required_fields;  ///< named fields or JSON pointers ("/metadata/component/purl")
  std::optional<double> min_score;           ///< 0..100 (sbom/score)
};

/// `rules.lineage`.
struct LineagePolicy {
  double max_similarity = 0;
  std::string registry;  ///< registry path, passed to the registry lookup when it exists
  std::optional<NotEvaluatedMode> on_not_evaluated;
};

/// One entry of `rules.probes.packs`.
struct ProbePackPolicy {
  std::string pack;
  std::optional<double> min_p_value;  ///< fail when the pack's p-value is below this
  std::optional<double> max_score;    ///< fail when the pack's score is above this
};

/// `rules.probes`.
struct ProbesPolicy {
  std::vector<ProbePackPolicy> packs;
  std::optional<NotEvaluatedMode> on_not_evaluated;
};

/// One entry of `exceptions`.
struct PolicyException {
  std::string rule;    ///< rule id ("PDG020")
  std::string path;    ///< glob on the model path as given (empty = any)
  std::string digest;  ///< "sha256:<manifest root>" (empty = any)
  std::string reason;
  std::string expires; ///< YYYY-MM-DD; the exception applies through that day (UTC)
  int line = 0;        ///< 1-based line in the policy file
};

/// A parsed policy.
struct Policy {
  std::string path;  ///< the policy file as given
  NotEvaluatedMode on_not_evaluated = NotEvaluatedMode::kFail;
  std::optional<SignaturePolicy> signature;
  std::optional<LicensePolicy> licenses;
  std::optional<PicklePolicy> pickle;
  std::optional<BomPolicy> bom;
  std::optional<LineagePolicy> lineage;
  std::optional<ProbesPolicy> probes;
  std::vector<PolicyException> exceptions;
};

/// Parses policy text; `path` names the file in errors ("policy.yaml: line 7: rules.licenses.allow:
/// expected a list of SPDX ids") and relative key/certificate paths are resolved against its directory.
bool parse_policy(std::string_view text, const std::string& path, Policy* out, Error* err);

/// JSON pointer of a named BOM field ("purl" -> "/metadata/component/purl"); a pointer is returned as is.
std::string bom_field_pointer(const std::string& field);

/// Reads and parses a policy file (capped at 1 MiB).
bool load_policy(const std::string& path, Policy* out, Error* err);

// --- Evidence -----------------------------------------------------------------

/// Where a piece of evidence came from.
struct EvidenceSource {
  std::string what;     ///< e.g. "unsafe import os.system", "bom score 63.5"
  std::string path;     ///< file it is about or was read from
  std::string digest;   ///< "sha256:..." of that file or of the model
  std::string command;  ///< command that reproduces it, e.g. "pedigree inspect M"
};

/// One attempt to verify the signature with one configured trust.
struct SignatureAttempt {
  enum class Outcome { kVerified, kRejected, kCannotRun, kUnavailable } outcome = Outcome::kUnavailable;
  std::string trust;    ///< SignatureTrust::label()
  std::string detail;   ///< signer/key type when verified, else the reason
  std::string command;  ///< "pedigree verify M --key K"
};

/// The signature found beside the model and what verifying it gave.
struct SignatureEvidence {
  bool present = false;
  std::string bundle_path;
  std::string bundle_digest;  ///< "sha256:..." of the bundle file
  std::vector<SignatureAttempt> attempts;  ///< in policy order; stops after the first verified
};

/// A lineage match against a protected model (from a lineage registry).
struct LineageMatch {
  std::string model;      ///< protected model's name in the registry
  double similarity = 0;  ///< 0..1
  EvidenceSource source;
};

/// Result of one probe pack.
struct ProbePackResult {
  std::string pack;
  std::optional<double> p_value, score;
  EvidenceSource source;
};

/// Everything `pedigree check` knows about the model.
struct CheckEvidence {
  std::string model_path;                ///< as given
  std::string format;
  std::vector<ArtifactFile> files;       ///< as the reader listed them (weights first)
  std::vector<Finding> findings;
  std::string manifest_root;             ///< "sha256:..." (without the signature file)
  std::map<std::string, std::string> file_digests;  ///< ArtifactFile::path -> "sha256:..."
  std::optional<nlohmann::json> bom;     ///< generated CycloneDX BOM, when it could be built
  std::string bom_error;                 ///< why not
  std::optional<double> bom_score;       ///< sbom/score total
  SignatureEvidence signature;
  /// Hook for the lineage registry: nullopt = no registry evidence in this build.
  std::optional<std::vector<LineageMatch>> lineage;
  std::string lineage_unavailable = "lineage registry evidence is not available in this build";
  /// Hook for probe packs: nullopt = no probe evidence in this build.
  std::optional<std::vector<ProbePackResult>> probes;
  std::string probes_unavailable = "probe pack evidence is not available in this build";
};

// --- Results ------------------------------------------------------------------

enum class RuleStatus { kPass, kFail, kNotEvaluated, kExcepted };

/// "pass", "fail", "not-evaluated", "excepted".
const char* status_name(RuleStatus s);

/// A rule of the policy language (stable id and name).
struct RuleInfo {
  const char* id;     ///< "PDG001"
  const char* name;   ///< "signature.required"
  const char* short_description;
  const char* help;
};

/// Every rule, ordered by id.
const std::vector<RuleInfo>& policy_rules();

/// The rule with id or name `key`, or nullptr.
const RuleInfo* find_rule(std::string_view key);

/// One rule's outcome on one subject (a probe pack; otherwise the model).
struct RuleResult {
  std::string id, name;
  std::string subject;       ///< probe pack name; empty for model-wide rules
  RuleStatus status = RuleStatus::kPass;
  std::string level;         ///< "error", "warning" or "note"
  std::string message;
  std::vector<EvidenceSource> evidence;
  std::vector<std::string> locations;    ///< files the result points at (paths as opened)
  std::string exception;                 ///< when excepted: "reason (expires YYYY-MM-DD, policy line N)"
  std::vector<std::string> notes;        ///< e.g. expired exceptions that no longer apply
  bool violation() const { return level == "error" && (status == RuleStatus::kFail || status == RuleStatus::kNotEvaluated); }
};

/// The whole evaluation.
struct CheckReport {
  std::string model_path, policy_path, today;
  std::vector<RuleResult> results;
  std::vector<std::string> expired_exceptions;  ///< "policy line N: PDG020 expired 2026-01-01 (reason)"
  size_t violations() const;
  bool passed() const { return violations() == 0; }
};

/// Evaluates the policy; `today` is YYYY-MM-DD (UTC) for exception expiry.
CheckReport evaluate_policy(const Policy& policy, const CheckEvidence& ev, const std::string& today);

/// Today's date (UTC) as YYYY-MM-DD, or `override_date` when non-empty (checked: the
/// injectable clock, PEDIGREE_NOW in the CLI).
bool today_utc(const std::string& override_date, std::string* out, Error* err);

/// True for a real calendar date written YYYY-MM-DD.
bool valid_date(std::string_view s);

/// The report as JSON (deterministic).
nlohmann::json report_json(const CheckReport& r);

/// The evidence list as JSON objects {what, path?, digest?, command?} (report and SARIF).
nlohmann::json evidence_json(const std::vector<EvidenceSource>& evidence);

/// The report for people.
std::string report_text(const CheckReport& r);

/// Glob match: '*' any run without '/', '**' any run, '?' one character, else literal.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace pedigree
