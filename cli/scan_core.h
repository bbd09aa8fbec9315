// This file declares the scan pipeline shared by `scan`, `check` and `audit`:
// everything Pedigree can learn about one model (or endpoint) gathered into
// plain data, without printing. The commands decide how to show it and which
// exit code it means.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/digest.h"
#include "fingerprint/artifact.h"
#include "fingerprint/error.h"
#include "fingerprint/registry.h"
#include "probes/runner.h"
#include "signing/verify.h"

namespace pedigree::cli {

/// What to scan and which optional evidence to gather.
struct ScanRequest {
  std::string path;                  ///< model file or directory (empty with `endpoint`)
  std::string endpoint;              ///< OpenAI-compatible base URL (empty with `path`)
  std::vector<std::string> packs;    ///< probe packs (built-in names or files)
  std::string signature;             ///< signature bundle; empty: look beside the model
  std::string registry;              ///< lineage registry; empty: the default one when it exists
  unsigned jobs = 0;                 ///< hashing threads (0: all cores)
  /// Called once the number of bytes to hash is known; returns the counter to
  /// advance (or nullptr). Lets the caller draw progress without knowing the model.
  std::function<ProgressCounter*(uint64_t total_bytes)> start_progress;
  // Signature trust (at most one of key, cert_roots, trust_root). None: the bundle's
  // manifest is compared with the files and the signer is reported as unverified.
  std::string key;                      ///< public key (PEM/DER)
  std::vector<std::string> cert_roots;  ///< trusted root certificates (PEM)
  std::vector<std::string> cert_chain;  ///< intermediates not in the bundle (PEM)
  std::string trust_root;               ///< Sigstore trusted_root.json (keyless, with identity and issuer)
  std::string identity, issuer;         ///< keyless: expected certificate identity and OIDC issuer
  // Probe backend (with `packs`): `endpoint`, else a GGUF `path` served by llama-server.
  std::string model;                    ///< model name sent to the endpoint
  std::string llama_server;             ///< llama-server binary; empty: $PEDIGREE_LLAMA_SERVER, else PATH
  std::string cache_dir;                ///< response cache; empty: the default
  bool no_cache = false;
  int concurrency = 4;                  ///< probe requests in flight
  std::string declared;                 ///< the model's declared vendor (identity packs)
  std::vector<std::string> watermark_keys;  ///< key files for watermark packs (never printed)
  // The AI-BOM's injectable clock and serial (as `pedigree bom`).
  std::optional<int64_t> bom_timestamp; ///< seconds since the epoch; nullopt: now
  std::string bom_serial;               ///< "urn:uuid:..."; empty: random
};

/// One piece of evidence and what it says.
struct ScanCheck {
  std::string name;      ///< "reader", "signature", "lineage", "probe:identity", ...
  std::string status;    ///< "pass", "flagged", "not-evaluated"
  std::string detail;    ///< one line: what was found or why it was not evaluated
  std::string evidence;  ///< where to look: a file written, or the command that shows it
};

/// The lineage registry consulted and how the model relates to its models.
struct LineageEvidence {
  std::string registry;                ///< the registry file
  std::vector<RegistryMatch> matches;  ///< match_registry's order
  std::vector<std::string> flagged;    ///< protected models it is identical to or derived from
};

/// Where to run probe packs: an endpoint, else a local GGUF served by llama-server.
struct ProbeTarget {
  std::string endpoint, model;  ///< OpenAI-compatible base URL and model name
  std::string gguf;             ///< local GGUF (when no endpoint)
  std::string llama_server, cache_dir, declared;
  bool no_cache = false;
  int concurrency = 4;
  std::vector<std::string> watermark_keys;  ///< key files for watermark packs
};

/// Everything a scan learned.
struct ScanOutcome {
  std::string subject;               ///< the path or endpoint as given
  std::string format;                ///< detected format ("gguf", "safetensors", ...); empty for endpoints
  bool flagged = false;              ///< any check flagged
  std::vector<ScanCheck> checks;     ///< in a fixed order
  std::vector<Finding> findings;     ///< the reader's findings
  /// Summary lines for the one-screen view: {label, value}, in order.
  std::vector<std::pair<std::string, std::string>> summary;
  nlohmann::json report;             ///< the machine-readable report (`scan --json`)
  nlohmann::json bom;                ///< the AI-BOM with every result as properties (null when none)
  std::string name;                  ///< file-name-safe name for outputs ("<name>.cdx.json")
  std::optional<LineageEvidence> lineage;   ///< when a registry was consulted
  std::optional<probes::RunResult> probes;  ///< when packs were run
};

/// Scans one model or endpoint. Returns false (with `err`) only when the scan
/// could not run (unreadable or malformed input); flagged findings are data.
bool scan_model(const ScanRequest& req, ScanOutcome* out, Error* err);

/// The registry to consult: `given` when non-empty, else the default registry when
/// that file exists, else "" (no lineage evidence).
std::string find_registry(const std::string& given);

/// Compares the model at `path` with every model of `registry` (which must exist:
/// "cannot open registry PATH: no such file").
bool gather_lineage(const std::string& path, const std::string& registry, unsigned jobs, LineageEvidence* out,
                    Error* err);

/// True when a registry match flags the model: identical to, or derived from, a protected model
/// (the rule of `pedigree lineage PATH --registry`).
bool lineage_flags(const RegistryMatch& m);

/// Loads `packs` (built-in ids or files), opens the backend and runs them.
bool run_probe_packs(const std::vector<std::string>& packs, const ProbeTarget& target, probes::RunResult* out,
                     Error* err);

/// A pack's match rate (matches / trials), the score that policy thresholds compare.
double pack_score(const probes::PackResult& p);

/// One line on a pack's result: trials and matches, or for a watermark pack the
/// tuples scored per mode; then the (adjusted) p-value and the threshold.
std::string pack_summary(const probes::PackResult& p);

/// The `pedigree verify` command line that repeats `r` (the evidence pointer of a signature check).
std::string verify_command(const VerifyRequest& r);

/// True when `path` is a regular file that starts with the GGUF magic (a model
/// llama-server can serve).
bool is_gguf_file(const std::string& path);

}  // namespace pedigree::cli
