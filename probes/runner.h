// This file implements the probe runner's interface: run packs against a
// Backend with bounded concurrency, collect per-probe results, decide per pack
// (binomial tail against the chance probability; identity: per vendor claim
// with Bonferroni; watermark: the radioactivity detector) and combine packs
// with Fisher's method.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/error.h"
#include "probes/backend.h"
#include "probes/pack.h"
#include "probes/stats.h"
#include "probes/watermark_detect.h"

namespace pedigree::probes {

/// Longest response excerpt kept in results, in code points.
inline constexpr size_t kExcerptChars = 200;

struct RunOptions {
  int concurrency = 4;          ///< worker threads, 1..64
  std::string declared_vendor;  ///< overrides every identity pack's declared_vendor when non-empty
  std::vector<std::string> watermark_keys;  ///< key files for the watermark packs (never printed)
};

/// One prompt sample and what it produced.
struct ProbeResult {
  std::string prompt_id;
  std::string language;
  int sample = 0;
  std::string excerpt;  ///< first kExcerptChars code points of the response
  bool matched = false;               ///< canary/trigger: the expectation matched
  std::vector<std::string> vendors;   ///< identity: vendors whose claim matched, in pack order
};

/// An identity pack's statistics for one vendor claim.
struct VendorResult {
  std::string vendor;
  bool is_protected = false;
  bool declared = false;  ///< the model's own declared maker: reported, never flagged
  uint64_t count = 0;     ///< responses matching the claim
  double rate = 0.0;
  Interval ci;            ///< Wilson 95%
  double log10_p = 0.0;   ///< binomial upper tail vs chance_probability
  bool flagged = false;
};

struct PackResult {
  std::string id;
  int64_t version = 0;
  std::string kind;
  std::string source;
  std::string sha256;
  std::string description;
  std::string chance_source;
  std::string declared_vendor;
  double chance_probability = 0.0;
  double threshold = 0.0;
  double vendor_threshold = 0.0;  ///< identity: threshold / number of tested protected vendors
  uint64_t tested_vendors = 0;    ///< identity: protected claims other than the declared vendor
  uint64_t trials = 0;            ///< n: prompts x samples
  uint64_t matches = 0;           ///< k (identity: of the vendor with the smallest p)
  double log10_p = 0.0;           ///< identity: Bonferroni-adjusted smallest vendor p
  bool flagged = false;
  std::vector<ProbeResult> probes;
  std::vector<VendorResult> vendors;
  std::optional<wm::WatermarkConfig> watermark_config;  ///< watermark packs only
  std::optional<wm::WatermarkRun> watermark;           ///< watermark packs: the detector's run
};

struct RunResult {
  std::string backend;
  std::vector<PackResult> packs;
  std::optional<double> fisher_log10_p;  ///< over the packs' log10_p when there are two or more
  bool flagged = false;                  ///< any pack flagged
};

/// Runs every pack; any backend error stops the run and is returned in `err`.
/// Watermark packs' tokenizers, reference texts and keys are loaded before any
/// request (docs/watermark.md); their decision is the detector's Bonferroni-adjusted p.
bool run_packs(const std::vector<Pack>& packs, Backend& backend, const RunOptions& opts, RunResult* out, Error* err);

/// The run as JSON (objects have sorted keys).
nlohmann::json result_json(const RunResult& r);

/// A readable summary of the run.
std::string result_text(const RunResult& r);

}  // namespace pedigree::probes
