// This file implements the text-watermark primitives of the radioactivity
// detector: the portable keyed PRF "pedigree-wm-v1" (HMAC-SHA256 over the h
// previous token ids and a candidate token), the schemes behind one interface
// (`kgw` green lists, `gumbel` scores), key files, and the deduplicating scorer.
// docs/watermark.md defines every byte; bench/distill/wm.py is a reference copy.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/error.h"

namespace pedigree::probes::wm {

inline constexpr uint32_t kMaxH = 16;               ///< longest context window
inline constexpr size_t kMaxKeyBytes = 1024;        ///< longest secret key
inline constexpr size_t kMaxKeyFileBytes = 1 << 16; ///< largest key file

/// u in [0, 1): the first 8 bytes of HMAC-SHA256(key, "pedigree-wm-v1" ||
/// u32le(h) || u32le(ctx[0]) .. u32le(ctx[h-1]) || u32le(token)), read as a
/// big-endian integer, top 53 bits, times 2^-53. `ctx` holds the h previous
/// token ids, oldest first (h = ctx.size()).
double prf_u(std::string_view key, std::span<const uint32_t> ctx, uint32_t token);

/// Lowercase hex of `bytes`.
std::string to_hex(std::string_view bytes);

/// First 16 hex digits of SHA-256(key bytes): identifies a key without revealing it.
std::string key_fingerprint(std::string_view key);

/// Scheme parameters plus the secret key, as read from a key file.
struct WatermarkKey {
  std::string scheme = "kgw";  ///< "kgw" or "gumbel"
  double gamma = 0.25;         ///< kgw green fraction, 0 < gamma < 1
  uint32_t h = 2;              ///< context window, 1..kMaxH
  double delta = 0.0;          ///< kgw logit bias (generation side only; informational here)
  std::string key;             ///< secret bytes; never printed or written
  std::string fingerprint() const { return key_fingerprint(key); }
};

/// Parses a key file: JSON {"scheme", "gamma", "h", "key_hex"} (optional
/// "delta"). Errors name the file and the field, never the key's value.
bool parse_key_file(std::string_view bytes, const std::string& path, WatermarkKey* out, Error* err);

/// Reads and parses a key file (at most kMaxKeyFileBytes).
bool load_key_file(const std::string& path, WatermarkKey* out, Error* err);

/// Checks that `key`'s fingerprint is `want` (16 lowercase hex digits) and that
/// its scheme/gamma/h equal the pack's; the error names the key file, never the key.
bool check_key(const WatermarkKey& key, const std::string& key_path, const std::string& want_fingerprint,
               const std::string& scheme, double gamma, uint32_t h, Error* err);

/// Totals of one detection: scored tuples, green count and score sum.
struct ScoreSummary {
  uint64_t n = 0;        ///< tuples scored
  uint64_t green = 0;    ///< kgw: tuples with u < gamma; gumbel: tuples with u >= 1/2 (informational)
  double score_sum = 0;  ///< kgw: = green; gumbel: sum of -ln(1-u)
  double z = 0;          ///< standardized score (0 when n == 0)
  double log10_p = 0;    ///< log10 of the one-sided p-value (0 when n == 0)
};

/// One watermark scheme: how a token's u becomes a score, and how scores
/// become a p-value. Add a scheme by implementing this and registering it in make_scheme.
class Scheme {
 public:
  virtual ~Scheme() = default;
  virtual std::string_view name() const = 0;
  /// Per-token score of a tuple whose PRF value is u.
  virtual double token_score(double u) const = 0;
  /// Whether the tuple counts as "green" in the report.
  virtual bool is_green(double u) const = 0;
  /// z and log10 p from n tuples with `green` green ones and score sum `sum`.
  virtual ScoreSummary summarize(uint64_t n, uint64_t green, double sum) const = 0;
};

/// The scheme named by `key.scheme` ("kgw" or "gumbel"); nullptr with `err` otherwise.
std::unique_ptr<Scheme> make_scheme(const WatermarkKey& key, Error* err);

/// Generation side of kgw: adds key.delta to the logit of every green token
/// (u(key, ctx, v) < gamma) for v = 0 .. logits.size()-1.
void kgw_bias(const WatermarkKey& key, std::span<const uint32_t> ctx, std::span<double> logits);

/// Generation side of gumbel: argmax over v of u(key, ctx, v)^(1/p_v) (p_v > 0).
uint32_t gumbel_pick(const WatermarkKey& key, std::span<const uint32_t> ctx, std::span<const double> probs);

/// Which tuples are scored.
enum class Dedup {
  kTuple,   ///< each (window + token) tuple at most once across the run (default)
  kWindow,  ///< each window at most once (stricter)
  kOff,     ///< every tuple (for the "dedup off" experiment row; p-values are then not valid)
};

/// Scorer options.
struct ScoreOptions {
  Dedup dedup = Dedup::kTuple;
  bool skip_prompt_ngrams = true;  ///< skip tuples whose (h+1)-gram occurs in the request's prompt
  uint32_t min_window_count = 0;   ///< > 0: keep windows seen at least this often in the reference text
};

/// Scores (window, token) tuples for one key across a whole run, skipping
/// duplicates, prompt n-grams and (optionally) windows rare in the reference.
class Scorer {
 public:
  /// `scheme` must come from make_scheme(key) (non-null).
  Scorer(const WatermarkKey& key, std::unique_ptr<Scheme> scheme, ScoreOptions opt);
  /// Counts the h-token windows of the reference text for min_window_count
  /// (forgets earlier reference documents).
  void set_reference(std::span<const uint32_t> reference_tokens);
  /// Adds one reference document's windows: those preceding positions
  /// max(h, first) .. doc.size() (positions before `first` are context, not reference text).
  void add_reference(std::span<const uint32_t> doc, size_t first = 0);
  /// Scores the tokens of `output` that follow `prompt` (the window of the
  /// first output tokens reaches into the prompt's end); output tuples whose
  /// (h+1)-gram occurs in `prompt` are skipped when skip_prompt_ngrams.
  void score(std::span<const uint32_t> prompt, std::span<const uint32_t> output);
  /// Scores one tuple; `prompt_has` is true when the caller found its (h+1)-gram in the prompt.
  void score_tuple(std::span<const uint32_t> window, uint32_t token, bool prompt_has = false);
  /// Totals so far, with z and log10 p.
  ScoreSummary summary() const;
  /// Tuples seen but not scored, by reason ("duplicate", "prompt", "rare-window").
  const std::map<std::string, uint64_t>& skipped() const { return skipped_; }

 private:
  WatermarkKey key_;
  ScoreOptions opt_;
  std::unique_ptr<Scheme> scheme_;
  std::set<std::vector<uint32_t>> seen_;
  std::map<std::vector<uint32_t>, uint64_t> ref_windows_;
  std::map<std::string, uint64_t> skipped_;
  uint64_t n_ = 0, green_ = 0;
  double sum_ = 0;
};

}  // namespace pedigree::probes::wm
