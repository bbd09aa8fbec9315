// This file implements the two radioactivity detection modes over the Backend
// interface: closed (generate from the suspect with prompts, tokenize, score)
// and reading (feed the provider's watermarked reference text, score the
// suspect's top-1 next-token predictions), the watermark pack section, and the
// report with its decision (Bonferroni across keys and modes).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/error.h"
#include "probes/backend.h"
#include "probes/tokenizer.h"
#include "probes/watermark.h"

namespace pedigree::probes::wm {

inline constexpr size_t kMaxPrompts = 100000;          ///< prompts in one watermark pack
inline constexpr size_t kMaxReferenceBytes = 64 << 20; ///< reference text file
inline constexpr size_t kMaxKeys = 64;                 ///< key fingerprints in one pack

/// The `watermark` section of a pack (kind: watermark).
struct WatermarkConfig {
  std::string scheme = "kgw";
  double gamma = 0.25;
  uint32_t h = 2;
  std::vector<std::string> key_fingerprints;  ///< 16 hex digits each; key files must match one
  std::vector<std::string> modes = {"closed"};  ///< "closed" and/or "reading"
  std::string tokenizer = "bytes";  ///< "bytes", a .gguf file or a tokenizer.json (relative to the pack)
  std::string reference;            ///< JSON-lines file of watermarked texts (relative to the pack)
  uint32_t min_window_count = 0;    ///< keep windows seen >= this often in the reference (0: off)
  double threshold = 1e-6;          ///< decision level for the Bonferroni-adjusted p
  Dedup dedup = Dedup::kTuple;
  // closed mode
  std::vector<std::string> prompts;
  std::string form = "completion";
  int max_tokens = 128;
  double temperature = 1.0;
  uint32_t samples_per_prompt = 1;
  uint64_t seed = 1;
  std::optional<int> top_k;      ///< sampler fields sent with closed-mode requests (unset: server default)
  std::optional<double> top_p;
  std::optional<double> min_p;
  // reading mode
  uint32_t reading_context = 96;    ///< reference tokens fed before each prediction (at most)
  uint32_t reading_max_positions = 20000;  ///< predictions requested (cap on requests)
};

/// Parses the `watermark` object of a pack (already converted to JSON);
/// errors are "<path>: watermark.<field>: ...".
bool parse_watermark_config(const nlohmann::json& j, const std::string& path, WatermarkConfig* out, Error* err);

/// One reference document: watermarked `text`, optionally preceded by the
/// `context` it answered (fed to the suspect in reading mode, never scored).
struct ReferenceDoc {
  std::string context;
  std::string text;
  bool operator==(const ReferenceDoc&) const = default;
};

/// Reads a reference file: one JSON string, or {"text": ...} with an optional
/// "context" string, per line.
bool load_reference(const std::string& path, std::vector<ReferenceDoc>* docs, Error* err);

/// One key's result.
struct KeyReport {
  std::string key_fingerprint;
  ScoreSummary summary;
  std::map<std::string, uint64_t> skipped;
};

/// One mode's result across keys.
struct WatermarkReport {
  std::string mode;                ///< "closed" or "reading"
  std::string scheme;
  uint64_t requests = 0;           ///< backend calls made
  std::vector<KeyReport> keys;
};

/// The whole run: every mode, and the decision.
struct WatermarkRun {
  std::vector<WatermarkReport> reports;
  double threshold = 1e-6;
  uint64_t tests = 0;              ///< keys x modes (the Bonferroni factor)
  double log10_p_min = 0;          ///< smallest per-key log10 p
  double log10_p_adjusted = 0;     ///< Bonferroni-adjusted: min(0, log10_p_min + log10 tests)
  bool detected = false;           ///< log10_p_adjusted < log10 threshold
};

/// Everything the detector needs besides the backend.
struct DetectInputs {
  const WatermarkConfig* config = nullptr;
  const Tokenizer* tokenizer = nullptr;
  std::vector<WatermarkKey> keys;          ///< already checked against the pack
  std::vector<ReferenceDoc> reference;     ///< documents (reading mode / window filter)
  int concurrency = 1;                     ///< requests in flight (results do not depend on it)
};

/// Closed mode: generates from `backend` for every prompt and scores the outputs with every key.
bool detect_closed(Backend& backend, const DetectInputs& in, WatermarkReport* out, Error* err);

/// Reading mode: feeds each reference document token by token and scores the top-1 predictions.
bool detect_reading(Backend& backend, const DetectInputs& in, WatermarkReport* out, Error* err);

/// Runs the configured modes and decides. The CLI calls this after loading
/// the pack, the tokenizer, the reference and the key files (load_keys).
bool run_watermark(Backend& backend, const DetectInputs& in, WatermarkRun* out, Error* err);

/// Loads key files and checks each against the pack's fingerprints and parameters;
/// the error for a stranger key is "<key file>: key fingerprint X does not match
/// any of the pack's key_fingerprints".
bool load_keys(const std::vector<std::string>& key_paths, const WatermarkConfig& cfg,
               std::vector<WatermarkKey>* out, Error* err);

/// The run as JSON (sorted keys; never contains key material).
nlohmann::json run_json(const WatermarkRun& run);

}  // namespace pedigree::probes::wm
