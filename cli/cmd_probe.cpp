// This file implements `pedigree probe`: list or validate probe packs, or
// open the model's backend (HTTP endpoint or local GGUF), run the packs and
// print the per-pack decisions (docs/probes.md; watermark packs:
// docs/watermark.md). Exit 1 when any pack is flagged or a watermark detected.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/probe_cli.h"
#include "probes/open_backend.h"
#include "probes/pack.h"
#include "probes/runner.h"
#include "probes/watermark_pack.h"

namespace pedigree::cli {
namespace {

using probes::Pack;

int list_packs(bool json) {
  std::vector<Pack> packs;
  Error err;
  if (!probes::builtin_packs(&packs, &err)) return report_error(err);
  nlohmann::json j = nlohmann::json::array();
  std::string text = fmt::format("{:<24} {:<9} {:>3} {:>7}  {}\n", "id", "kind", "v", "prompts", "description");
  for (const Pack& p : packs) {
    j.push_back({{"id", p.id}, {"kind", probes::pack_kind_name(p.kind)}, {"version", p.version},
                 {"prompts", p.prompts.size()}, {"description", p.description}, {"sha256", p.sha256}});
    text += fmt::format("{:<24} {:<9} {:>3} {:>7}  {}\n", p.id, probes::pack_kind_name(p.kind), p.version,
                        p.prompts.size(), p.description);
  }
  if (!write_output("", json ? json_text(j) : text, &err)) return report_error(err);
  return kOk;
}

int validate_pack(const std::string& path) {
  Pack p;
  Error err;
  if (!probes::load_pack_file(path, &p, &err)) return report_error(err);
  if (p.watermark) {
    probes::WatermarkAssets files;
    if (!probes::load_watermark_files(*p.watermark, &files, &err)) return report_error(err);
    std::printf("%s: valid watermark pack '%s' version %lld, scheme %s, modes %s, %zu prompts, %zu reference texts, "
                "tokenizer %s, sha256 %s\n",
                path.c_str(), p.id.c_str(), static_cast<long long>(p.version), p.watermark->scheme.c_str(),
                fmt::format("{}", fmt::join(p.watermark->modes, "+")).c_str(), p.watermark->prompts.size(),
                files.reference.size(), std::string(files.tokenizer->kind()).c_str(), p.sha256.c_str());
    return kOk;
  }
  std::printf("%s: valid %s pack '%s' version %lld, %zu prompts, sha256 %s\n", path.c_str(),
              probes::pack_kind_name(p.kind), p.id.c_str(), static_cast<long long>(p.version), p.prompts.size(),
              p.sha256.c_str());
  return kOk;
}

bool check_args(const ProbeArgs& a, std::string* why) {
  if (a.packs.empty()) return *why = "no --pack given (see 'pedigree probe --list-packs')", false;
  if (a.gguf.empty() == a.endpoint.empty())
    return *why = "give either --endpoint URL with --model NAME, or a MODEL.gguf file", false;
  if (!a.endpoint.empty() && a.model.empty()) return *why = "--endpoint needs --model NAME", false;
  if (a.concurrency < 1 || a.concurrency > 64)
    return *why = fmt::format("--concurrency {} out of range (want 1..64)", a.concurrency), false;
  return true;
}

probes::BackendOptions backend_options(const ProbeArgs& a) {
  probes::BackendOptions o;
  o.endpoint = a.endpoint;
  o.model = a.model;
  o.gguf_path = a.gguf;
  o.llama_server = a.llama_server;
  o.cache_dir = a.cache_dir;  // empty: the backend's default
  o.no_cache = a.no_cache;
  o.concurrency = a.concurrency;
  return o;
}

// Where the answers came from: sent to the model, or read from the cache.
nlohmann::json with_requests(nlohmann::json j, const ProbeArgs& a, const probes::Backend& b) {
  probes::CacheStats c = probes::cache_stats(b);
  j["requests"] = a.no_cache ? nlohmann::json{{"cache", false}}
                             : nlohmann::json{{"cache", true}, {"cache_hits", c.hits}, {"sent", c.sent}};
  return j;
}

std::string requests_line(const ProbeArgs& a, const probes::Backend& b) {
  if (a.no_cache) return "requests: cache off\n";
  probes::CacheStats c = probes::cache_stats(b);
  return fmt::format("requests: {} sent to the model, {} answered from the cache\n", c.sent, c.hits);
}

}  // namespace

int run_probe(const ProbeArgs& a) {
  if (a.list_packs) return list_packs(a.json);
  if (!a.validate_pack.empty()) return validate_pack(a.validate_pack);
  std::string why;
  if (!check_args(a, &why)) return report_error(why);
  std::vector<Pack> packs(a.packs.size());
  Error err;
  for (size_t i = 0; i < a.packs.size(); ++i)
    if (!probes::load_pack(a.packs[i], &packs[i], &err)) return report_error(err);
  std::unique_ptr<probes::Backend> backend;
  if (!probes::open_backend(backend_options(a), &backend, &err)) return report_error(err);
  probes::RunResult r;
  if (!probes::run_packs(packs, *backend, {a.concurrency, a.declared, a.watermark_keys}, &r, &err)) return report_error(err);
  std::string text = a.json ? json_text(with_requests(probes::result_json(r), a, *backend))
                             : probes::result_text(r) + requests_line(a, *backend);
  if (!write_output(a.output, text, &err)) return report_error(err);
  return r.flagged ? kFlagged : kOk;
}

}  // namespace pedigree::cli
