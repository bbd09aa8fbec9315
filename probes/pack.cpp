// This file implements the probe-pack reader: YAML through yaml-cpp, then a
// strict walk that checks every field's type, range and the rules between
// fields, naming the offending field by its path in every error message.
#include "probes/pack.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace pedigree::probes {
namespace {

// The file being read; every check reports through it.
struct Ctx {
  const std::string& path;
  Error* err;
  bool bad(const std::string& field, const std::string& msg) const { return fail(err, path, std::nullopt, field + ": " + msg); }
};

std::string in_quotes(std::string_view s) { return "'" + escape_bytes(s, false, 64) + "'"; }

std::string scalar_text(const YAML::Node& n) { return n.IsScalar() ? n.Scalar() : std::string("a ") + (n.IsSequence() ? "list" : "mapping"); }

bool allowed_keys(const Ctx& c, const YAML::Node& map, const std::string& where, std::set<std::string> keys) {
  for (const auto& kv : map) {
    std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (!keys.count(k)) return c.bad(where.empty() ? k : where + "." + k, "unknown field");
  }
  return true;
}

bool need_map(const Ctx& c, const YAML::Node& n, const std::string& field) {
  return n.IsMap() || c.bad(field, "want a mapping, got " + (n.IsScalar() ? in_quotes(n.Scalar()) : "a list"));
}

bool get_string(const Ctx& c, const YAML::Node& n, const std::string& field, std::string* out, size_t max_bytes) {
  if (!n.IsScalar()) return c.bad(field, "want a string, got " + scalar_text(n));
  if (n.Scalar().size() > max_bytes)
    return c.bad(field, std::to_string(n.Scalar().size()) + " bytes exceeds the cap of " + std::to_string(max_bytes));
  *out = n.Scalar();
  return true;
}

bool get_required_string(const Ctx& c, const YAML::Node& map, const char* key, const std::string& field,
                         std::string* out, size_t max_bytes) {
  YAML::Node n = map[key];
  if (!n) return c.bad(field, "required field missing");
  if (!get_string(c, n, field, out, max_bytes)) return false;
  return !out->empty() || c.bad(field, "must not be empty");
}

bool get_int(const Ctx& c, const YAML::Node& n, const std::string& field, int64_t lo, int64_t hi, int64_t* out) {
  std::string s = n.IsScalar() ? n.Scalar() : "";
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (!n.IsScalar() || s.empty() || ec != std::errc() || end != s.data() + s.size())
    return c.bad(field, "want an integer, got " + (n.IsScalar() ? in_quotes(s) : scalar_text(n)));
  if (v < lo || v > hi)
    return c.bad(field, std::to_string(v) + " out of range (want " + std::to_string(lo) + ".." + std::to_string(hi) + ")");
  *out = v;
  return true;
}

bool get_number(const Ctx& c, const YAML::Node& n, const std::string& field, double* out) {
  std::string s = n.IsScalar() ? n.Scalar() : "";
  char* end = nullptr;
  double v = s.empty() ? 0.0 : std::strtod(s.c_str(), &end);
  if (!n.IsScalar() || s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
    return c.bad(field, "want a number, got " + (n.IsScalar() ? in_quotes(s) : scalar_text(n)));
  *out = v;
  return true;
}

bool get_bool(const Ctx& c, const YAML::Node& n, const std::string& field, bool* out) {
  std::string s = n.IsScalar() ? n.Scalar() : "";
  if (s == "true") return *out = true, true;
  if (s == "false") return *out = false, true;
  return c.bad(field, "want true or false, got " + (n.IsScalar() ? in_quotes(s) : scalar_text(n)));
}

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char ch = id[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (ch == '-' && i > 0);
    if (!ok) return false;
  }
  return true;
}

bool parse_sampling(const Ctx& c, const YAML::Node& n, Sampling* s) {
  if (!need_map(c, n, "sampling") || !allowed_keys(c, n, "sampling", {"samples", "temperature", "max_tokens", "seed"}))
    return false;
  int64_t v = 0;
  if (n["samples"]) {
    if (!get_int(c, n["samples"], "sampling.samples", 1, kMaxSamples, &v)) return false;
    s->samples = static_cast<int>(v);
  }
  if (n["temperature"]) {
    if (!get_number(c, n["temperature"], "sampling.temperature", &s->temperature)) return false;
    if (s->temperature < 0.0 || s->temperature > 2.0)
      return c.bad("sampling.temperature", in_quotes(n["temperature"].Scalar()) + " out of range (want 0..2)");
  }
  if (n["max_tokens"]) {
    if (!get_int(c, n["max_tokens"], "sampling.max_tokens", 1, kMaxTokens, &v)) return false;
    s->max_tokens = static_cast<int>(v);
  }
  if (n["seed"]) {
    if (!get_int(c, n["seed"], "sampling.seed", 0, INT64_MAX, &v)) return false;
    s->seed = static_cast<uint64_t>(v);
  }
  return true;
}

bool parse_matcher_kind(const Ctx& c, const YAML::Node& map, const std::string& field, bool claims, MatchKind* out) {
  std::string name;
  if (!get_required_string(c, map, "match", field, &name, 64)) return false;
  std::optional<MatchKind> k = match_kind_from_name(name);
  if (claims && k != MatchKind::kRegex && k != MatchKind::kNormalized)
    return c.bad(field, "unknown matcher " + in_quotes(name) + " (want regex or normalized)");
  if (!k) return c.bad(field, "unknown matcher " + in_quotes(name) + " (want exact, normalized, regex or sha256)");
  *out = *k;
  return true;
}

bool compile_value(const Ctx& c, const std::string& field, MatchKind kind, const std::string& value,
                   std::optional<size_t> chars, Matcher* m) {
  if (kind == MatchKind::kRegex && value.size() > kMaxRegexBytes)
    return c.bad(field, "regex of " + std::to_string(value.size()) + " bytes exceeds the cap of " +
                            std::to_string(kMaxRegexBytes));
  std::string why;
  return Matcher::compile(kind, value, chars, m, &why) || c.bad(field, why);
}

bool parse_expect(const Ctx& c, const YAML::Node& n, const std::string& where, Expect* e) {
  if (!need_map(c, n, where) || !allowed_keys(c, n, where, {"match", "value", "chars"})) return false;
  if (!parse_matcher_kind(c, n, where + ".match", false, &e->match)) return false;
  if (!get_required_string(c, n, "value", where + ".value", &e->value, kMaxTextBytes)) return false;
  if (n["chars"]) {
    int64_t v = 0;
    if (!get_int(c, n["chars"], where + ".chars", 1, static_cast<int64_t>(kMaxTextBytes), &v)) return false;
    e->chars = static_cast<size_t>(v);
    if (e->match != MatchKind::kSha256 && e->match != MatchKind::kRegex) {
      std::string want = e->match == MatchKind::kNormalized ? normalize(e->value) : e->value;
      size_t have = code_point_count(want);
      if (have > *e->chars)
        return c.bad(where + ".value", std::to_string(have) + " characters but chars is " + std::to_string(v) +
                                           " (can never match)");
    }
  }
  return compile_value(c, where + ".value", e->match, e->value, e->chars, &e->matcher);
}

bool parse_prompt(const Ctx& c, const YAML::Node& n, size_t i, PackKind kind, Prompt* p) {
  std::string where = "prompts[" + std::to_string(i) + "]";
  if (!need_map(c, n, where) ||
      !allowed_keys(c, n, where, {"id", "form", "system", "language", "text", "expect"}) ||
      !get_required_string(c, n, "id", where + ".id", &p->id, 64))
    return false;
  if (n["form"]) {
    if (!get_string(c, n["form"], where + ".form", &p->form, 64)) return false;
    if (p->form != "chat" && p->form != "completion")
      return c.bad(where + ".form", "unknown form " + in_quotes(p->form) + " (want chat or completion)");
  }
  if (n["system"]) {
    if (!get_string(c, n["system"], where + ".system", &p->system, kMaxTextBytes)) return false;
    if (p->form != "chat") return c.bad(where + ".system", "only for chat prompts");
  }
  if (n["language"] && !get_string(c, n["language"], where + ".language", &p->language, 64)) return false;
  if (!get_required_string(c, n, "text", where + ".text", &p->text, kMaxTextBytes)) return false;
  if (kind == PackKind::kIdentity) {
    if (n["expect"]) return c.bad(where + ".expect", "not allowed in identity packs (use claims)");
    return true;
  }
  if (!n["expect"]) return c.bad(where + ".expect", std::string("required field missing in ") + pack_kind_name(kind) + " packs");
  p->expect.emplace();
  return parse_expect(c, n["expect"], where + ".expect", &*p->expect);
}

bool parse_prompts(const Ctx& c, const YAML::Node& root, Pack* p) {
  YAML::Node n = root["prompts"];
  if (!n) return c.bad("prompts", "required field missing");
  if (!n.IsSequence()) return c.bad("prompts", "want a list, got " + scalar_text(n));
  if (n.size() < 1 || n.size() > kMaxPrompts)
    return c.bad("prompts", std::to_string(n.size()) + " entries out of range (want 1.." + std::to_string(kMaxPrompts) + ")");
  std::map<std::string, size_t> seen;
  uint64_t total = 0;  // YAML aliases can repeat one long text: cap the sum, not only each field
  for (size_t i = 0; i < n.size(); ++i) {
    Prompt pr;
    if (!parse_prompt(c, n[i], i, p->kind, &pr)) return false;
    total += pr.text.size() + pr.system.size() + (pr.expect ? pr.expect->value.size() : 0);
    if (total > kMaxPackBytes)
      return c.bad("prompts[" + std::to_string(i) + "]", "prompt text totals " + std::to_string(total) +
                                                          " bytes, over the pack cap of " + std::to_string(kMaxPackBytes));
    auto [it, fresh] = seen.emplace(pr.id, i);
    if (!fresh)
      return c.bad("prompts[" + std::to_string(i) + "].id",
                   "duplicate id " + in_quotes(pr.id) + " (also prompts[" + std::to_string(it->second) + "])");
    p->prompts.push_back(std::move(pr));
  }
  return true;
}

bool parse_claim(const Ctx& c, const YAML::Node& n, size_t i, Claim* cl) {
  std::string where = "claims[" + std::to_string(i) + "]";
  if (!need_map(c, n, where) || !allowed_keys(c, n, where, {"vendor", "protected", "match", "value"}) ||
      !get_required_string(c, n, "vendor", where + ".vendor", &cl->vendor, 128))
    return false;
  if (n["protected"] && !get_bool(c, n["protected"], where + ".protected", &cl->is_protected)) return false;
  if (!parse_matcher_kind(c, n, where + ".match", true, &cl->match)) return false;
  if (!get_required_string(c, n, "value", where + ".value", &cl->value, kMaxTextBytes)) return false;
  return compile_value(c, where + ".value", cl->match, cl->value, std::nullopt, &cl->matcher);
}

bool parse_claims(const Ctx& c, const YAML::Node& root, Pack* p) {
  YAML::Node n = root["claims"];
  if (p->kind != PackKind::kIdentity) {
    if (n) return c.bad("claims", std::string("not allowed in ") + pack_kind_name(p->kind) + " packs");
    if (root["declared_vendor"]) return c.bad("declared_vendor", std::string("not allowed in ") + pack_kind_name(p->kind) + " packs");
    return true;
  }
  if (!n) return c.bad("claims", "required field missing in identity packs");
  if (!n.IsSequence()) return c.bad("claims", "want a list, got " + scalar_text(n));
  if (n.size() < 1 || n.size() > kMaxClaims)
    return c.bad("claims", std::to_string(n.size()) + " entries out of range (want 1.." + std::to_string(kMaxClaims) + ")");
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < n.size(); ++i) {
    Claim cl;
    if (!parse_claim(c, n[i], i, &cl)) return false;
    auto [it, fresh] = seen.emplace(cl.vendor, i);
    if (!fresh)
      return c.bad("claims[" + std::to_string(i) + "].vendor",
                   "duplicate vendor " + in_quotes(cl.vendor) + " (also claims[" + std::to_string(it->second) + "])");
    p->claims.push_back(std::move(cl));
  }
  if (root["declared_vendor"] && !get_string(c, root["declared_vendor"], "declared_vendor", &p->declared_vendor, 128))
    return false;
  return true;
}

