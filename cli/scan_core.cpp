// This file implements scan_model (cli/scan_core.h): read the model, hash its
// files and tensors, and collect the reader's findings as checks. Checks that
// need evidence this pipeline does not gather yet are listed as
// "not-evaluated", never as passed.
#include "cli/scan_core.h"

#include <fmt/format.h>

#include "cli/cli.h"
#include "cli/model_view.h"
#include "fingerprint/digest.h"
#include "fingerprint/formats/reader.h"
#include "fingerprint/manifest.h"
#include "fingerprint/tensor_digest.h"

namespace pedigree::cli {
namespace {

ScanCheck reader_check(const ModelArtifact& art) {
  size_t errors = 0;
  for (const Finding& f : art.findings) errors += f.severity == "error";
  ScanCheck c{"reader", errors ? "flagged" : "pass", "", "pedigree inspect " + art.root};
  c.detail = errors ? fmt::format("{} error finding{}", errors, errors == 1 ? "" : "s")
                    : fmt::format("{} finding{}, none an error", art.findings.size(), art.findings.size() == 1 ? "" : "s");
  return c;
}

std::vector<std::pair<std::string, std::string>> summary_lines(const ModelArtifact& art, const TensorIndex& idx,
                                                               const Manifest& m, const TensorFingerprint& fp) {
  ModelTotals t = summarize(idx);
  std::string primary = art.metadata.contains("hf") ? art.metadata["hf"].value("primary_format", "") : "";
  return {
      {"format", art.format + (primary.empty() ? "" : " (" + primary + " weights)")},
      {"weights", fmt::format("{} tensor{}, {} parameters; {}", group_digits(t.tensors), t.tensors == 1 ? "" : "s",
                              group_digits(t.parameters), dtype_summary(t))},
      {"files", fmt::format("{} ({}), manifest root sha256:{}", m.resources.size(), human_bytes(m.total_bytes),
                            to_hex(manifest_root(m.resources)))},
      {"tensors", "named root sha256:" + to_hex(fp.named_root.data(), 32)},
      {"", "content root sha256:" + to_hex(fp.content_root.data(), 32)},
  };
}

nlohmann::json checks_json(const std::vector<ScanCheck>& checks) {
  nlohmann::json a = nlohmann::json::array();
  for (const ScanCheck& c : checks)
    a.push_back({{"name", c.name}, {"status", c.status}, {"detail", c.detail}, {"evidence", c.evidence}});
  return a;
}

}  // namespace

bool scan_model(const ScanRequest& req, ScanOutcome* out, Error* err) {
  out->subject = req.path.empty() ? req.endpoint : req.path;
  if (req.path.empty()) return fail(err, req.endpoint, std::nullopt, "scanning an endpoint is not implemented yet");
  ModelArtifact art;
  TensorIndex idx;
  if (!read_model(req.path, &art, &idx, err)) return false;
  ManifestOptions opts;
  opts.jobs = req.jobs;
  Manifest m;
  if (!enumerate_model(req.path, opts, &m, err)) return false;
  uint64_t tensor_bytes = 0;
  for (const TensorInfo& t : idx.tensors) tensor_bytes += t.length;
  ProgressCounter* progress = req.start_progress ? req.start_progress(m.total_bytes + tensor_bytes) : nullptr;
  if (!hash_manifest(&m, err, progress)) return false;
  TensorFingerprint fp;
  if (!compute_tensor_fingerprint(art, idx, &fp, err, req.jobs, progress)) return false;
  out->format = art.format;
  out->findings = art.findings;
  out->checks.push_back(reader_check(art));
  for (const char* n : {"signature", "lineage", "probes"})
    out->checks.push_back({n, "not-evaluated", "not gathered by scan yet", ""});
  out->flagged = has_error_findings(art);
  out->summary = summary_lines(art, idx, m, fp);
  nlohmann::json& j = out->report;
  j = model_json(art, idx, false);
  j["verdict"] = out->flagged ? "flagged" : "pass";
  j["manifest_root"] = "sha256:" + to_hex(manifest_root(m.resources));
  j["manifest_bytes"] = m.total_bytes;
  j["manifest_files"] = m.resources.size();
  j["tensor_named_root"] = "sha256:" + to_hex(fp.named_root.data(), 32);
  j["tensor_content_root"] = "sha256:" + to_hex(fp.content_root.data(), 32);
  j["checks"] = checks_json(out->checks);
  return true;
}

}  // namespace pedigree::cli
