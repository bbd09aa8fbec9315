// This file implements RFC 8785 canonicalization (see jcs.h). Doubles get
// their shortest round-trip digits from std::to_chars, then the ECMAScript
// rules decide between plain and exponential notation.
#include "signing/jcs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

namespace pedigree {
namespace {

constexpr double kTwoTo53 = 9007199254740992.0;

// UTF-16 code units of valid UTF-8 text (nlohmann validated it on parse).
std::u16string utf16(const std::string& s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t n = 1;
    if (c >= 0xF0) cp = c & 0x07, n = 4;
    else if (c >= 0xE0) cp = c & 0x0F, n = 3;
    else if (c >= 0xC0) cp = c & 0x1F, n = 2;
    for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(char16_t(0xD800 + (cp >> 10)));
      out.push_back(char16_t(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(char16_t(cp));
    }
  }
  return out;
}

void put_string(const std::string& s, std::string* out) {
  out->push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

bool put_value(const nlohmann::json& v, const std::string& where, std::string* out, Error* err);

bool put_object(const nlohmann::json& v, const std::string& where, std::string* out, Error* err) {
  std::vector<std::pair<std::u16string, const std::string*>> keys;
  for (auto it = v.begin(); it != v.end(); ++it) keys.emplace_back(utf16(it.key()), &it.key());
  std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out->push_back('{');
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) out->push_back(',');
    put_string(*keys[i].second, out);
    out->push_back(':');
    if (!put_value(v.at(*keys[i].second), where + "/" + *keys[i].second, out, err)) return false;
  }
  out->push_back('}');
  return true;
}

bool put_value(const nlohmann::json& v, const std::string& where, std::string* out, Error* err) {
  switch (v.type()) {
    case nlohmann::json::value_t::object: return put_object(v, where, out, err);
    case nlohmann::json::value_t::array:
      out->push_back('[');
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out->push_back(',');
        if (!put_value(v[i], where + "/" + std::to_string(i), out, err)) return false;
      }
      out->push_back(']');
      return true;
    case nlohmann::json::value_t::string: put_string(v.get_ref<const std::string&>(), out); return true;
    case nlohmann::json::value_t::boolean: *out += v.get<bool>() ? "true" : "false"; return true;
    case nlohmann::json::value_t::null: *out += "null"; return true;
    case nlohmann::json::value_t::number_integer: {
      int64_t n = v.get<int64_t>();
      if (std::fabs(double(n)) < kTwoTo53) *out += std::to_string(n);
      else *out += jcs_number(double(n));
      return true;
    }
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t n = v.get<uint64_t>();
      if (double(n) < kTwoTo53) *out += std::to_string(n);
      else *out += jcs_number(double(n));
      return true;
    }
    case nlohmann::json::value_t::number_float: {
      double d = v.get<double>();
      if (!std::isfinite(d))
        return fail(err, "", std::nullopt, (where.empty() ? "(root)" : where) + ": number is not finite");
      *out += jcs_number(d);
      return true;
    }
    default:
      return fail(err, "", std::nullopt, (where.empty() ? "(root)" : where) + ": value has no JSON form");
  }
}

}  // namespace

std::string jcs_number(double v) {
  if (v == 0) return "0";
  std::string sign = v < 0 ? "-" : "";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "d.ddde+XX"
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int n = std::stoi(sci.substr(e + 1)) + 1;  // position of the decimal point
  int k = int(digits.size());
  if (k <= n && n <= 21) return sign + digits + std::string(size_t(n - k), '0');
  if (0 < n && n <= 21) return sign + digits.substr(0, size_t(n)) + "." + digits.substr(size_t(n));
  if (-6 < n && n <= 0) return sign + "0." + std::string(size_t(-n), '0') + digits;
  std::string exp = (n - 1 >= 0 ? "e+" : "e-") + std::to_string(std::abs(n - 1));
  if (k == 1) return sign + digits + exp;
  return sign + digits.substr(0, 1) + "." + digits.substr(1) + exp;
}

bool jcs_canonicalize(const nlohmann::json& value, std::string* out, Error* err, const std::string& where) {
  out->clear();
  return put_value(value, where, out, err);
}

}  // namespace pedigree