bool parse_probability(const Ctx& c, const YAML::Node& n, const char* field, double* out) {
  if (!get_number(c, n, field, out)) return false;
  return (*out > 0.0 && *out < 1.0) || c.bad(field, in_quotes(n.Scalar()) + " out of range (want 0 < p < 1)");
}

bool parse_kind(const Ctx& c, const YAML::Node& root, Pack* p) {
  if (!get_required_string(c, root, "id", "id", &p->id, 256)) return false;
  if (!valid_id(p->id)) return c.bad("id", in_quotes(p->id) + " is not a pack id (want [a-z0-9][a-z0-9-]{0,63})");
  if (!root["version"]) return c.bad("version", "required field missing");
  if (!get_int(c, root["version"], "version", 1, INT64_MAX, &p->version)) return false;
  if (!get_required_string(c, root, "description", "description", &p->description, kMaxTextBytes)) return false;
  std::string kind;
  if (!get_required_string(c, root, "kind", "kind", &kind, 64)) return false;
  if (kind == "canary") p->kind = PackKind::kCanary;
  else if (kind == "trigger") p->kind = PackKind::kTrigger;
  else if (kind == "identity") p->kind = PackKind::kIdentity;
  else if (kind == "watermark") p->kind = PackKind::kWatermark;
  else return c.bad("kind", "unknown kind " + in_quotes(kind) + " (want canary, trigger, identity or watermark)");
  return true;
}

