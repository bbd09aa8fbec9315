// This file implements the probe runner: a fixed pool of threads pulls
// (pack, prompt, sample) jobs by index so results land in a deterministic
// order whatever the concurrency; then each pack is scored and decided, and
// the packs' p-values are combined with Fisher's method.
#include "probes/runner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "probes/batch.h"
#include "probes/watermark_pack.h"

namespace pedigree::probes {
namespace {

struct Job {
  const Pack* pack;
  const Prompt* prompt;
  int sample;
};

ProbeRequest make_request(const Job& j) {
  ProbeRequest r;
  r.form = j.prompt->form;
  r.system = j.prompt->system;
  r.prompt = j.prompt->text;
  r.temperature = j.pack->sampling.temperature;
  r.seed = j.pack->sampling.seed + (r.temperature > 0.0 ? static_cast<uint64_t>(j.sample) : 0);
  r.max_tokens = j.pack->sampling.max_tokens;
  return r;
}

// Runs every job on `threads` workers; false with the first backend error.
bool run_jobs(const std::vector<Job>& jobs, Backend& backend, int threads, std::vector<std::string>* texts, Error* err) {
  std::vector<ProbeRequest> reqs;
  reqs.reserve(jobs.size());
  for (const Job& j : jobs) reqs.push_back(make_request(j));
  std::vector<ProbeResponse> resps;
  if (!complete_all(backend, reqs, threads, &resps, err)) return false;
  texts->clear();
  for (ProbeResponse& r : resps) texts->push_back(std::move(r.text));
  return true;
}

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

void decide_identity(const Pack& p, PackResult* r) {
  std::string declared = lower_ascii(r->declared_vendor);
  for (const Claim& c : p.claims) {
    VendorResult v;
    v.vendor = c.vendor;
    v.is_protected = c.is_protected;
    v.declared = !declared.empty() && lower_ascii(c.vendor) == declared;
    for (const ProbeResult& pr : r->probes) v.count += std::count(pr.vendors.begin(), pr.vendors.end(), c.vendor);
    v.rate = r->trials ? static_cast<double>(v.count) / static_cast<double>(r->trials) : 0.0;
    v.ci = wilson95(v.count, r->trials);
    v.log10_p = binomial_upper_log10(v.count, r->trials, p.chance_probability);
    if (v.is_protected && !v.declared) ++r->tested_vendors;
    r->vendors.push_back(v);
  }
  r->vendor_threshold = bonferroni_threshold(p.threshold, r->tested_vendors);
  const VendorResult* best = nullptr;
  for (VendorResult& v : r->vendors) {
    if (!v.is_protected || v.declared) continue;
    v.flagged = v.log10_p < std::log10(r->vendor_threshold);
    r->flagged = r->flagged || v.flagged;
    if (!best || v.log10_p < best->log10_p) best = &v;
  }
  r->matches = best ? best->count : 0;
  r->log10_p = best ? bonferroni_log10(best->log10_p, r->tested_vendors) : 0.0;
}

PackResult score_pack(const Pack& p, const RunOptions& opts, const std::vector<Job>& jobs,
                      const std::vector<std::string>& texts, size_t first) {
  PackResult r;
  r.id = p.id, r.version = p.version, r.kind = pack_kind_name(p.kind), r.source = p.source, r.sha256 = p.sha256;
  r.description = p.description, r.chance_source = p.chance_source, r.chance_probability = p.chance_probability;
  r.threshold = p.threshold;
  r.declared_vendor = opts.declared_vendor.empty() ? p.declared_vendor : opts.declared_vendor;
  for (size_t i = first; i < jobs.size() && jobs[i].pack == &p; ++i) {
    ProbeResult pr;
    pr.prompt_id = jobs[i].prompt->id;
    pr.language = jobs[i].prompt->language;
    pr.sample = jobs[i].sample;
    pr.excerpt = first_code_points(texts[i], kExcerptChars);
    if (jobs[i].prompt->expect) pr.matched = jobs[i].prompt->expect->matcher.matches(texts[i]);
    for (const Claim& c : p.claims)
      if (c.matcher.contains(texts[i])) pr.vendors.push_back(c.vendor);
    r.matches += pr.matched;
    r.probes.push_back(std::move(pr));
  }
  r.trials = r.probes.size();
  if (p.kind == PackKind::kWatermark) return r;  // decided by run_watermark_pack
  if (p.kind == PackKind::kIdentity) {
    decide_identity(p, &r);
  } else {
    r.log10_p = binomial_upper_log10(r.matches, r.trials, p.chance_probability);
    r.flagged = r.log10_p < std::log10(p.threshold);
  }
  return r;
}

bool run_watermark_pack(const Pack& p, WatermarkAssets& a, Backend& backend, int concurrency, PackResult* r,
                        Error* err) {
  wm::DetectInputs in;
  in.config = &*p.watermark;
  in.tokenizer = a.tokenizer.get();
  in.keys = std::move(a.keys);
  in.reference = std::move(a.reference);
  in.concurrency = concurrency;
  wm::WatermarkRun run;
  if (!wm::run_watermark(backend, in, &run, err)) return false;
  r->threshold = run.threshold;
  r->log10_p = run.log10_p_adjusted;
  r->flagged = run.detected;
  r->watermark_config = p.watermark;
  r->watermark = std::move(run);
  return true;
}

}  // namespace

bool run_packs(const std::vector<Pack>& packs, Backend& backend, const RunOptions& opts, RunResult* out, Error* err) {
  if (opts.concurrency < 1 || opts.concurrency > 64)
    return fail(err, "", std::nullopt, "concurrency " + std::to_string(opts.concurrency) + " out of range (want 1..64)");
  std::vector<WatermarkAssets> assets;
  if (!load_watermark_assets(packs, opts.watermark_keys, &assets, err)) return false;
  std::vector<Job> jobs;
  std::vector<size_t> starts;
  for (const Pack& p : packs) {
    starts.push_back(jobs.size());
    for (const Prompt& pr : p.prompts)
      for (int s = 0; s < p.sampling.samples; ++s) jobs.push_back({&p, &pr, s});
  }
  std::vector<std::string> texts;
  if (!run_jobs(jobs, backend, opts.concurrency, &texts, err)) return false;
  RunResult r;
  r.backend = backend.describe();
  std::vector<double> ps;
  for (size_t i = 0; i < packs.size(); ++i) {
    r.packs.push_back(score_pack(packs[i], opts, jobs, texts, starts[i]));
    if (packs[i].watermark && !run_watermark_pack(packs[i], assets[i], backend, opts.concurrency, &r.packs.back(), err)) return false;
    r.flagged = r.flagged || r.packs.back().flagged;
    ps.push_back(r.packs.back().log10_p);
  }
  if (ps.size() >= 2) r.fisher_log10_p = fisher_log10(ps);
  *out = std::move(r);
  return true;
}

nlohmann::json result_json(const RunResult& r) {
  using nlohmann::json;
  json packs = json::array();
  for (const PackResult& p : r.packs) {
    json probes = json::array(), vendors = json::array();
    for (const ProbeResult& pr : p.probes) {
      json j = {{"prompt_id", pr.prompt_id}, {"language", pr.language}, {"sample", pr.sample},
                {"response_excerpt", pr.excerpt}};
      if (p.kind == "identity") j["vendors"] = pr.vendors;
      else j["matched"] = pr.matched;
      probes.push_back(j);
    }
    for (const VendorResult& v : p.vendors)
      vendors.push_back({{"vendor", v.vendor}, {"protected", v.is_protected}, {"declared", v.declared},
                         {"count", v.count}, {"rate", v.rate}, {"ci95", {v.ci.lo, v.ci.hi}},
                         {"log10_p", v.log10_p}, {"flagged", v.flagged}});
    if (p.watermark) {
      packs.push_back({{"id", p.id}, {"version", p.version}, {"kind", p.kind}, {"source", p.source},
                       {"pack_sha256", p.sha256}, {"description", p.description}, {"threshold", p.threshold},
                       {"log10_p", p.log10_p}, {"flagged", p.flagged}, {"watermark", wm::run_json(*p.watermark)}});
      continue;
    }
    json j = {{"id", p.id}, {"version", p.version}, {"kind", p.kind}, {"source", p.source},
              {"pack_sha256", p.sha256}, {"description", p.description},
              {"chance_probability", p.chance_probability}, {"chance_source", p.chance_source},
              {"threshold", p.threshold}, {"trials", p.trials}, {"matches", p.matches},
              {"log10_p", p.log10_p}, {"flagged", p.flagged}, {"probes", probes}};
    if (p.kind == "identity") {
      j["vendors"] = vendors;
      j["declared_vendor"] = p.declared_vendor;
      j["tested_vendors"] = p.tested_vendors;
      j["vendor_threshold"] = p.vendor_threshold;
    }
    packs.push_back(j);
  }
  json out = {{"backend", r.backend}, {"packs", packs}, {"flagged", r.flagged}};
  if (r.fisher_log10_p)
    out["combined"] = {{"method", "fisher"}, {"packs", r.packs.size()}, {"log10_p", *r.fisher_log10_p}};
  return out;
}

namespace {

std::string pvalue(double log10_p) {
  if (log10_p > -4.0) return fmt::format("{:.4g}", std::pow(10.0, log10_p));
  return fmt::format("1e{:.2f}", log10_p);
}

std::string pack_text(const PackResult& p) {
  std::string out = fmt::format("pack {} v{} ({}, {}, sha256 {})\n", p.id, p.version, p.kind, p.source, p.sha256);
  if (p.watermark) return out + watermark_run_text(*p.watermark_config, *p.watermark);
  if (p.kind != "identity") {
    out += fmt::format("  matched {} of {} (chance {:.6g} each): p = {} vs threshold {:.3g}: {}\n", p.matches,
                       p.trials, p.chance_probability, pvalue(p.log10_p), p.threshold,
                       p.flagged ? "FLAGGED" : "not flagged");
  } else {
    out += fmt::format("  {} responses; declared vendor: {}; chance {:.6g} per claim; threshold {:.3g} / {} = {:.3g}\n",
                       p.trials, p.declared_vendor.empty() ? "(none)" : p.declared_vendor, p.chance_probability,
                       p.threshold, p.tested_vendors, p.vendor_threshold);
    out += fmt::format("  {:<20} {:>9} {:>6} {:>7} {:>17} {:>10}  {}\n", "vendor", "protected", "count", "rate",
                       "95% CI", "p", "decision");
    for (const VendorResult& v : p.vendors)
      out += fmt::format("  {:<20} {:>9} {:>6} {:>7.3f} {:>17} {:>10}  {}\n", escape_bytes(v.vendor, false, 20),
                         v.is_protected ? "yes" : "no", v.count, v.rate,
                         fmt::format("[{:.3f}, {:.3f}]", v.ci.lo, v.ci.hi), pvalue(v.log10_p),
                         v.declared ? "declared" : v.flagged ? "FLAGGED" : v.is_protected ? "not flagged" : "-");
    out += fmt::format("  pack p (Bonferroni) = {}: {}\n", pvalue(p.log10_p), p.flagged ? "FLAGGED" : "not flagged");
  }
  constexpr size_t kShown = 40;
  for (size_t i = 0; i < p.probes.size() && i < kShown; ++i) {
    const ProbeResult& pr = p.probes[i];
    std::string what = p.kind == "identity" ? (pr.vendors.empty() ? "-" : fmt::format("{}", fmt::join(pr.vendors, ",")))
                                            : (pr.matched ? "match" : "no match");
    out += fmt::format("    {}#{} [{}] {}: \"{}\"\n", escape_bytes(pr.prompt_id, false, 64), pr.sample,
                       pr.language.empty() ? "-" : pr.language, what,
                       escape_bytes(first_code_points(pr.excerpt, 60), false));
  }
  if (p.probes.size() > kShown) out += fmt::format("    ... {} more (--json lists every probe)\n", p.probes.size() - kShown);
  return out;
}

}  // namespace

std::string result_text(const RunResult& r) {
  std::string out = "backend: " + r.backend + "\n";
  for (const PackResult& p : r.packs) out += pack_text(p);
  if (r.fisher_log10_p)
    out += fmt::format("combined over {} packs (Fisher): p = {}\n", r.packs.size(), pvalue(*r.fisher_log10_p));
  out += std::string("result: ") + (r.flagged ? "FLAGGED" : "nothing flagged") +
         "; identity results are evidence, not proof (docs/probes.md)\n";
  return out;
}

}  // namespace pedigree::probes
