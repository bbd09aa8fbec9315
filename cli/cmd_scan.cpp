// This file implements `pedigree scan`, the main job: run the scan pipeline
// (cli/scan_core.h) on one model and print a one-screen verdict with its
// reasons and where the evidence is, or the JSON report.
#include <optional>

#include <fmt/format.h>

#include "cli/cli.h"
#include "cli/model_view.h"
#include "cli/progress.h"
#include "cli/scan_core.h"

namespace pedigree::cli {
namespace {

std::string scan_text(const ScanOutcome& o, const std::string& findings) {
  size_t flagged = 0;
  for (const ScanCheck& c : o.checks) flagged += c.status == "flagged";
  std::string out = fmt::format("pedigree scan {}\n", o.subject);
  out += fmt::format("  verdict    {}\n", o.flagged ? fmt::format("FLAGGED ({} check{})", flagged, flagged == 1 ? "" : "s")
                                                  : std::string("pass (nothing flagged)"));
  for (const auto& [label, value] : o.summary) out += fmt::format("  {:<10} {}\n", label, value);
  out += findings.empty() ? std::string("  findings   none\n") : "  findings\n" + findings;
  out += "  checks\n";
  for (const ScanCheck& c : o.checks) {
    out += fmt::format("    {:<13} {:<13} {}\n", c.name, c.status, c.detail);
    if (!c.evidence.empty()) out += fmt::format("    {:<13} {:<13} evidence: {}\n", "", "", c.evidence);
  }
  return out;
}

}  // namespace

int run_scan(const ScanArgs& a) {
  ScanRequest req;
  req.path = a.path;
  req.jobs = a.jobs;
  std::optional<Progress> progress;
  req.start_progress = [&](uint64_t total) { return progress.emplace("scanning", total).counter(); };
  ScanOutcome o;
  Error err;
  bool ok = scan_model(req, &o, &err);
  progress.reset();
  if (!ok) return report_error(err);
  std::string text = a.json ? json_text(o.report) : scan_text(o, findings_text(o.findings));
  if (!write_output(a.output, text, &err)) return report_error(err);
  return o.flagged ? kFlagged : kOk;
}

}  // namespace pedigree::cli
