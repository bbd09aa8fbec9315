// This file implements how probe responses are compared with what a pack
// expects: the normalization (docs/probes.md), the four matchers (exact,
// normalized, regex, sha256) with an optional code-point prefix, and the
// identity-claim matchers (regex or normalized substring).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace pedigree::probes {

/// Longest response prefix, in bytes, a regex is run on (guards against slow matching).
inline constexpr size_t kMaxRegexInput = 4096;

/// Trim, lowercase ASCII letters, collapse runs of Unicode whitespace to one
/// space, strip trailing . ! ? 。 ！ ？ (and spaces before them), as docs/probes.md defines.
std::string normalize(std::string_view s);

/// The first `n` Unicode code points of UTF-8 `s` (an invalid byte counts as one).
std::string first_code_points(std::string_view s, size_t n);

/// Number of code points in UTF-8 `s` (an invalid byte counts as one).
size_t code_point_count(std::string_view s);

/// Lowercase hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

enum class MatchKind { kExact, kNormalized, kRegex, kSha256 };

/// "exact", "normalized", "regex", "sha256".
const char* match_kind_name(MatchKind k);
/// Parses a matcher name; nullopt when unknown.
std::optional<MatchKind> match_kind_from_name(std::string_view name);

/// A compiled matcher: `kind`, the expected `value` and an optional prefix length.
class Matcher {
 public:
  /// Compiles; false with a reason ("invalid regex: ...", "not 64 lowercase hex digits")
  /// in `why` when `value` does not suit `kind`.
  static bool compile(MatchKind kind, const std::string& value, std::optional<size_t> chars,
                      Matcher* out, std::string* why);
  /// Whether `response` matches (regex: searched anywhere; identity claims use this too).
  bool matches(std::string_view response) const;
  /// For identity claims: regex search, or normalized `value` as a substring
  /// of the normalized response.
  bool contains(std::string_view response) const;
  MatchKind kind() const { return kind_; }

 private:
  bool regex_search(std::string_view text) const;
  MatchKind kind_ = MatchKind::kExact;
  std::string value_;  // normalized for kNormalized
  std::optional<size_t> chars_;
  std::shared_ptr<const std::regex> re_;
};

}  // namespace pedigree::probes
