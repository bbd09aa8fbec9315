// This file implements `pedigree lineage A B` (fingerprints by default, the
// full computation with --exact; A and B may be stored fingerprint files),
// `pedigree lineage PATH --registry [DB]` and `pedigree lineage MODEL
// --save-fingerprint FILE`: prints the per-layer scores, p-values, the verdict
// and the thresholds, or the registry's nearest models with their relations.
#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include <tbb/global_control.h>

#include "cli/cli.h"
#include "cli/lineage_cli.h"
#include "cli/scan_core.h"
#include "fingerprint/formats/reader.h"
#include "fingerprint/lineage.h"
#include "fingerprint/lineage_fp.h"
#include "fingerprint/registry.h"

namespace pedigree::cli {
namespace {

const char* const kThresholds =
    "derived if primary >= 0.7 or Fisher-combined p < 1e-8; independent if primary < 0.3 and the "
    "combined p >= 0.01 (or the test was not run); otherwise inconclusive";

std::string opt(const std::optional<double>& v, const char* spec) {
  return v ? fmt::format(fmt::runtime(spec), *v) : "-";
}

nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

nlohmann::json report_json(const LineageArgs& a, const LineageReport& r) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LineageLayer& l : r.layers)
    layers.push_back({{"layer_a", l.a}, {"layer_b", l.b}, {"cka_q", l.cka_q}, {"cka_k", l.cka_k},
                      {"score", l.score}, {"cka_mlp", l.has_mlp ? nlohmann::json(l.cka_mlp) : nlohmann::json()},
                      {"raw_cosine_q", opt_json(l.raw_cosine)}, {"spearman_rho", opt_json(l.spearman_rho)},
                      {"log10_p", opt_json(l.log10_p)}, {"huref", opt_json(l.huref)}});
  nlohmann::json zhu = {{"fisher_log10_p", opt_json(r.fisher_log10_p)}};
  if (!r.zhu_note.empty()) zhu["note"] = r.zhu_note;
  return {{"a", a.a}, {"b", a.b}, {"method", a.exact ? "exact" : "fingerprint"}, {"arch_a", r.arch_a}, {"arch_b", r.arch_b}, {"vocab", r.vocab}, {"hidden", r.hidden}, {"layers_a", r.layers_a},
          {"layers_b", r.layers_b},
          {"alignment", {{"vocab_rows_used", r.vocab_rows_used}, {"mean_abs_correlation", r.embed_match},
                         {"units_moved", r.units_moved}, {"sign_flips", r.sign_flips}}},
          {"layers", layers}, {"primary_score", r.primary}, {"raw_cosine_q", opt_json(r.raw_cosine)},
          {"huref", opt_json(r.huref)}, {"independence_test", zhu}, {"verdict", r.verdict}, {"reason", r.reason},
          {"thresholds", {{"derived_score", kDerivedScore}, {"independent_score", kIndependentScore},
                          {"derived_log10_p", kDerivedLog10P}, {"independent_log10_p", kIndependentLog10P}}}};
}

