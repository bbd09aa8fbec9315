// This file implements the evaluation of a `pedigree check` policy over
// gathered evidence: one result per rule (pass, fail, not evaluated or
// excepted) with its message, evidence and locations; exceptions and their
// expiry; and the report as JSON and text. Rule ids are stable (docs/policy.md).
#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "sbom/policy.h"
#include "sbom/spdx_ids.h"

namespace pedigree {
namespace {

using nlohmann::json;

const RuleInfo kRules[] = {
    {"PDG001", "signature.required", "The model carries a signature that verifies against a trusted key, certificate or identity",
     "A signature bundle (model.sig beside the model, or --sig) must exist and verify with one of the trusts listed under "
     "rules.signature (key, certificate, keyless). With required: false an absent signature passes, but a present one "
     "must still verify."},
    {"PDG010", "licenses.allow", "Every licence of the model is on the allow list",
     "The model's SPDX licence ids (from the model card or the format metadata, as the AI-BOM records them) must all be "
     "in rules.licenses.allow. Licences that are not SPDX ids are judged by PDG012."},
    {"PDG011", "licenses.deny", "No licence of the model is on the deny list",
     "None of the model's SPDX licence ids may be in rules.licenses.deny."},
    {"PDG012", "licenses.unknown", "The model declares its licence with SPDX ids",
     "A model with no licence, or with a licence that is not an SPDX id or expression of ids, is reported as unknown; "
     "rules.licenses.unknown decides whether that fails, warns or passes."},
    {"PDG020", "pickle.unsafe_imports", "No pickle in the model imports unsafe callables",
     "The restricted pickle VM reports every import outside the allow list of tensor-rebuilding callables as an error "
     "finding (unsafe-import); loading such a file with pickle would run that code."},
    {"PDG021", "pickle.formats", "The model has no pickle-based weight files",
     "With forbid_formats: true, any PyTorch (.pt, .bin, .pth) or raw pickle file fails, whether or not it imports "
     "anything unsafe. Prefer safetensors, GGUF or ONNX."},
    {"PDG030", "bom.required_fields", "The generated AI-BOM has every required field",
     "Each named field or JSON pointer under rules.bom.required_fields must be present and non-empty in the CycloneDX "
     "AI-BOM that `pedigree bom` generates for the model."},
    {"PDG031", "bom.min_score", "The generated AI-BOM reaches the minimum completeness score",
     "The completeness score of the generated AI-BOM (`pedigree bom score`, docs/bom-score.md) must be at least "
     "rules.bom.min_score."},
    {"PDG040", "lineage.max_similarity", "The model is not too similar to a protected model",
     "The weight similarity of the model to every protected model of the lineage registry must not exceed "
     "rules.lineage.max_similarity. Needs lineage registry evidence."},
    {"PDG050", "probes.thresholds", "Behavioural probe packs stay within their thresholds",
     "For each pack under rules.probes.packs, the pack's p-value must not fall below min_p_value and its score must "
     "not exceed max_score. Needs probe evidence."},
};

std::string normal_path(const std::string& p) {
  std::string s = std::filesystem::path(p).lexically_normal().generic_string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string level_for(NotEvaluatedMode m) {
  return m == NotEvaluatedMode::kFail ? "error" : m == NotEvaluatedMode::kWarn ? "warning" : "note";
}

std::string list_text(const std::vector<std::string>& v, size_t max = 10) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) out += (i ? ", " : "") + v[i];
  if (v.size() > max) out += fmt::format(" and {} more", v.size() - max);
  return out;
}

class Evaluator {
 public:
  Evaluator(const Policy& p, const CheckEvidence& ev) : p_(p), ev_(ev) {}

  RuleResult make(const char* id, const std::string& subject = "") {
    RuleResult r;
    const RuleInfo* info = find_rule(id);
    r.id = info->id;
    r.name = info->name;
    r.subject = subject;
    return r;
  }

  RuleResult& pass(RuleResult& r, const std::string& msg) {
    r.status = RuleStatus::kPass, r.level = "note", r.message = msg;
    return r;
  }
  RuleResult& failed(RuleResult& r, const std::string& msg, const std::string& level = "error") {
    r.status = RuleStatus::kFail, r.level = level, r.message = msg;
    return r;
  }
  RuleResult& not_evaluated(RuleResult& r, const std::string& why, std::optional<NotEvaluatedMode> section) {
    NotEvaluatedMode m = section.value_or(p_.on_not_evaluated);
    r.status = RuleStatus::kNotEvaluated, r.level = level_for(m), r.message = why;
    return r;
  }

