// This file implements the probe-pack model and its YAML reader: a pack is a
// versioned list of prompts with what a response must match (canary and
// trigger packs) or which vendor claims to count (identity packs), the chance
// probability under H0 and the decision threshold; watermark packs carry the
// radioactivity detector's section instead. Format: docs/probes.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/error.h"
#include "probes/match.h"
#include "probes/watermark_detect.h"

namespace pedigree::probes {

/// Caps on pack contents (inputs are untrusted).
inline constexpr uint64_t kMaxPackBytes = 16u << 20;
inline constexpr size_t kMaxPrompts = 10000;
inline constexpr size_t kMaxClaims = 100;
inline constexpr size_t kMaxTextBytes = 64u << 10;
inline constexpr size_t kMaxRegexBytes = 1024;
inline constexpr int kMaxSamples = 1000;
inline constexpr int kMaxTokens = 8192;

enum class PackKind { kCanary, kTrigger, kIdentity, kWatermark };

/// "canary", "trigger", "identity", "watermark".
const char* pack_kind_name(PackKind k);

/// How each prompt is sampled.
struct Sampling {
  int samples = 1;
  double temperature = 0.0;
  int max_tokens = 48;
  uint64_t seed = 42;
};

/// What a canary/trigger response must match.
struct Expect {
  MatchKind match = MatchKind::kExact;
  std::string value;
  std::optional<size_t> chars;
  Matcher matcher;
};

struct Prompt {
  std::string id;
  std::string form = "chat";  ///< "chat" or "completion"
  std::string system;
  std::string language;
  std::string text;
  std::optional<Expect> expect;  ///< canary/trigger packs only
};

/// An identity pack's vendor claim: responses matching it "claim" the vendor.
struct Claim {
  std::string vendor;
  bool is_protected = false;
  MatchKind match = MatchKind::kRegex;  ///< kRegex or kNormalized (substring)
  std::string value;
  Matcher matcher;
};

struct Pack {
  std::string id;
  int64_t version = 1;
  std::string description;
  PackKind kind = PackKind::kCanary;
  Sampling sampling;
  double chance_probability = 0.0;
  std::string chance_source;
  double threshold = 1e-6;
  std::vector<Prompt> prompts;
  std::vector<Claim> claims;
  std::string declared_vendor;
  /// Watermark packs only: the `watermark` section (docs/watermark.md). Its
  /// tokenizer and reference paths are resolved against the pack file's
  /// directory by load_pack_file().
  std::optional<wm::WatermarkConfig> watermark;
  std::string source;  ///< file path, or "builtin:<id>"
  std::string sha256;  ///< hex SHA-256 of the pack file's bytes
};

/// Parses pack YAML `bytes`; `path` names it in errors, whose message starts
/// with the field path (e.g. "prompts[3].expect.match: unknown matcher ...").
bool parse_pack(std::string_view bytes, const std::string& path, Pack* out, Error* err);

/// Reads and parses a pack file (at most kMaxPackBytes).
bool load_pack_file(const std::string& path, Pack* out, Error* err);

/// One pack embedded in the binary from probes/packs/*.yaml.
struct BuiltinPackFile {
  const char* file;  ///< e.g. "identity.yaml"
  const unsigned char* data;
  size_t size;
};

/// The embedded pack files, sorted by file name (generated at build time).
const std::vector<BuiltinPackFile>& builtin_pack_files();

/// Every built-in pack, parsed (source "builtin:<id>"); false if one is malformed.
bool builtin_packs(std::vector<Pack>* out, Error* err);

/// `spec` is a file path when such a file exists, else a built-in pack id.
bool load_pack(const std::string& spec, Pack* out, Error* err);

}  // namespace pedigree::probes
