// This file implements the parser of `pedigree check` policies (YAML, see
// docs/policy.md): every field is type-checked and unknown keys are refused,
// with errors that name the file, the line and the field, e.g.
// "policy.yaml: line 7: rules.licenses.allow: expected a list of SPDX ids".
#include "sbom/policy.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sbom/spdx_ids.h"

namespace pedigree {
namespace {

constexpr size_t kMaxPolicyBytes = 1 << 20;
constexpr size_t kMaxListItems = 10000;

const std::map<std::string, std::string>& named_bom_fields() {
  static const std::map<std::string, std::string> m = {
      {"ancestors", "/metadata/component/pedigree/ancestors"},
      {"architecture", "/metadata/component/modelCard/modelParameters/modelArchitecture"},
      {"architecture_family", "/metadata/component/modelCard/modelParameters/architectureFamily"},
      {"datasets", "/metadata/component/modelCard/modelParameters/datasets"},
      {"description", "/metadata/component/description"},
      {"external_references", "/metadata/component/externalReferences"},
      {"hashes", "/metadata/component/hashes"},
      {"licenses", "/metadata/component/licenses"},
      {"model_card", "/metadata/component/modelCard"},
      {"name", "/metadata/component/name"},
      {"purl", "/metadata/component/purl"},
      {"serial_number", "/serialNumber"},
      {"supplier", "/metadata/component/supplier"},
      {"task", "/metadata/component/modelCard/modelParameters/task"},
      {"timestamp", "/metadata/timestamp"},
      {"version", "/metadata/component/version"},
  };
  return m;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Resolves a path from the policy against the policy file's directory.
std::string resolve(const std::string& policy_path, const std::string& p) {
  std::filesystem::path fp(p);
  if (fp.is_absolute()) return p;
  std::filesystem::path dir = std::filesystem::path(policy_path).parent_path();
  return dir.empty() ? p : (dir / fp).string();
}

class Parser {
 public:
  Parser(const std::string& path, Error* err) : path_(path), err_(err) {}

  bool bad(const YAML::Node& n, const std::string& field, const std::string& msg) {
    int line = n.Mark().is_null() ? last_line_ : n.Mark().line + 1;
    return fail(err_, path_, std::nullopt, "line " + std::to_string(line) + ": " + field + ": " + msg);
  }

  // Calls fn(key, value) for each entry of a mapping whose keys are all in `allowed`.
  template <typename Fn>
  bool entries(const YAML::Node& n, const std::string& field, const std::vector<std::string>& allowed, Fn fn) {
    if (!n.IsMap()) return bad(n, field, "expected a mapping");
    std::set<std::string> seen;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) return bad(kv.first, field, "keys must be plain names");
      std::string key = kv.first.Scalar();
      std::string sub = field.empty() ? key : field + "." + key;
      last_line_ = kv.first.Mark().line + 1;
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        return bad(kv.first, sub, "unknown key (want " + join(allowed, ", ") + ")");
      if (!seen.insert(key).second) return bad(kv.first, sub, "duplicate key");
      if (!fn(key, kv.second, sub)) return false;
    }
    return true;
  }

  bool string(const YAML::Node& n, const std::string& field, std::string* out, const char* what = "a string") {
    if (!n.IsScalar() || n.Scalar().empty()) return bad(n, field, std::string("expected ") + what);
    *out = n.Scalar();
    return true;
  }

  bool boolean(const YAML::Node& n, const std::string& field, bool* out) {
    std::string s = n.IsScalar() ? n.Scalar() : "";
    if (s != "true" && s != "false") return bad(n, field, "expected true or false");
    *out = s == "true";
    return true;
  }