  std::string primary_file() const {
    for (const ArtifactFile& f : ev_.files)
      if (!f.path.empty()) return f.path;
    return ev_.model_path;
  }

  std::string digest_of(const std::string& path) const {
    auto it = ev_.file_digests.find(path);
    return it == ev_.file_digests.end() ? "" : it->second;
  }

  EvidenceSource model_source(const std::string& what, const std::string& command) const {
    return {what, ev_.model_path, ev_.manifest_root, command + " " + ev_.model_path};
  }

  void signature(std::vector<RuleResult>* out) {
    const SignaturePolicy& sp = *p_.signature;
    const SignatureEvidence& s = ev_.signature;
    RuleResult r = make("PDG001");
    r.locations.push_back(s.present ? s.bundle_path : primary_file());
    for (const SignatureAttempt& a : s.attempts) {
      static const char* names[] = {"verified", "rejected", "cannot verify", "not available"};
      r.evidence.push_back({a.trust + ": " + names[static_cast<int>(a.outcome)] + (a.detail.empty() ? "" : ": " + a.detail),
                            s.bundle_path, s.bundle_digest, a.command});
    }
    if (!s.present) {
      r.evidence.push_back({"no signature bundle", s.bundle_path, "", ""});
      out->push_back(sp.required ? failed(r, "no signature at " + s.bundle_path)
                                 : pass(r, "no signature at " + s.bundle_path + " (not required)"));
      return;
    }
    std::vector<std::string> why;
    bool unavailable = false;
    for (const SignatureAttempt& a : s.attempts) {
      if (a.outcome == SignatureAttempt::Outcome::kVerified) {
        out->push_back(pass(r, "verified with " + a.trust + (a.detail.empty() ? "" : " (" + a.detail + ")")));
        return;
      }
      if (a.outcome == SignatureAttempt::Outcome::kUnavailable) unavailable = true;
      why.push_back(a.trust + ": " + a.detail);
    }
    if (unavailable)
      out->push_back(not_evaluated(r, "signature not verified by any evaluable trust; " + list_text(why, 5),
                                   sp.on_not_evaluated));
    else
      out->push_back(failed(r, "signature does not verify: " + list_text(why, 5)));
  }

  // Licence ids and unknown licences declared by the model component of the BOM.
  void model_licenses(std::vector<std::string>* ids, std::vector<std::string>* unknown, std::vector<std::string>* notes) {
    const json* lic = nullptr;
    json::json_pointer ptr("/metadata/component/licenses");
    if (ev_.bom->contains(ptr) && (*ev_.bom)[ptr].is_array()) lic = &(*ev_.bom)[ptr];
    if (!lic) return;
    for (const json& e : *lic) {
      if (e.contains("expression") && e["expression"].is_string()) {
        expression(e["expression"].get<std::string>(), ids, unknown);
        continue;
      }
      const json l = e.value("license", json::object());
      if (l.contains("id") && l["id"].is_string()) ids->push_back(l["id"].get<std::string>());
      else if (l.contains("name") && l["name"].is_string()) license_name(l["name"].get<std::string>(), ids, unknown, notes);
    }
  }

  void license_name(const std::string& n, std::vector<std::string>* ids, std::vector<std::string>* unknown,
            std::vector<std::string>* notes) {
    std::string id = spdx_case_insensitive(n);
    if (id.empty()) {
      unknown->push_back("'" + n + "'");
      return;
    }
    ids->push_back(id);
    if (id != n) notes->push_back("licence '" + n + "' read as SPDX id " + id + " (SPDX ids match case-insensitively)");
  }

  static std::string spdx_case_insensitive(const std::string& n) {
    if (is_spdx_license_id(n)) return n;
    for (size_t k = 0; k < spdx_license_id_count(); ++k) {
      std::string_view c = spdx_license_id_at(k);
      if (c.size() == n.size() && std::equal(c.begin(), c.end(), n.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          }))
        return std::string(c);
    }
    return "";
  }