bool parse_header(const Ctx& c, const YAML::Node& root, Pack* p) {
  if (root["sampling"] && !parse_sampling(c, root["sampling"], &p->sampling)) return false;
  if (!root["chance_probability"]) return c.bad("chance_probability", "required field missing");
  if (!parse_probability(c, root["chance_probability"], "chance_probability", &p->chance_probability)) return false;
  if (root["chance_source"] && !get_string(c, root["chance_source"], "chance_source", &p->chance_source, kMaxTextBytes))
    return false;
  return !root["threshold"] || parse_probability(c, root["threshold"], "threshold", &p->threshold);
}

// YAML to JSON for the watermark section: plain scalars become numbers, booleans
// or null when they read as such; quoted scalars stay strings. Nodes are counted
// (aliases can repeat a subtree) and nesting is capped.
struct ToJson {
  const Ctx& c;
  size_t nodes = 0;
  static constexpr size_t kMaxNodes = size_t{1} << 18;
  static constexpr int kMaxDepth = 32;

  static bool whole(const std::string& s, const char* end) { return end == s.data() + s.size(); }

  static nlohmann::json scalar(const YAML::Node& n) {
    const std::string& s = n.Scalar();
    if (n.Tag() != "?") return s;  // quoted or explicitly tagged: a string
    if (s == "true" || s == "false") return s == "true";
    if (s == "null" || s == "~" || s.empty()) return nullptr;
    uint64_t u = 0;
    if (auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), u); ec == std::errc() && whole(s, end)) return u;
    int64_t i = 0;
    if (auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i); ec == std::errc() && whole(s, end)) return i;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (whole(s, end) && std::isfinite(d) && s.find_first_of("0123456789") != std::string::npos) return d;
    return s;
  }

  bool convert(const YAML::Node& n, const std::string& where, int depth, nlohmann::json* out) {
    if (++nodes > kMaxNodes) return c.bad(where, "more than " + std::to_string(kMaxNodes) + " yaml nodes");
    if (depth > kMaxDepth) return c.bad(where, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (n.IsScalar()) return *out = scalar(n), true;
    if (n.IsSequence()) {
      *out = nlohmann::json::array();
      for (size_t i = 0; i < n.size(); ++i) {
        nlohmann::json v;
        if (!convert(n[i], where + "[" + std::to_string(i) + "]", depth + 1, &v)) return false;
        out->push_back(std::move(v));
      }
      return true;
    }
    if (n.IsMap()) {
      *out = nlohmann::json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return c.bad(where, "mapping key is not a string");
        std::string key = kv.first.Scalar();
        nlohmann::json v;
        if (!convert(kv.second, where + "." + escape_bytes(key, true, 64), depth + 1, &v)) return false;
        (*out)[key] = std::move(v);
      }
      return true;
    }
    return *out = nullptr, true;
  }
};

