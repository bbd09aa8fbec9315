// This file implements the TrustedRoot reader (see trusted_root.h). Every
// member is checked for type; base64 and times are decoded here so the
// verifier works on raw bytes. nlohmann exceptions become errors.
#include "signing/trusted_root.h"

#include <nlohmann/json.hpp>

#include <charconv>

#include "signing/encoding.h"
#include "signing/keys.h"

namespace pedigree {
namespace {

using nlohmann::json;

constexpr std::string_view kTrustedRootPrefix = "application/vnd.dev.sigstore.trustedroot+json";
constexpr std::string_view kTrustConfigPrefix = "application/vnd.dev.sigstore.clienttrustconfig";

struct Ctx {
  const std::string& path;
  Error* err;
  bool bad(const std::string& msg) const { return fail(err, path, std::nullopt, msg); }
};

bool digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, *out);
  return ec == std::errc() && p == s.data() + pos + n;
}

const json* member(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

bool base64_member(const json& obj, const char* key, const std::string& where, const Ctx& c, std::string* out) {
  const json* v = member(obj, key);
  if (!v || !v->is_string()) return c.bad(where + " has no " + key + " string");
  if (!base64_decode(v->get_ref<const std::string&>(), out) || out->empty())
    return c.bad(where + "." + key + " is not valid base64");
  return true;
}

bool parse_window(const json& obj, const std::string& where, const Ctx& c, ValidityWindow* out) {
  const json* v = member(obj, "validFor");
  if (!v) return true;
  if (!v->is_object()) return c.bad(where + ".validFor is not an object");
  for (const char* key : {"start", "end"}) {
    const json* t = member(*v, key);
    if (!t) continue;
    auto parsed = t->is_string() ? parse_rfc3339(t->get_ref<const std::string&>()) : std::nullopt;
    if (!parsed) return c.bad(where + ".validFor." + key + " is not an RFC 3339 time");
    (std::string(key) == "start" ? out->start : out->end) = parsed;
  }
  return true;
}

bool parse_log(const json& j, const std::string& where, const Ctx& c, TrustedLog* out) {
  if (!j.is_object()) return c.bad(where + " is not an object");
  if (const json* u = member(j, "baseUrl"); u && u->is_string()) out->base_url = u->get<std::string>();
  const json* pk = member(j, "publicKey");
  if (!pk || !pk->is_object()) return c.bad(where + " has no publicKey object");
  if (!base64_member(*pk, "rawBytes", where + ".publicKey", c, &out->key_der)) return false;
  Key key;
  Error ignored;
  if (!public_key_from_der(out->key_der, "", &key, &ignored))
    return c.bad(where + ".publicKey is not a supported public key: " + ignored.message);
  const json* id = member(j, "logId");
  if (!id || !id->is_object()) return c.bad(where + " has no logId object");
  if (!base64_member(*id, "keyId", where + ".logId", c, &out->key_id)) return false;
  return parse_window(*pk, where + ".publicKey", c, &out->valid);
}

bool parse_authority(const json& j, const std::string& where, const Ctx& c, TrustedAuthority* out) {
  if (!j.is_object()) return c.bad(where + " is not an object");
  if (const json* u = member(j, "uri"); u && u->is_string()) out->uri = u->get<std::string>();
  const json* chain = member(j, "certChain");
  const json* certs = chain && chain->is_object() ? member(*chain, "certificates") : nullptr;
  if (!certs || !certs->is_array() || certs->empty()) return c.bad(where + " has no certChain.certificates");
  if (certs->size() > kMaxTrustedEntries)
    return c.bad(where + " has " + std::to_string(certs->size()) + " certificates, more than the cap of " +
                 std::to_string(kMaxTrustedEntries));
  for (size_t i = 0; i < certs->size(); ++i) {
    std::string w = where + ".certChain.certificates[" + std::to_string(i) + "]";
    if (!(*certs)[i].is_object()) return c.bad(w + " is not an object");
    std::string der;
    if (!base64_member((*certs)[i], "rawBytes", w, c, &der)) return false;
    out->chain_der.push_back(std::move(der));
  }
  return parse_window(j, where, c, &out->valid);
}

template <typename T, typename F>
bool parse_list(const json& root, const char* key, const Ctx& c, std::vector<T>* out, F each) {
  const json* arr = member(root, key);
  if (!arr) return true;
  if (!arr->is_array()) return c.bad(std::string(key) + " is not an array");
  if (arr->size() > kMaxTrustedEntries)
    return c.bad(std::string(key) + " has " + std::to_string(arr->size()) + " entries, more than the cap of " +
                 std::to_string(kMaxTrustedEntries));
  for (size_t i = 0; i < arr->size(); ++i) {
    T item;
    if (!each((*arr)[i], std::string(key) + "[" + std::to_string(i) + "]", c, &item)) return false;
    out->push_back(std::move(item));
  }
  return true;
}

bool parse_root(const json& j, const Ctx& c, TrustedRoot* out, bool allow_wrapper = true) {
  if (!j.is_object()) return c.bad("trusted root is not a JSON object");
  const json* media = member(j, "mediaType");
  if (!media || !media->is_string()) return c.bad("trusted root has no mediaType string");
  const std::string& m = media->get_ref<const std::string&>();
  if (allow_wrapper && m.rfind(kTrustConfigPrefix, 0) == 0) {
    const json* inner = member(j, "trustedRoot");
    if (!inner) return c.bad("trust config has no trustedRoot");
    return parse_root(*inner, c, out, false);
  }
  if (m.rfind(kTrustedRootPrefix, 0) != 0)
    return c.bad("media type '" + m + "' is not a Sigstore trusted root or client trust config");
  return parse_list(j, "tlogs", c, &out->tlogs, parse_log) && parse_list(j, "ctlogs", c, &out->ctlogs, parse_log) &&
         parse_list(j, "certificateAuthorities", c, &out->certificate_authorities, parse_authority) &&
         parse_list(j, "timestampAuthorities", c, &out->timestamp_authorities, parse_authority);
}

}  // namespace

std::optional<time_t> parse_rfc3339(std::string_view s) {
  struct tm tm {};
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (!digits(s, 0, 4, &tm.tm_year) || !digits(s, 5, 2, &tm.tm_mon) || !digits(s, 8, 2, &tm.tm_mday) ||
      !digits(s, 11, 2, &tm.tm_hour) || !digits(s, 14, 2, &tm.tm_min) || !digits(s, 17, 2, &tm.tm_sec))
    return std::nullopt;
  size_t pos = 19;
  if (s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z')) return std::nullopt;
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm);
}

std::string format_rfc3339(time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool parse_trusted_root(std::string_view text, const std::string& path, TrustedRoot* out, Error* err) {
  *out = TrustedRoot();
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::exception&) {
    return fail(err, path, std::nullopt, "trusted root is not JSON");
  }
  Ctx c{path, err};
  try {
    return parse_root(j, c, out);
  } catch (const json::exception&) {
    return c.bad("trusted root has an unexpected structure");
  }
}

bool read_trusted_root(const std::string& path, TrustedRoot* out, Error* err) {
  std::string text;
  if (!read_small_file(path, kMaxTrustedRootBytes, "trusted root file", &text, err)) return false;
  return parse_trusted_root(text, path, out, err);
}

}  // namespace pedigree