  // SPDX expression: every id counts (AND and OR alike, conservatively); WITH's exception is skipped.
  void expression(const std::string& x, std::vector<std::string>* ids, std::vector<std::string>* unknown) {
    std::string tok;
    bool after_with = false;
    auto flush = [&] {
      if (tok.empty()) return;
      std::string up = tok;
      for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (up == "AND" || up == "OR") {
      } else if (up == "WITH") {
        after_with = true;
      } else if (after_with) {
        after_with = false;
      } else {
        std::string t = !tok.empty() && tok.back() == '+' ? tok.substr(0, tok.size() - 1) : tok;
        std::string id = spdx_case_insensitive(t);
        if (id.empty()) unknown->push_back("'" + tok + "' in expression '" + x + "'");
        else ids->push_back(id);
      }
      tok.clear();
    };
    for (char c : x) {
      if (c == ' ' || c == '(' || c == ')' || c == '\t') flush();
      else tok += c;
    }
    flush();
  }

  void licenses(std::vector<RuleResult>* out) {
    const LicensePolicy& lp = *p_.licenses;
    std::vector<const char*> ids_wanted;
    if (lp.allow) ids_wanted.push_back("PDG010");
    if (lp.deny) ids_wanted.push_back("PDG011");
    ids_wanted.push_back("PDG012");
    if (!ev_.bom) {
      for (const char* id : ids_wanted) {
        RuleResult r = make(id);
        r.locations.push_back(primary_file());
        out->push_back(not_evaluated(r, "the AI-BOM could not be built: " + ev_.bom_error, std::nullopt));
      }
      return;
    }
    std::vector<std::string> ids, unknown, notes;
    model_licenses(&ids, &unknown, &notes);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<std::string> seen = ids;
    seen.insert(seen.end(), unknown.begin(), unknown.end());
    EvidenceSource src =
        model_source("licences in the AI-BOM: " + (seen.empty() ? std::string("none") : list_text(seen)), "pedigree bom");
    for (const char* id : ids_wanted) {
      RuleResult r = make(id);
      r.locations.push_back(primary_file());
      r.evidence.push_back(src);
      r.notes = notes;
      std::string rid = id;
      if (rid == "PDG010") allow(r, ids, *lp.allow);
      else if (rid == "PDG011") deny(r, ids, *lp.deny);
      else unknown_rule(r, ids, unknown, lp.unknown);
      out->push_back(r);
    }
  }

  void allow(RuleResult& r, const std::vector<std::string>& ids, const std::vector<std::string>& allowed) {
    std::vector<std::string> bad;
    for (const std::string& id : ids)
      if (std::find(allowed.begin(), allowed.end(), id) == allowed.end()) bad.push_back(id);
    if (!bad.empty()) failed(r, "licence not on the allow list: " + list_text(bad));
    else if (ids.empty()) pass(r, "no SPDX licence id to compare (see PDG012 licenses.unknown)");
    else pass(r, "licences allowed: " + list_text(ids));
  }

  void deny(RuleResult& r, const std::vector<std::string>& ids, const std::vector<std::string>& denied) {
    std::vector<std::string> bad;
    for (const std::string& id : ids)
      if (std::find(denied.begin(), denied.end(), id) != denied.end()) bad.push_back(id);
    if (!bad.empty()) failed(r, "licence on the deny list: " + list_text(bad));
    else pass(r, ids.empty() ? "no SPDX licence id to compare (see PDG012 licenses.unknown)"
                             : "no denied licence among " + list_text(ids));
  }

  void unknown_rule(RuleResult& r, const std::vector<std::string>& ids, const std::vector<std::string>& unknown,
                    NotEvaluatedMode mode) {
    std::string what = !unknown.empty() ? "licence is not an SPDX id: " + list_text(unknown)
                       : ids.empty()    ? "no licence declared (model card or format metadata)"
                                        : "";
    if (what.empty()) pass(r, "every licence is an SPDX id: " + list_text(ids));
    else if (mode == NotEvaluatedMode::kPass) pass(r, what + " (accepted: licenses.unknown is pass)");
    else failed(r, what, mode == NotEvaluatedMode::kWarn ? "warning" : "error");
  }