bool parse_watermark_section(const Ctx& c, const YAML::Node& root, Pack* p) {
  for (std::string f : {"sampling", "chance_probability", "chance_source", "threshold", "prompts", "claims",
                        "declared_vendor"})
    if (root[f])
      return c.bad(f, "not allowed in watermark packs (" +
                          (f == "threshold" || f == "prompts" ? "use watermark." + f : "see docs/watermark.md") + ")");
  YAML::Node n = root["watermark"];
  if (!n) return c.bad("watermark", "required field missing in watermark packs");
  ToJson conv{c};
  nlohmann::json j;
  if (!conv.convert(n, "watermark", 0, &j)) return false;
  wm::WatermarkConfig cfg;
  if (!wm::parse_watermark_config(j, c.path, &cfg, c.err)) return false;
  p->watermark = std::move(cfg);
  return true;
}

bool parse_root(const Ctx& c, const YAML::Node& root, Pack* p) {
  if (!root.IsMap()) return c.bad("pack", "want a mapping at the top level");
  if (!allowed_keys(c, root, "", {"id", "version", "description", "kind", "sampling", "chance_probability",
                                  "chance_source", "threshold", "prompts", "claims", "declared_vendor", "watermark"}))
    return false;
  if (!parse_kind(c, root, p)) return false;
  if (p->kind == PackKind::kWatermark) return parse_watermark_section(c, root, p);
  if (root["watermark"]) return c.bad("watermark", "only allowed in watermark packs");
  return parse_header(c, root, p) && parse_prompts(c, root, p) && parse_claims(c, root, p);
}

