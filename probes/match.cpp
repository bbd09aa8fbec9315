// This file implements normalization and matching of probe responses. UTF-8
// is decoded by hand (invalid bytes pass through as single characters), and
// regexes use std::regex ECMAScript with a leading (?i) read as icase.
#include "probes/match.h"

#include <cstdint>
#include <vector>

#include "fingerprint/digest.h"

namespace pedigree::probes {
namespace {

// Length of the UTF-8 sequence at s[i] (1 for an invalid or truncated one) and its code point.
size_t decode(std::string_view s, size_t i, uint32_t* cp) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    *cp = 0xFFFFFFFF;  // not a code point: never whitespace or punctuation
    return 1;
  }
  uint32_t v = len == 1 ? b : b & (0x7F >> len);
  for (size_t j = 1; j < len; ++j) {
    auto c = static_cast<unsigned char>(s[i + j]);
    if ((c >> 6) != 2) {
      *cp = 0xFFFFFFFF;
      return 1;
    }
    v = (v << 6) | (c & 0x3F);
  }
  *cp = v;
  return len;
}

bool is_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_final_punct(uint32_t c) {
  return c == '.' || c == '!' || c == '?' || c == 0x3002 || c == 0xFF01 || c == 0xFF1F;
}

// Strips trailing spaces and final punctuation (code points kept in `ends`).
void strip_tail(std::string* out, std::vector<size_t>* starts, std::vector<uint32_t>* cps) {
  while (!cps->empty() && (cps->back() == ' ' || is_final_punct(cps->back()))) {
    out->resize(starts->back());
    starts->pop_back();
    cps->pop_back();
  }
}

}  // namespace

std::string normalize(std::string_view s) {
  std::string out;
  std::vector<size_t> starts;   // byte offset of each output code point
  std::vector<uint32_t> cps;
  bool pending_space = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t len = decode(s, i, &cp);
    if (is_space(cp)) {
      pending_space = !out.empty();
    } else {
      if (pending_space) {
        starts.push_back(out.size());
        cps.push_back(' ');
        out.push_back(' ');
        pending_space = false;
      }
      starts.push_back(out.size());
      cps.push_back(cp);
      if (cp >= 'A' && cp <= 'Z') out.push_back(static_cast<char>(cp + 32));
      else out.append(s.substr(i, len));
    }
    i += len;
  }
  strip_tail(&out, &starts, &cps);
  return out;
}

std::string first_code_points(std::string_view s, size_t n) {
  size_t i = 0;
  for (size_t count = 0; i < s.size() && count < n; ++count) {
    uint32_t cp;
    i += decode(s, i, &cp);
  }
  return std::string(s.substr(0, i));
}

size_t code_point_count(std::string_view s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++count) {
    uint32_t cp;
    i += decode(s, i, &cp);
  }
  return count;
}

std::string sha256_hex(std::string_view bytes) { return to_hex(digest_bytes(HashAlgorithm::kSha256, bytes)); }

const char* match_kind_name(MatchKind k) {
  switch (k) {
    case MatchKind::kExact: return "exact";
    case MatchKind::kNormalized: return "normalized";
    case MatchKind::kRegex: return "regex";
    case MatchKind::kSha256: return "sha256";
  }
  return "?";
}

std::optional<MatchKind> match_kind_from_name(std::string_view name) {
  for (MatchKind k : {MatchKind::kExact, MatchKind::kNormalized, MatchKind::kRegex, MatchKind::kSha256})
    if (name == match_kind_name(k)) return k;
  return std::nullopt;
}

bool Matcher::compile(MatchKind kind, const std::string& value, std::optional<size_t> chars, Matcher* out,
                      std::string* why) {
  out->kind_ = kind;
  out->chars_ = chars;
  out->value_ = kind == MatchKind::kNormalized ? normalize(value) : value;
  out->re_.reset();
  if (kind == MatchKind::kSha256) {
    bool hex = value.size() == 64;
    for (char c : value) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!hex) return *why = "not a sha256 digest (want 64 lowercase hex digits)", false;
  }
  if (kind != MatchKind::kRegex) return true;
  std::string pattern = value;
  auto flags = std::regex::ECMAScript | std::regex::optimize;
  if (pattern.rfind("(?i)", 0) == 0) {
    pattern.erase(0, 4);
    flags |= std::regex::icase;
  }
  try {
    out->re_ = std::make_shared<const std::regex>(pattern, flags);
  } catch (const std::regex_error& e) {
    return *why = std::string("invalid regex: ") + e.what(), false;
  }
  return true;
}

bool Matcher::regex_search(std::string_view text) const {
  text = text.substr(0, kMaxRegexInput);
  try {
    return std::regex_search(text.begin(), text.end(), *re_);
  } catch (const std::regex_error&) {  // error_complexity / error_stack: treated as no match
    return false;
  }
}

bool Matcher::matches(std::string_view response) const {
  std::string subject = kind_ == MatchKind::kNormalized || kind_ == MatchKind::kSha256 ? normalize(response)
                                                                                        : std::string(response);
  if (chars_) subject = first_code_points(subject, *chars_);
  switch (kind_) {
    case MatchKind::kExact:
    case MatchKind::kNormalized: return subject == value_;
    case MatchKind::kRegex: return regex_search(subject);
    case MatchKind::kSha256: return sha256_hex(subject) == value_;
  }
  return false;
}

bool Matcher::contains(std::string_view response) const {
  if (kind_ == MatchKind::kRegex) return regex_search(response);
  if (kind_ == MatchKind::kNormalized) return normalize(response).find(value_) != std::string::npos;
  return matches(response);
}

}  // namespace pedigree::probes
