// This file implements `pedigree scan`, the main job: detect, inspect, hash
// (files and tensors) and print a one-screen verdict with its reasons. Checks
// that later modules add (signature, lineage, probes) are listed as not
// evaluated until they exist, never reported as passed.
#include <fmt/format.h>

#include "cli/cli.h"
#include "cli/model_view.h"
#include "cli/progress.h"
#include "fingerprint/formats/reader.h"
#include "fingerprint/manifest.h"
#include "fingerprint/tensor_digest.h"

namespace pedigree::cli {
namespace {

const char* kNotEvaluated[] = {"signature verification", "lineage against a registry", "behavioural probes"};

std::string scan_text(const ModelArtifact& art, const TensorIndex& idx, const Manifest& m,
                      const TensorFingerprint& fp, bool flagged) {
  ModelTotals t = summarize(idx);
  size_t errors = 0;
  for (const Finding& f : art.findings) errors += f.severity == "error";
  std::string out = fmt::format("pedigree scan {}\n", art.root);
  out += fmt::format("  verdict    {}\n", flagged ? fmt::format("FLAGGED ({} error finding{})", errors, errors == 1 ? "" : "s")
                                               : std::string("pass (nothing flagged)"));
  std::string primary = art.metadata.contains("hf") ? art.metadata["hf"].value("primary_format", "") : "";
  out += fmt::format("  format     {}{}\n", art.format, primary.empty() ? "" : " (" + primary + " weights)");
  out += fmt::format("  weights    {} tensor{}, {} parameters; {}\n", group_digits(t.tensors),
                     t.tensors == 1 ? "" : "s", group_digits(t.parameters), dtype_summary(t));
  out += fmt::format("  files      {} ({}), manifest root sha256:{}\n", m.resources.size(),
                     human_bytes(m.total_bytes), to_hex(manifest_root(m.resources)));
  out += fmt::format("  tensors    named root sha256:{}\n", to_hex(fp.named_root.data(), 32));
  out += fmt::format("             content root sha256:{}\n", to_hex(fp.content_root.data(), 32));
  out += art.findings.empty() ? std::string("  findings   none\n") : "  findings\n" + findings_text(art);
  out += "  not evaluated:";
  for (const char* n : kNotEvaluated) out += fmt::format(" {};", n);
  out.back() = '\n';
  out += "  evidence   `pedigree inspect` (format, metadata, tensors), `pedigree hash --tensors` (digests)\n";
  return out;
}

}  // namespace

int run_scan(const ScanArgs& a) {
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  if (!read_model(a.path, &art, &idx, &err)) return report_error(err);
  ManifestOptions opts;
  opts.jobs = a.jobs;
  Manifest m;
  if (!enumerate_model(a.path, opts, &m, &err)) return report_error(err);
  uint64_t tensor_bytes = 0;
  for (const TensorInfo& t : idx.tensors) tensor_bytes += t.length;
  TensorFingerprint fp;
  {
    Progress p("scanning", m.total_bytes + tensor_bytes);
    if (!hash_manifest(&m, &err, p.counter())) return report_error(err);
    if (!compute_tensor_fingerprint(art, idx, &fp, &err, a.jobs, p.counter())) return report_error(err);
  }
  bool flagged = has_error_findings(art);
  std::string text;
  if (a.json) {
    nlohmann::json j = model_json(art, idx, false);
    j["verdict"] = flagged ? "flagged" : "pass";
    j["manifest_root"] = "sha256:" + to_hex(manifest_root(m.resources));
    j["tensor_named_root"] = "sha256:" + to_hex(fp.named_root.data(), 32);
    j["tensor_content_root"] = "sha256:" + to_hex(fp.content_root.data(), 32);
    j["not_evaluated"] = kNotEvaluated;
    text = json_text(j);
  } else {
    text = scan_text(art, idx, m, fp, flagged);
  }
  if (!write_output(a.output, text, &err)) return report_error(err);
  return flagged ? kFlagged : kOk;
}

}  // namespace pedigree::cli