  void pickle(std::vector<RuleResult>* out) {
    const PicklePolicy& pp = *p_.pickle;
    if (pp.forbid_unsafe_imports) {
      RuleResult r = make("PDG020");
      std::vector<std::string> what;
      for (const Finding& f : ev_.findings) {
        if (f.id != "unsafe-import" || f.severity != "error") continue;
        std::string at = f.path + (f.offset ? ": offset " + hex_offset(*f.offset) : "");
        what.push_back(at + ": " + f.message);
        r.evidence.push_back({f.message, f.path, digest_of(f.path), "pedigree inspect " + ev_.model_path});
        if (std::find(r.locations.begin(), r.locations.end(), f.path) == r.locations.end()) r.locations.push_back(f.path);
      }
      if (what.empty()) {
        r.locations.push_back(primary_file());
        r.evidence.push_back(model_source("no unsafe-import finding", "pedigree inspect"));
        out->push_back(pass(r, "no unsafe pickle import"));
      } else {
        out->push_back(failed(r, fmt::format("{} unsafe pickle import{}: {}", what.size(), what.size() == 1 ? "" : "s",
                                             list_text(what, 5))));
      }
    }
    if (pp.forbid_formats) {
      RuleResult r = make("PDG021");
      std::vector<std::string> files;
      for (const ArtifactFile& f : ev_.files) {
        if (f.format != "pytorch" && f.format != "pickle") continue;
        files.push_back(f.path + " (" + f.format + ")");
        r.locations.push_back(f.path);
        r.evidence.push_back({f.format + " file", f.path, digest_of(f.path), "pedigree inspect " + ev_.model_path});
      }
      if (files.empty() && (ev_.format == "pytorch" || ev_.format == "pickle")) {
        files.push_back(ev_.model_path + " (" + ev_.format + ")");
        r.locations.push_back(primary_file());
      }
      if (files.empty()) {
        r.locations.push_back(primary_file());
        r.evidence.push_back(model_source("format " + ev_.format, "pedigree inspect"));
        out->push_back(pass(r, "no pickle-based file (format " + ev_.format + ")"));
      } else {
        out->push_back(failed(r, "pickle-based weights are forbidden: " + list_text(files, 5)));
      }
    }
  }

  static bool present(const json& bom, const std::string& pointer) {
    try {
      json::json_pointer p(pointer);
      if (!bom.contains(p)) return false;
      const json& v = bom[p];
      if (v.is_null()) return false;
      if ((v.is_string() || v.is_array() || v.is_object()) && v.empty()) return false;
      return true;
    } catch (const json::exception&) {
      return false;
    }
  }

  void bom(std::vector<RuleResult>* out) {
    const BomPolicy& bp = *p_.bom;
    std::vector<const char*> ids;
    if (!bp.required_fields.empty()) ids.push_back("PDG030");
    if (bp.min_score) ids.push_back("PDG031");
    for (const char* id : ids) {
      RuleResult r = make(id);
      r.locations.push_back(primary_file());
      if (!ev_.bom) {
        out->push_back(not_evaluated(r, "the AI-BOM could not be built: " + ev_.bom_error, std::nullopt));
        continue;
      }
      if (std::string(id) == "PDG030") {
        std::vector<std::string> missing;
        for (const std::string& f : bp.required_fields)
          if (!present(*ev_.bom, bom_field_pointer(f)))
            missing.push_back(f == bom_field_pointer(f) ? f : f + " (" + bom_field_pointer(f) + ")");
        r.evidence.push_back(model_source("generated AI-BOM", "pedigree bom"));
        if (missing.empty()) pass(r, fmt::format("all {} required fields present", bp.required_fields.size()));
        else failed(r, "missing from the AI-BOM: " + list_text(missing));
      } else {
        double s = ev_.bom_score.value_or(0);
        r.evidence.push_back(model_source(fmt::format("AI-BOM score {:.1f}", s), "pedigree bom"));
        r.evidence.back().command += " -o bom.json && pedigree bom score bom.json";
        if (s >= *bp.min_score) pass(r, fmt::format("AI-BOM score {:.1f} >= {:g}", s, *bp.min_score));
        else failed(r, fmt::format("AI-BOM score {:.1f} < {:g}", s, *bp.min_score));
      }
      out->push_back(r);
    }
  }

  void lineage(std::vector<RuleResult>* out) {
    const LineagePolicy& lp = *p_.lineage;
    RuleResult r = make("PDG040");
    r.locations.push_back(primary_file());
    // Hook: the lineage registry fills CheckEvidence::lineage; until then the rule is not evaluated.
    if (!ev_.lineage) {
      out->push_back(not_evaluated(r, ev_.lineage_unavailable, lp.on_not_evaluated));
      return;
    }
    const LineageMatch* worst = nullptr;
    for (const LineageMatch& m : *ev_.lineage) {
      r.evidence.push_back(m.source);
      if (!worst || m.similarity > worst->similarity) worst = &m;
    }
    if (worst && worst->similarity > lp.max_similarity)
      failed(r, fmt::format("similarity {:.4f} to protected model {} exceeds {:g}", worst->similarity, worst->model,
                            lp.max_similarity));
    else if (worst)
      pass(r, fmt::format("highest similarity {:.4f} ({}) <= {:g}", worst->similarity, worst->model, lp.max_similarity));
    else
      pass(r, "no protected model in the registry is similar");
    out->push_back(r);
  }

