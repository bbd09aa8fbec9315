// This file implements `pedigree lineage A B`: reads both models, runs the
// permutation-robust weight comparison (docs/lineage.md) and prints the
// per-layer scores, p-values, the verdict and the thresholds that decided it.
#include <fmt/format.h>

#include <memory>

#include <tbb/global_control.h>

#include "cli/cli.h"
#include "cli/lineage_cli.h"
#include "fingerprint/formats/reader.h"
#include "fingerprint/lineage.h"

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
  return {{"a", a.a}, {"b", a.b}, {"vocab", r.vocab}, {"hidden", r.hidden}, {"layers_a", r.layers_a},
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
  out += fmt::format("vocab {}, hidden {}, layers {} vs {}\n", r.vocab, r.hidden, r.layers_a, r.layers_b);
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
  out += fmt::format("HuRef-style invariants (secondary, not in the verdict): {}\n", opt(r.huref, "{:.3f}"));
  out += r.fisher_log10_p
             ? fmt::format("independence test (Zhu et al.): Fisher-combined p = 1e{:.1f}\n", *r.fisher_log10_p)
             : "independence test (Zhu et al.): " + r.zhu_note + "\n";
  out += fmt::format("verdict: {} ({})\nthresholds: {}\n", r.verdict, r.reason, kThresholds);
  return out;
}

}  // namespace

int run_lineage(const LineageArgs& a) {
  std::unique_ptr<tbb::global_control> limit;
  if (a.jobs) limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, a.jobs);
  ModelArtifact aa, ab;
  TensorIndex ia, ib;
  Error err;
  if (!read_model(a.a, &aa, &ia, &err) || !read_model(a.b, &ab, &ib, &err)) return report_error(err);
  LineageReport r;
  if (!compare_lineage(aa, ia, ab, ib, &r, &err)) return report_error("cannot compare: " + err.str());
  std::string text = a.json ? json_text(report_json(a, r)) : report_text(a, r);
  if (!write_output("", text, &err)) return report_error(err);
  return r.verdict == "derived" ? kFlagged : kOk;
}

}  // namespace pedigree::cli