std::string report_text(const LineageArgs& a, const LineageReport& r) {
  std::string out = fmt::format("lineage  {}  vs  {}\n", a.a, a.b);
  out += fmt::format("architecture {} vs {}\n", r.arch_a, r.arch_b);
  out += fmt::format("vocab {}, hidden {}, layers {} vs {} ({})\n", r.vocab, r.hidden, r.layers_a, r.layers_b,
                     a.exact ? "exact: full weights" : "from fingerprints; --exact for the full computation");
  out += fmt::format("hidden units matched on {} embedding rows: mean |r| {:.3f}, {} moved, {} sign flips\n",
                     r.vocab_rows_used, r.embed_match, r.units_moved, r.sign_flips);
  out += fmt::format("{:>3} {:>3}  {:>7} {:>7} {:>7} {:>8}  {:>9} {:>7} {:>9} {:>7}\n", "A", "B", "cka_q", "cka_k",
                     "score", "cka_mlp", "raw_cos_q", "rho", "log10_p", "huref");
  for (const LineageLayer& l : r.layers)
    out += fmt::format("{:>3} {:>3}  {:>7.3f} {:>7.3f} {:>7.3f} {:>8}  {:>9} {:>7} {:>9} {:>7}\n", l.a, l.b, l.cka_q,
                       l.cka_k, l.score, l.has_mlp ? fmt::format("{:.3f}", l.cka_mlp) : "-",
                       opt(l.raw_cosine, "{:.3f}"), opt(l.spearman_rho, "{:.3f}"), opt(l.log10_p, "{:.1f}"),
                       opt(l.huref, "{:.3f}"));
  out += fmt::format("primary score (AWM-style unbiased CKA of Q,K): {:.3f}\n", r.primary);
  out += fmt::format("raw cosine of Q (comparison only, not evidence): {}\n", opt(r.raw_cosine, "{:.3f}"));
  out += fmt::format("HuRef-style invariants (secondary, not in the verdict): {}\n",
                     a.exact ? opt(r.huref, "{:.3f}") : "- (needs --exact)");
  out += r.fisher_log10_p
             ? fmt::format("independence test (Zhu et al.): Fisher-combined p = 1e{:.1f}\n", *r.fisher_log10_p)
             : "independence test (Zhu et al.): " + r.zhu_note + "\n";
  out += fmt::format("verdict: {} ({})\nthresholds: {}\n", r.verdict, r.reason, kThresholds);
  return out;
}

std::string relation_text(const RegistryMatch& m) {
  if (m.relation == "identity") return "identity (same tensors)";
  if (m.relation == "identity-renamed") return "identity (same tensors, renamed)";
  if (m.relation == "not-comparable") return "not comparable (" + m.note + ")";
  return m.report.verdict;
}

bool flags(const RegistryMatch& m) { return lineage_flags(m); }

std::string registry_text(const LineageArgs& a, const std::string& db, const std::vector<RegistryMatch>& ms) {
  std::string out = fmt::format("lineage  {}  vs registry {} ({} models)\n", a.a, db, ms.size());
  out += fmt::format("{:<24} {:>9} {:>8} {:>9}  {}\n", "model", "protected", "primary", "log10_p", "relation");
  for (const RegistryMatch& m : ms) {
    bool cmp = m.relation == "compared";
    out += fmt::format("{:<24} {:>9} {:>8} {:>9}  {}\n", m.model.name, m.model.is_protected ? "yes" : "no",
                       cmp ? fmt::format("{:.3f}", m.report.primary) : "-",
                       cmp ? opt(m.report.fisher_log10_p, "{:.1f}") : "-", relation_text(m));
  }
  std::vector<std::string> hit;
  for (const RegistryMatch& m : ms)
    if (flags(m)) hit.push_back(m.model.name);
  out += hit.empty() ? "verdict: not derived from any protected model\n"
                     : fmt::format("verdict: identical to or derived from protected model(s): {}\n",
                                   fmt::join(hit, ", "));
  return out;
}

nlohmann::json registry_json(const LineageArgs& a, const std::string& db, const std::vector<RegistryMatch>& ms) {
  nlohmann::json list = nlohmann::json::array(), hit = nlohmann::json::array();
  for (const RegistryMatch& m : ms) {
    nlohmann::json j = {{"name", m.model.name}, {"protected", m.model.is_protected}, {"license", m.model.license},
                        {"relation", m.relation}};
    if (m.relation == "not-comparable") j["reason"] = m.note;
    if (m.relation == "compared")
      j.update({{"primary_score", m.report.primary}, {"fisher_log10_p", opt_json(m.report.fisher_log10_p)},
                {"verdict", m.report.verdict}, {"reason", m.report.reason}});
    list.push_back(j);
    if (flags(m)) hit.push_back(m.model.name);
  }
  return {{"model", a.a}, {"registry", db}, {"matches", list}, {"flagged", hit}};
}