  bool number(const YAML::Node& n, const std::string& field, double lo, double hi, double* out) {
    std::string range = "expected a number from " + fmt(lo) + " to " + fmt(hi);
    if (!n.IsScalar() || n.Scalar().empty()) return bad(n, field, range);
    const std::string& s = n.Scalar();
    if (s.find_first_of("xXpP") != std::string::npos) return bad(n, field, range);  // no hex floats
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v) || v < lo || v > hi) return bad(n, field, range);
    *out = v;
    return true;
  }

  // A string or a list of strings.
  bool strings(const YAML::Node& n, const std::string& field, const char* what, std::vector<std::string>* out,
               bool allow_scalar) {
    if (allow_scalar && n.IsScalar() && !n.Scalar().empty()) {
      out->push_back(n.Scalar());
      return true;
    }
    if (!n.IsSequence() || n.size() == 0 || n.size() > kMaxListItems)
      return bad(n, field, std::string("expected a list of ") + what);
    for (size_t i = 0; i < n.size(); ++i) {
      const YAML::Node& x = n[i];
      if (!x.IsScalar() || x.Scalar().empty())
        return bad(x, field + "[" + std::to_string(i) + "]", std::string("expected one of ") + what);
      out->push_back(x.Scalar());
    }
    return true;
  }

  bool mode(const YAML::Node& n, const std::string& field, NotEvaluatedMode* out) {
    std::string s = n.IsScalar() ? n.Scalar() : "";
    if (s == "fail") *out = NotEvaluatedMode::kFail;
    else if (s == "warn") *out = NotEvaluatedMode::kWarn;
    else if (s == "pass") *out = NotEvaluatedMode::kPass;
    else return bad(n, field, "expected fail, warn or pass");
    return true;
  }

  bool spdx_list(const YAML::Node& n, const std::string& field, std::vector<std::string>* out) {
    if (!strings(n, field, "SPDX ids", out, false)) return false;
    for (size_t i = 0; i < out->size(); ++i) {
      const std::string& id = (*out)[i];
      if (is_spdx_license_id(id)) continue;
      std::string msg = "'" + escape_bytes(id, true, 80) + "' is not an SPDX licence id";
      for (size_t k = 0; k < spdx_license_id_count(); ++k) {
        std::string_view c = spdx_license_id_at(k);
        if (c.size() == id.size() && std::equal(c.begin(), c.end(), id.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
          msg += " (did you mean '" + std::string(c) + "'?)";
      }
      return bad(n[i], field + "[" + std::to_string(i) + "]", msg);
    }
    return true;
  }

  bool signature(const YAML::Node& n, const std::string& field, SignaturePolicy* out) {
    bool ok = entries(n, field, {"required", "key", "certificate", "keyless", "on_not_evaluated"},
                      [&](const std::string& k, const YAML::Node& v, const std::string& f) {
                        if (k == "required") return boolean(v, f, &out->required);
                        if (k == "on_not_evaluated") return mode(v, f, &out->on_not_evaluated.emplace());
                        if (k == "key") return keys(v, f, out);
                        if (k == "certificate") return certificate(v, f, out);
                        return keyless(v, f, out);
                      });
    if (ok && out->trusts.empty()) return bad(n, field, "give key, certificate or keyless to verify against");
    return ok;
  }

  bool keys(const YAML::Node& v, const std::string& f, SignaturePolicy* out) {
    std::vector<std::string> paths;
    if (!strings(v, f, "public key paths", &paths, true)) return false;
    for (const std::string& p : paths) {
      SignatureTrust t;
      t.key = resolve(path_, p);
      out->trusts.push_back(t);
    }
    return true;
  }

  bool certificate(const YAML::Node& v, const std::string& f, SignaturePolicy* out) {
    SignatureTrust t;
    t.kind = SignatureTrust::Kind::kCertificate;
    bool ok = entries(v, f, {"root", "chain"}, [&](const std::string& k, const YAML::Node& x, const std::string& g) {
      return strings(x, g, "certificate paths", k == "root" ? &t.roots : &t.chain, true);
    });
    if (!ok) return false;
    if (t.roots.empty()) return bad(v, f + ".root", "missing (the trusted root certificate)");
    for (std::string& p : t.roots) p = resolve(path_, p);
    for (std::string& p : t.chain) p = resolve(path_, p);
    out->trusts.push_back(t);
    return true;
  }

  bool keyless(const YAML::Node& v, const std::string& f, SignaturePolicy* out) {
    SignatureTrust t;
    t.kind = SignatureTrust::Kind::kKeyless;
    bool ok = entries(v, f, {"identity", "issuer", "trust_root"},
                      [&](const std::string& k, const YAML::Node& x, const std::string& g) {
                        if (k == "identity") return string(x, g, &t.identity);
                        if (k == "issuer") return string(x, g, &t.issuer);
                        return string(x, g, &t.trust_root, "a path");
                      });
    if (!ok) return false;
    if (t.identity.empty()) return bad(v, f + ".identity", "missing (the signer's certificate identity)");
    if (t.issuer.empty()) return bad(v, f + ".issuer", "missing (the OIDC issuer URL)");
    if (!t.trust_root.empty()) t.trust_root = resolve(path_, t.trust_root);
    out->trusts.push_back(t);
    return true;
  }

  bool licenses(const YAML::Node& n, const std::string& field, LicensePolicy* out) {
    return entries(n, field, {"allow", "deny", "unknown"},
                   [&](const std::string& k, const YAML::Node& v, const std::string& f) {
                     if (k == "unknown") return mode(v, f, &out->unknown);
                     return spdx_list(v, f, &(k == "allow" ? out->allow : out->deny).emplace());
                   });
  }

  bool pickle(const YAML::Node& n, const std::string& field, PicklePolicy* out) {
    if (n.IsMap() && n.size() == 0) return bad(n, field, "give forbid_unsafe_imports or forbid_formats");
    return entries(n, field, {"forbid_unsafe_imports", "forbid_formats"},
                   [&](const std::string& k, const YAML::Node& v, const std::string& f) {
                     return boolean(v, f, k == "forbid_formats" ? &out->forbid_formats : &out->forbid_unsafe_imports);
                   });
  }

  bool bom(const YAML::Node& n, const std::string& field, BomPolicy* out) {
    if (n.IsMap() && n.size() == 0) return bad(n, field, "give required_fields or min_score");
    return entries(n, field, {"required_fields", "min_score"},
                   [&](const std::string& k, const YAML::Node& v, const std::string& f) {
                     if (k == "min_score") return number(v, f, 0, 100, &out->min_score.emplace());
                     return bom_fields(v, f, out);
                   });
  }

  bool bom_fields(const YAML::Node& v, const std::string& f, BomPolicy* out) {
    if (!strings(v, f, "field names or JSON pointers", &out->required_fields, false)) return false;
    for (size_t i = 0; i < out->required_fields.size(); ++i) {
      const std::string& s = out->required_fields[i];
      std::string sub = f + "[" + std::to_string(i) + "]";
      if (s[0] == '/') {
        try {
          nlohmann::json::json_pointer p(s);
        } catch (const nlohmann::json::exception&) {
          return bad(v[i], sub, "'" + escape_bytes(s, true, 80) + "' is not a valid JSON pointer");
        }
      } else if (!named_bom_fields().count(s)) {
        std::vector<std::string> names;
        for (const auto& kv : named_bom_fields()) names.push_back(kv.first);
        return bad(v[i], sub, "unknown field '" + escape_bytes(s, true, 80) + "' (want a JSON pointer such as "
                                  "/metadata/component/purl, or one of " + join(names, ", ") + ")");
      }
    }
    return true;
  }

  bool lineage(const YAML::Node& n, const std::string& field, LineagePolicy* out) {
    bool have_max = false;
    bool ok = entries(n, field, {"registry", "max_similarity", "on_not_evaluated"},
                      [&](const std::string& k, const YAML::Node& v, const std::string& f) {
                        if (k == "registry") return string(v, f, &out->registry, "a path");
                        if (k == "on_not_evaluated") return mode(v, f, &out->on_not_evaluated.emplace());
                        have_max = true;
                        return number(v, f, 0, 1, &out->max_similarity);
                      });
    if (ok && !have_max) return bad(n, field + ".max_similarity", "missing (a number from 0 to 1)");
    if (ok && !out->registry.empty()) out->registry = resolve(path_, out->registry);
    return ok;
  }

  bool probes(const YAML::Node& n, const std::string& field, ProbesPolicy* out) {
    bool ok = entries(n, field, {"packs", "on_not_evaluated"},
                      [&](const std::string& k, const YAML::Node& v, const std::string& f) {
                        if (k == "on_not_evaluated") return mode(v, f, &out->on_not_evaluated.emplace());
                        return packs(v, f, out);
                      });
    if (ok && out->packs.empty()) return bad(n, field + ".packs", "missing (a list of packs with thresholds)");
    return ok;
  }

  bool packs(const YAML::Node& v, const std::string& f, ProbesPolicy* out) {
    if (!v.IsSequence() || v.size() == 0 || v.size() > kMaxListItems) return bad(v, f, "expected a list of packs");
    for (size_t i = 0; i < v.size(); ++i) {
      std::string g = f + "[" + std::to_string(i) + "]";
      ProbePackPolicy p;
      bool ok = entries(v[i], g, {"pack", "min_p_value", "max_score"},
                        [&](const std::string& k, const YAML::Node& x, const std::string& h) {
                          if (k == "pack") return string(x, h, &p.pack, "a pack name");
                          if (k == "min_p_value") return number(x, h, 0, 1, &p.min_p_value.emplace());
                          return number(x, h, -1e300, 1e300, &p.max_score.emplace());
                        });
      if (!ok) return false;
      if (p.pack.empty()) return bad(v[i], g + ".pack", "missing (the pack's name)");
      if (!p.min_p_value && !p.max_score) return bad(v[i], g, "give min_p_value or max_score");
      out->packs.push_back(p);
    }
    return true;
  }

  bool rules(const YAML::Node& n, Policy* out) {
    if (n.IsMap() && n.size() == 0)
      return bad(n, "rules", "expected at least one of signature, licenses, pickle, bom, lineage, probes");
    return entries(n, "rules", {"signature", "licenses", "pickle", "bom", "lineage", "probes"},
                   [&](const std::string& k, const YAML::Node& v, const std::string& f) {
                     if (k == "signature") return signature(v, f, &out->signature.emplace());
                     if (k == "licenses") return licenses(v, f, &out->licenses.emplace());
                     if (k == "pickle") return pickle(v, f, &out->pickle.emplace());
                     if (k == "bom") return bom(v, f, &out->bom.emplace());
                     if (k == "lineage") return lineage(v, f, &out->lineage.emplace());
                     return probes(v, f, &out->probes.emplace());
                   });
  }

  bool exception(const YAML::Node& n, const std::string& field, PolicyException* e) {
    bool ok = entries(n, field, {"rule", "path", "digest", "reason", "expires"},
                      [&](const std::string& k, const YAML::Node& v, const std::string& f) {
                        if (k == "rule") return exception_rule(v, f, e);
                        if (k == "path") return string(v, f, &e->path, "a glob");
                        if (k == "reason") return string(v, f, &e->reason);
                        if (k == "digest") return exception_digest(v, f, e);
                        if (!string(v, f, &e->expires, "a date YYYY-MM-DD")) return false;
                        return valid_date(e->expires) || bad(v, f, "expected a date YYYY-MM-DD");
                      });
    if (!ok) return false;
    if (e->rule.empty()) return bad(n, field + ".rule", "missing (a rule id such as PDG020)");
    if (e->path.empty() && e->digest.empty()) return bad(n, field, "give path or digest (or both)");
    if (e->reason.empty()) return bad(n, field + ".reason", "missing (why the exception is granted)");
    if (e->expires.empty()) return bad(n, field + ".expires", "missing (a date YYYY-MM-DD)");
    e->line = n.Mark().line + 1;
    return true;
  }

  bool exception_rule(const YAML::Node& v, const std::string& f, PolicyException* e) {
    std::string s;
    if (!string(v, f, &s, "a rule id")) return false;
    const RuleInfo* r = find_rule(s);
    if (!r) return bad(v, f, "unknown rule '" + escape_bytes(s, true, 80) + "' (see docs/policy.md for the ids)");
    e->rule = r->id;
    return true;
  }

  bool exception_digest(const YAML::Node& v, const std::string& f, PolicyException* e) {
    if (!string(v, f, &e->digest, "sha256:<64 hex digits>")) return false;
    const std::string& d = e->digest;
    bool ok = d.size() == 71 && d.rfind("sha256:", 0) == 0 &&
              d.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
    return ok || bad(v, f, "expected sha256:<64 lowercase hex digits> (the model's manifest root)");
  }

  bool exceptions(const YAML::Node& n, Policy* out) {
    if (!n.IsSequence() || n.size() > kMaxListItems) return bad(n, "exceptions", "expected a list of exceptions");
    for (size_t i = 0; i < n.size(); ++i) {
      PolicyException e;
      if (!exception(n[i], "exceptions[" + std::to_string(i) + "]", &e)) return false;
      out->exceptions.push_back(e);
    }
    return true;
  }

  bool top(const YAML::Node& root, Policy* out) {
    if (!root.IsMap()) return bad(root, "policy", "expected a mapping with rules");
    bool have_rules = false;
    bool ok = entries(root, "", {"version", "on_not_evaluated", "rules", "exceptions"},
                      [&](const std::string& k, const YAML::Node& v, const std::string& f) {
                        if (k == "version") {
                          return (v.IsScalar() && v.Scalar() == "1") || bad(v, f, "expected 1");
                        }
                        if (k == "on_not_evaluated") return mode(v, f, &out->on_not_evaluated);
                        if (k == "exceptions") return exceptions(v, out);
                        have_rules = true;
                        return rules(v, out);
                      });
    if (ok && !have_rules) return bad(root, "rules", "missing (a policy needs at least one rule)");
    return ok;
  }

 private:
  static std::string fmt(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  }

  std::string path_;
  Error* err_;
  int last_line_ = 1;
};

}  // namespace

