// This file implements rendering of Error values and the small size/offset
// formatters used in error messages across the readers.
#include "fingerprint/error.h"

#include <cstdio>

namespace pedigree {

std::string hex_offset(uint64_t off) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(off));
  return buf;
}

std::string escape_bytes(std::string_view s, bool ascii_only, size_t max_bytes) {
  static const char* hx = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == max_bytes) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || (ascii_only && c >= 0x80)) {
      out += "\\x";
      out += hx[c >> 4];
      out += hx[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Error::str() const {
  std::string out = path;
  if (offset) out += (out.empty() ? "" : ": ") + std::string("offset ") + hex_offset(*offset);
  if (!message.empty()) out += (out.empty() ? "" : ": ") + message;
  return out;
}

bool fail(Error* err, const std::string& path, std::optional<uint64_t> offset,
          std::string message) {
  if (err) {
    err->path = path;
    err->offset = offset;
    err->message = std::move(message);
  }
  return false;
}

std::string human_bytes(uint64_t n) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (n < 1024) return std::to_string(n) + " B";
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024.0 && u < 6) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string count_str(uint64_t n) {
  if (n >= (uint64_t{1} << 20) && (n & (n - 1)) == 0) {
    int p = 0;
    while ((uint64_t{1} << p) != n) ++p;
    return "2^" + std::to_string(p);
  }
  return std::to_string(n);
}

}  // namespace pedigree