int run_lineage_registry(const LineageArgs& a) {
  if (!a.b.empty()) return report_error("lineage: give either B or --registry, not both");
  std::string db = a.registry.empty() ? default_registry_path() : a.registry;
  Error err;
  auto reg = Registry::open(db, &err);
  if (!reg) return report_error(err);
  std::vector<RegistryMatch> ms;
  if (is_lineage_fp_file(a.a)) {
    LineageFp fp;
    if (!read_lineage_fp_file(a.a, &fp, &err)) return report_error(err);
    if (!match_registry_fp(fp, a.a, *reg, &ms, &err)) return report_error(err);
  } else if (!match_registry(a.a, *reg, &ms, &err, a.jobs)) {
    return report_error("cannot compare: " + err.str());
  }
  std::string text = a.json ? json_text(registry_json(a, db, ms)) : registry_text(a, db, ms);
  if (!write_output("", text, &err)) return report_error(err);
  return std::any_of(ms.begin(), ms.end(), flags) ? kFlagged : kOk;
}

// A's or B's fingerprint: read from a fingerprint file, else built from the model.
// `cannot` is set when the model was read but has no comparable fingerprint.
bool fingerprint_of(const std::string& path, LineageFp* fp, bool* cannot, Error* err) {
  if (is_lineage_fp_file(path)) return read_lineage_fp_file(path, fp, err);
  ModelArtifact art;
  TensorIndex idx;
  if (!read_model(path, &art, &idx, err)) return false;
  *cannot = true;
  return build_lineage_fp(art, idx, FpPlan{}, fp, err);
}

int run_save_fingerprint(const LineageArgs& a) {
  if (!a.b.empty() || a.use_registry || a.exact)
    return report_error("lineage --save-fingerprint: give one model and no B, --registry or --exact");
  LineageFp fp;
  Error err;
  bool cannot = false;
  if (!fingerprint_of(a.a, &fp, &cannot, &err)) return report_error(cannot ? "cannot fingerprint: " + err.str() : err.str());
  std::string bytes = serialize_lineage_fp(fp);
  if (!write_output(a.save_fingerprint, bytes, &err)) return report_error(err);
  std::printf("wrote the lineage fingerprint of %s (%s, %zu layers, %zu bytes) to %s\n", a.a.c_str(),
              fp.arch_declared ? fp.arch.c_str() : (fp.arch + " from tensor names").c_str(), fp.layers.size(),
              bytes.size(), a.save_fingerprint.c_str());
  return kOk;
}

int compare_default(const LineageArgs& a, LineageReport* r) {
  LineageFp fa, fb;
  Error err;
  for (auto [path, fp] : {std::pair{&a.a, &fa}, std::pair{&a.b, &fb}}) {
    bool cannot = false;
    if (!fingerprint_of(*path, fp, &cannot, &err))
      return report_error(cannot ? "cannot compare: " + err.str() : err.str());
  }
  if (!compare_fingerprints(fa, fb, a.a, a.b, r, &err)) return report_error("cannot compare: " + err.str());
  return kOk;
}

int compare_exact(const LineageArgs& a, LineageReport* r) {
  for (const std::string* p : {&a.a, &a.b})
    if (is_lineage_fp_file(*p))
      return report_error("lineage --exact needs the model's weights: " + *p + " is a stored lineage fingerprint");
  Error err;
  ModelArtifact aa, ab;
  TensorIndex ia, ib;
  if (!read_model(a.a, &aa, &ia, &err) || !read_model(a.b, &ab, &ib, &err)) return report_error(err);
  if (!compare_lineage(aa, ia, ab, ib, r, &err)) return report_error("cannot compare: " + err.str());
  return kOk;
}

}  // namespace

int run_lineage(const LineageArgs& a) {
  std::unique_ptr<tbb::global_control> limit;
  if (a.jobs) limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, a.jobs);
  if (!a.save_fingerprint.empty()) return run_save_fingerprint(a);
  if (a.use_registry) return run_lineage_registry(a);
  if (a.b.empty()) return report_error("lineage: B is required (or --registry or --save-fingerprint)");
  LineageReport r;
  if (int rc = a.exact ? compare_exact(a, &r) : compare_default(a, &r); rc != kOk) return rc;
  Error err;
  std::string text = a.json ? json_text(report_json(a, r)) : report_text(a, r);
  if (!write_output("", text, &err)) return report_error(err);
  return r.verdict == "derived" ? kFlagged : kOk;
}

}  // namespace pedigree::cli