std::string bom_field_pointer(const std::string& field) {
  auto it = named_bom_fields().find(field);
  return it == named_bom_fields().end() ? field : it->second;
}

std::string SignatureTrust::label() const {
  switch (kind) {
    case Kind::kKey:
      return "key " + key;
    case Kind::kCertificate:
      return "certificate root " + join(roots, ", ") + (chain.empty() ? "" : " chain " + join(chain, ", "));
    case Kind::kKeyless:
      return "keyless " + identity + " from " + issuer;
  }
  return "";
}

bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  int y = std::stoi(std::string(s.substr(0, 4))), m = std::stoi(std::string(s.substr(5, 2))),
      d = std::stoi(std::string(s.substr(8, 2)));
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool parse_policy(std::string_view text, const std::string& path, Policy* out, Error* err) {
  *out = Policy{};
  out->path = path;
  if (text.size() > kMaxPolicyBytes)
    return fail(err, path, std::nullopt, "policy is " + human_bytes(text.size()) + ", more than the 1 MiB limit");
  if (text.find('\0') != std::string_view::npos) return fail(err, path, std::nullopt, "policy contains a NUL byte");
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(err, path, std::nullopt, "line " + std::to_string(e.mark.line + 1) + ": invalid yaml: " + e.msg);
  }
  try {
    Parser p(path, err);
    return p.top(root, out);
  } catch (const YAML::Exception& e) {
    return fail(err, path, std::nullopt, "line " + std::to_string(e.mark.line + 1) + ": invalid yaml: " + e.msg);
  }
}

bool load_policy(const std::string& path, Policy* out, Error* err) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail(err, path, std::nullopt, "cannot read policy: " + ec.message());
  if (size > kMaxPolicyBytes)
    return fail(err, path, std::nullopt, "policy is " + human_bytes(size) + ", more than the 1 MiB limit");
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f) return fail(err, path, std::nullopt, "cannot read policy");
  return parse_policy(ss.str(), path, out, err);
}

}  // namespace pedigree
