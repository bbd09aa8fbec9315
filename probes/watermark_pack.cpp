// This file implements the watermark side of `pedigree probe`: the pack's
// tokenizer and reference text are loaded and every --watermark-key file is
// matched to the packs that list its fingerprint before any request is sent;
// the summary prints fingerprints and statistics only, never key bytes.
#include "probes/watermark_pack.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace pedigree::probes {
namespace {

bool lists(const wm::WatermarkConfig& cfg, const std::string& fp) {
  return std::find(cfg.key_fingerprints.begin(), cfg.key_fingerprints.end(), fp) != cfg.key_fingerprints.end();
}

std::string pvalue(double log10_p) {
  if (log10_p > -4.0) return fmt::format("{:.4g}", std::pow(10.0, log10_p));
  return fmt::format("1e{:.2f}", log10_p);
}

std::string dedup_name(wm::Dedup d) {
  switch (d) {
    case wm::Dedup::kTuple: return "tuple";
    case wm::Dedup::kWindow: return "window";
    case wm::Dedup::kOff: return "off (p-values invalid)";
  }
  return "?";
}

}  // namespace

bool load_watermark_files(const wm::WatermarkConfig& cfg, WatermarkAssets* out, Error* err) {
  out->tokenizer = load_tokenizer(cfg.tokenizer, err);
  if (!out->tokenizer) return false;
  out->reference.clear();
  return cfg.reference.empty() || wm::load_reference(cfg.reference, &out->reference, err);
}

bool assign_watermark_keys(const std::vector<Pack>& packs, const std::vector<std::string>& key_paths,
                           std::vector<std::vector<wm::WatermarkKey>>* out, Error* err) {
  out->assign(packs.size(), {});
  bool any_pack = std::any_of(packs.begin(), packs.end(), [](const Pack& p) { return p.watermark.has_value(); });
  if (!key_paths.empty() && !any_pack)
    return fail(err, key_paths[0], std::nullopt, "--watermark-key given but no --pack is a watermark pack");
  std::vector<std::string> seen;
  for (const std::string& path : key_paths) {
    wm::WatermarkKey k;
    if (!wm::load_key_file(path, &k, err)) return false;
    std::string fp = k.fingerprint();
    if (std::find(seen.begin(), seen.end(), fp) != seen.end())
      return fail(err, path, std::nullopt, "key fingerprint " + fp + " given twice");
    seen.push_back(fp);
    bool used = false;
    for (size_t i = 0; i < packs.size(); ++i) {
      const auto& cfg = packs[i].watermark;
      if (!cfg || !lists(*cfg, fp)) continue;
      if (!wm::check_key(k, path, fp, cfg->scheme, cfg->gamma, cfg->h, err)) return false;
      (*out)[i].push_back(k);
      used = true;
    }
    if (!used)
      return fail(err, path, std::nullopt, "key fingerprint " + fp + " does not match any of the pack's key_fingerprints");
  }
  for (size_t i = 0; i < packs.size(); ++i)
    if (packs[i].watermark && (*out)[i].empty())
      return fail(err, packs[i].source, std::nullopt,
                  "watermark pack needs --watermark-key FILE for one of its key_fingerprints (" +
                      fmt::format("{}", fmt::join(packs[i].watermark->key_fingerprints, ", ")) + ")");
  return true;
}

bool load_watermark_assets(const std::vector<Pack>& packs, const std::vector<std::string>& key_paths,
                           std::vector<WatermarkAssets>* out, Error* err) {
  std::vector<std::vector<wm::WatermarkKey>> keys;
  if (!assign_watermark_keys(packs, key_paths, &keys, err)) return false;
  out->clear();
  out->resize(packs.size());
  for (size_t i = 0; i < packs.size(); ++i) {
    if (!packs[i].watermark) continue;
    if (!load_watermark_files(*packs[i].watermark, &(*out)[i], err)) return false;
    (*out)[i].keys = std::move(keys[i]);
  }
  return true;
}

std::string watermark_run_text(const wm::WatermarkConfig& cfg, const wm::WatermarkRun& run) {
  std::string out = fmt::format("  scheme {}, gamma {:.3g}, h {}, dedup {}; {} test(s) (keys x modes, Bonferroni)\n",
                                cfg.scheme, cfg.gamma, cfg.h, dedup_name(cfg.dedup), run.tests);
  out += fmt::format("  {:<8} {:<16} {:>8} {:>7} {:>6} {:>7} {:>8} {:>9}\n", "mode", "key", "requests", "scored",
                     "green", "fraction", "z", "log10 p");
  for (const wm::WatermarkReport& r : run.reports)
    for (const wm::KeyReport& k : r.keys) {
      const wm::ScoreSummary& s = k.summary;
      double frac = s.n ? static_cast<double>(s.green) / static_cast<double>(s.n) : 0.0;
      out += fmt::format("  {:<8} {:<16} {:>8} {:>7} {:>6} {:>7.4f} {:>8.2f} {:>9.2f}\n", r.mode, k.key_fingerprint,
                         r.requests, s.n, s.green, frac, s.z, s.log10_p);
    }
  out += fmt::format("  p (Bonferroni) = {} vs threshold {:.3g}: {}\n", pvalue(run.log10_p_adjusted), run.threshold,
                     run.detected ? "DETECTED (flagged)" : "not detected");
  return out;
}

}  // namespace pedigree::probes