// A relative tokenizer or reference path of a watermark pack names a file next to the pack.
void resolve_watermark_paths(const std::string& pack_path, wm::WatermarkConfig* w) {
  size_t slash = pack_path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : pack_path.substr(0, slash + 1);
  auto resolve = [&](std::string* f) {
    if (!f->empty() && (*f)[0] != '/') *f = dir + *f;
  };
  if (w->tokenizer != "bytes") resolve(&w->tokenizer);
  resolve(&w->reference);
}

std::string too_big(uint64_t size) {
  return std::to_string(size) + " bytes exceeds the pack size cap of " + std::to_string(kMaxPackBytes) + " (" +
         human_bytes(kMaxPackBytes) + ")";
}

}  // namespace

const char* pack_kind_name(PackKind k) {
  switch (k) {
    case PackKind::kCanary: return "canary";
    case PackKind::kTrigger: return "trigger";
    case PackKind::kIdentity: return "identity";
    case PackKind::kWatermark: return "watermark";
  }
  return "?";
}

bool parse_pack(std::string_view bytes, const std::string& path, Pack* out, Error* err) {
  Ctx c{path, err};
  if (bytes.size() > kMaxPackBytes)
    return fail(err, path, std::nullopt, too_big(bytes.size()));
  Pack p;
  try {
    YAML::Node root = YAML::Load(std::string(bytes));
    if (!parse_root(c, root, &p)) return false;
  } catch (const YAML::Exception& e) {
    return fail(err, path, std::nullopt,
                "line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1) +
                    ": invalid yaml: " + e.msg);
  }
  p.source = path;
  p.sha256 = sha256_hex(bytes);
  *out = std::move(p);
  return true;
}

bool load_pack_file(const std::string& path, Pack* out, Error* err) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(err, path, std::nullopt, "cannot read pack file");
  if (!S_ISREG(st.st_mode)) return fail(err, path, std::nullopt, "not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxPackBytes)
    return fail(err, path, std::nullopt, too_big(static_cast<uint64_t>(st.st_size)));
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f) return fail(err, path, std::nullopt, "cannot read pack file");
  if (!parse_pack(ss.str(), path, out, err)) return false;
  if (out->watermark) resolve_watermark_paths(path, &*out->watermark);
  return true;
}

bool builtin_packs(std::vector<Pack>* out, Error* err) {
  out->clear();
  for (const BuiltinPackFile& f : builtin_pack_files()) {
    Pack p;
    std::string_view bytes(reinterpret_cast<const char*>(f.data), f.size);
    if (!parse_pack(bytes, std::string("builtin:") + f.file, &p, err)) return false;
    p.source = "builtin:" + p.id;
    out->push_back(std::move(p));
  }
  return true;
}

bool load_pack(const std::string& spec, Pack* out, Error* err) {
  struct stat st {};
  if (::stat(spec.c_str(), &st) == 0) return load_pack_file(spec, out, err);
  std::vector<Pack> all;
  if (!builtin_packs(&all, err)) return false;
  std::string names;
  for (Pack& p : all) {
    if (p.id == spec) return *out = std::move(p), true;
    names += (names.empty() ? "" : ", ") + p.id;
  }
  return fail(err, spec, std::nullopt,
              "no such pack file or built-in pack (built-in: " + (names.empty() ? std::string("none") : names) + ")");
}

}  // namespace pedigree::probes
