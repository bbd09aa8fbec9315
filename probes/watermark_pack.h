// This file implements what `pedigree probe` needs to run a watermark pack
// beside canary and identity packs: loading the pack's tokenizer and reference
// text, handing each watermark pack the --watermark-key files it lists, and the
// text summary of a detection run. Key material never reaches any output.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fingerprint/error.h"
#include "probes/pack.h"
#include "probes/tokenizer.h"
#include "probes/watermark.h"
#include "probes/watermark_detect.h"

namespace pedigree::probes {

/// A watermark pack's inputs besides the backend, loaded before any request.
struct WatermarkAssets {
  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<wm::ReferenceDoc> reference;  ///< documents; empty when the pack names none
  std::vector<wm::WatermarkKey> keys;   ///< the key files whose fingerprint the pack lists
};

/// Loads the tokenizer and (when set) the reference text a watermark pack names.
bool load_watermark_files(const wm::WatermarkConfig& cfg, WatermarkAssets* out, Error* err);

/// Loads every key file and gives each watermark pack (in `packs` order; other
/// kinds get an empty entry) the keys whose fingerprint it lists, checked against
/// its scheme, gamma and h. Errors: a key no watermark pack lists, the same key
/// twice, a watermark pack that no key matches, keys without any watermark pack.
bool assign_watermark_keys(const std::vector<Pack>& packs, const std::vector<std::string>& key_paths,
                           std::vector<std::vector<wm::WatermarkKey>>* out, Error* err);

/// Loads tokenizer, reference and keys for every watermark pack (others get an empty entry).
bool load_watermark_assets(const std::vector<Pack>& packs, const std::vector<std::string>& key_paths,
                           std::vector<WatermarkAssets>* out, Error* err);

/// The readable summary of one run: per mode and key, scored tuples, green
/// fraction, z and log10 p; then the Bonferroni-adjusted p, threshold and decision.
std::string watermark_run_text(const wm::WatermarkConfig& cfg, const wm::WatermarkRun& run);

}  // namespace pedigree::probes