  void probes(std::vector<RuleResult>* out) {
    const ProbesPolicy& pp = *p_.probes;
    for (const ProbePackPolicy& pack : pp.packs) {
      RuleResult r = make("PDG050", pack.pack);
      r.locations.push_back(primary_file());
      // Hook: probe packs fill CheckEvidence::probes; until then every pack is not evaluated.
      const ProbePackResult* got = nullptr;
      if (ev_.probes)
        for (const ProbePackResult& x : *ev_.probes)
          if (x.pack == pack.pack) got = &x;
      if (!ev_.probes || !got) {
        out->push_back(not_evaluated(r, ev_.probes ? "pack " + pack.pack + " was not run" : ev_.probes_unavailable,
                                     pp.on_not_evaluated));
        continue;
      }
      r.evidence.push_back(got->source);
      out->push_back(pack_result(r, pack, *got, pp));
    }
  }

  RuleResult& pack_result(RuleResult& r, const ProbePackPolicy& pack, const ProbePackResult& got, const ProbesPolicy& pp) {
    std::vector<std::string> bad, good;
    if (pack.min_p_value) {
      if (!got.p_value) return not_evaluated(r, "pack " + pack.pack + " reported no p-value", pp.on_not_evaluated);
      std::string s = fmt::format("p-value {:g}", *got.p_value);
      (*got.p_value < *pack.min_p_value ? bad : good).push_back(fmt::format("{} {} {:g}", s,
          *got.p_value < *pack.min_p_value ? "<" : ">=", *pack.min_p_value));
    }
    if (pack.max_score) {
      if (!got.score) return not_evaluated(r, "pack " + pack.pack + " reported no score", pp.on_not_evaluated);
      (*got.score > *pack.max_score ? bad : good).push_back(fmt::format("score {:g} {} {:g}", *got.score,
          *got.score > *pack.max_score ? ">" : "<=", *pack.max_score));
    }
    return bad.empty() ? pass(r, pack.pack + ": " + list_text(good)) : failed(r, pack.pack + ": " + list_text(bad));
  }

 private:
  const Policy& p_;
  const CheckEvidence& ev_;
};

bool exception_matches(const PolicyException& e, const RuleResult& r, const CheckEvidence& ev) {
  if (e.rule != r.id) return false;
  if (!e.path.empty() && !glob_match(e.path, normal_path(ev.model_path)) && !glob_match(e.path, ev.model_path))
    return false;
  if (!e.digest.empty() && e.digest != ev.manifest_root) return false;
  return true;
}

void apply_exceptions(const Policy& p, const CheckEvidence& ev, const std::string& today, CheckReport* rep) {
  for (const PolicyException& e : p.exceptions)
    if (e.expires < today)
      rep->expired_exceptions.push_back(
          fmt::format("policy line {}: {} exception expired on {}: {}", e.line, e.rule, e.expires, e.reason));
  for (RuleResult& r : rep->results) {
    if (r.status != RuleStatus::kFail && r.status != RuleStatus::kNotEvaluated) continue;
    for (const PolicyException& e : p.exceptions) {
      if (!exception_matches(e, r, ev)) continue;
      if (e.expires < today) {
        r.notes.push_back(fmt::format("exception at policy line {} expired on {}; not applied", e.line, e.expires));
        continue;
      }
      r.exception = fmt::format("{} (expires {}, policy line {})", e.reason, e.expires, e.line);
      r.message = fmt::format("excepted: {} [was {}: {}]", e.reason, status_name(r.status), r.message);
      r.status = RuleStatus::kExcepted;
      r.level = "note";
      break;
    }
  }
}

}  // namespace

const char* status_name(RuleStatus s) {
  switch (s) {
    case RuleStatus::kPass: return "pass";
    case RuleStatus::kFail: return "fail";
    case RuleStatus::kNotEvaluated: return "not-evaluated";
    case RuleStatus::kExcepted: return "excepted";
  }
  return "";
}

const std::vector<RuleInfo>& policy_rules() {
  static const std::vector<RuleInfo> v(std::begin(kRules), std::end(kRules));
  return v;
}

const RuleInfo* find_rule(std::string_view key) {
  for (const RuleInfo& r : kRules)
    if (key == r.id || key == r.name) return &r;
  return nullptr;
}

