// This file implements `pedigree scan`, the main job: run the scan pipeline
// (cli/scan_core.h) on one model or endpoint, write the AI-BOM and the report
// to -o DIR, and print a one-screen verdict with its reasons and where the
// evidence is, or the JSON report.
#include <algorithm>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "cli/cli.h"
#include "cli/model_view.h"
#include "cli/progress.h"
#include "cli/scan_core.h"
#include "sbom/bom.h"

namespace pedigree::cli {
namespace {

namespace fs = std::filesystem;

std::string scan_text(const ScanOutcome& o, const std::string& findings, const std::vector<std::string>& written) {
  size_t flagged = 0;
  for (const ScanCheck& c : o.checks) flagged += c.status == "flagged";
  std::string out = fmt::format("pedigree scan {}\n", o.subject);
  out += fmt::format("  verdict    {}\n", o.flagged ? fmt::format("FLAGGED ({} check{})", flagged, flagged == 1 ? "" : "s")
                                                  : std::string("pass (nothing flagged)"));
  for (const auto& [label, value] : o.summary) out += fmt::format("  {:<10} {}\n", label, value);
  if (!o.format.empty()) out += findings.empty() ? std::string("  findings   none\n") : "  findings\n" + findings;
  out += "  checks\n";
  size_t width = 13;  // the name column fits the longest check name ("probe:<pack id>")
  for (const ScanCheck& c : o.checks) width = std::max(width, c.name.size());
  for (const ScanCheck& c : o.checks) {
    out += fmt::format("    {:<{}} {:<13} {}\n", c.name, width, c.status, c.detail);
    if (!c.evidence.empty()) out += fmt::format("    {:<{}} {:<13} evidence: {}\n", "", width, "", c.evidence);
  }
  for (size_t i = 0; i < written.size(); ++i) out += fmt::format("  {:<10} {}\n", i ? "" : "evidence", written[i]);
  return out;
}

bool check_args(const ScanArgs& a, std::string* why) {
  if (a.path.empty() && a.endpoint.empty()) return *why = "scan: give PATH or --endpoint URL", false;
  if (!a.endpoint.empty() && a.model.empty()) return *why = "--endpoint needs --model NAME", false;
  if (a.endpoint.empty() && !a.model.empty()) return *why = "--model needs --endpoint URL", false;
  int trusts = !a.key.empty() + !a.cert_root.empty() + !a.trust_root.empty();
  if (trusts > 1) return *why = "give at most one of --key, --cert-root and --trust-root", false;
  if (!a.trust_root.empty() && (a.identity.empty() || a.issuer.empty()))
    return *why = "--trust-root needs --identity and --issuer", false;
  if (a.path.empty() && (trusts || !a.sig.empty() || !a.registry.empty()))
    return *why = "--sig, --key, --cert-root, --trust-root and --registry need a model PATH", false;
  return true;
}

ScanRequest request_from_args(const ScanArgs& a) {
  ScanRequest r;
  r.path = a.path;
  r.endpoint = a.endpoint;
  r.model = a.model;
  r.packs = a.packs;
  r.signature = a.sig;
  r.registry = a.registry;
  r.jobs = a.jobs;
  r.key = a.key;
  r.cert_roots = a.cert_root;
  r.cert_chain = a.cert_chain;
  r.trust_root = a.trust_root;
  r.identity = a.identity;
  r.issuer = a.issuer;
  r.llama_server = a.llama_server;
  r.cache_dir = a.cache_dir;
  r.no_cache = a.no_cache;
  r.concurrency = a.concurrency;
  r.declared = a.declared;
  r.watermark_keys = a.watermark_keys;
  r.bom_serial = a.serial;
  return r;
}

// Writes DIR/<name>.scan.json and, for a model, DIR/<name>.cdx.json; returns the lines naming them.
bool write_evidence(const std::string& dir, const ScanOutcome& o, std::vector<std::string>* lines, Error* err) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec)) return fail(err, dir, std::nullopt, "cannot create output directory");
  std::string base = (fs::path(dir) / o.name).string();
  if (!o.bom.is_null()) {
    if (!write_output(base + ".cdx.json", json_text(o.bom), err)) return false;
    lines->push_back(base + ".cdx.json (CycloneDX AI-BOM, results as pedigree:scan:* properties)");
  }
  if (!write_output(base + ".scan.json", json_text(o.report), err)) return false;
  lines->push_back(base + ".scan.json (full scan report)");
  return true;
}

}  // namespace

int run_scan(const ScanArgs& a) {
  std::string why;
  if (!check_args(a, &why)) return report_error(why);
  ScanRequest req = request_from_args(a);
  Error err;
  BomOptions serial_only;
  serial_only.serial = a.serial;
  if (!check_bom_options(serial_only, &err) || !source_date_epoch(&req.bom_timestamp, &err))
    return report_error(err.message);
  std::optional<Progress> progress;
  req.start_progress = [&](uint64_t total) { return progress.emplace("scanning", total).counter(); };
  ScanOutcome o;
  bool ok = scan_model(req, &o, &err);
  progress.reset();
  if (!ok) return report_error(err);
  std::vector<std::string> written;
  if (!a.output_dir.empty() && !write_evidence(a.output_dir, o, &written, &err)) return report_error(err);
  std::string text = a.json ? json_text(o.report) : scan_text(o, findings_text(o.findings), written);
  if (!write_output("", text, &err)) return report_error(err);
  return o.flagged ? kFlagged : kOk;
}

}  // namespace pedigree::cli