size_t CheckReport::violations() const {
  return static_cast<size_t>(std::count_if(results.begin(), results.end(), [](const RuleResult& r) { return r.violation(); }));
}

bool glob_match(std::string_view pat, std::string_view s) {
  // Iterative matcher with backtracking over the last star; '**' may cross '/'.
  size_t p = 0, t = 0, star_p = std::string_view::npos, star_t = 0;
  bool star_any = false;
  while (t < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star_any = p + 1 < pat.size() && pat[p + 1] == '*';
      p += star_any ? 2 : 1;
      star_p = p, star_t = t;
    } else if (p < pat.size() && (pat[p] == s[t] || (pat[p] == '?' && s[t] != '/'))) {
      ++p, ++t;
    } else if (star_p != std::string_view::npos && (star_any || s[star_t] != '/')) {
      p = star_p, t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

bool today_utc(const std::string& override_date, std::string* out, Error* err) {
  if (!override_date.empty()) {
    if (!valid_date(override_date))
      return fail(err, "", std::nullopt, "PEDIGREE_NOW '" + escape_bytes(override_date, true, 40) +
                                             "' is not a date YYYY-MM-DD");
    *out = override_date;
    return true;
  }
  time_t now = std::time(nullptr);
  struct tm tm {};
  gmtime_r(&now, &tm);
  *out = fmt::format("{:04d}-{:02d}-{:02d}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return true;
}

CheckReport evaluate_policy(const Policy& policy, const CheckEvidence& ev, const std::string& today) {
  CheckReport rep;
  rep.model_path = ev.model_path;
  rep.policy_path = policy.path;
  rep.today = today;
  Evaluator e(policy, ev);
  if (policy.signature) e.signature(&rep.results);
  if (policy.licenses) e.licenses(&rep.results);
  if (policy.pickle) e.pickle(&rep.results);
  if (policy.bom) e.bom(&rep.results);
  if (policy.lineage) e.lineage(&rep.results);
  if (policy.probes) e.probes(&rep.results);
  apply_exceptions(policy, ev, today, &rep);
  return rep;
}

nlohmann::json evidence_json(const std::vector<EvidenceSource>& evidence) {
  json ev = json::array();
  for (const EvidenceSource& s : evidence) {
    json e = {{"what", s.what}};
    if (!s.path.empty()) e["path"] = s.path;
    if (!s.digest.empty()) e["digest"] = s.digest;
    if (!s.command.empty()) e["command"] = s.command;
    ev.push_back(e);
  }
  return ev;
}

nlohmann::json report_json(const CheckReport& r) {
  json results = json::array();
  for (const RuleResult& x : r.results) {
    json ev = evidence_json(x.evidence);
    json j = {{"id", x.id}, {"name", x.name}, {"status", status_name(x.status)}, {"level", x.level},
              {"message", x.message}, {"evidence", ev}, {"locations", x.locations}, {"violation", x.violation()}};
    if (!x.subject.empty()) j["subject"] = x.subject;
    if (!x.exception.empty()) j["exception"] = x.exception;
    if (!x.notes.empty()) j["notes"] = x.notes;
    results.push_back(j);
  }
  return {{"model", r.model_path}, {"policy", r.policy_path},   {"date", r.today},
          {"passed", r.passed()},  {"violations", r.violations()}, {"results", results},
          {"expired_exceptions", r.expired_exceptions}};
}

std::string report_text(const CheckReport& r) {
  std::string out = fmt::format("pedigree check {} (policy {}, date {})\n", r.model_path, r.policy_path, r.today);
  for (const RuleResult& x : r.results) {
    std::string st = x.status == RuleStatus::kFail ? (x.level == "error" ? "FAIL" : "warn")
                     : x.status == RuleStatus::kNotEvaluated ? (x.level == "error" ? "NOT EVALUATED" : "not evaluated")
                                                             : status_name(x.status);
    std::string name = x.id + " " + x.name + (x.subject.empty() ? "" : "[" + x.subject + "]");
    out += fmt::format("  {:<14} {}: {}\n", st, name, x.message);
    for (const std::string& n : x.notes) out += fmt::format("  {:<14}   note: {}\n", "", n);
  }
  for (const std::string& e : r.expired_exceptions) out += fmt::format("  note: {}\n", e);
  size_t v = r.violations();
  out += v == 0 ? std::string("verdict: pass\n") : fmt::format("verdict: FAIL ({} violation{})\n", v, v == 1 ? "" : "s");
  return out;
}

}  // namespace pedigree
