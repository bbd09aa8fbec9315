// This file implements `pedigree bom` (generate a CycloneDX AI-BOM for a
// model), `pedigree bom score` (completeness per field group) and
// `pedigree bom diff` (what changed between two BOMs; exit 1 when different).
#include <fmt/format.h>

#include <cstdlib>

#include "cli/bom_cli.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "fingerprint/formats/reader.h"
#include "fingerprint/manifest.h"
#include "fingerprint/tensor_digest.h"
#include "sbom/bom.h"
#include "sbom/bom_doc.h"
#include "sbom/diff.h"
#include "sbom/score.h"

namespace pedigree::cli {
namespace {

BomOptions options_from_args(const BomArgs& a) {
  BomOptions o;
  o.spec_version = a.spec_version;
  o.name = a.name;
  o.version = a.version;
  o.purl = a.purl;
  o.supplier = a.supplier;
  o.serial = a.serial;
  o.base_models = a.base_models;
  return o;
}

int generate(const BomArgs& a) {
  Error err;
  BomOptions opts = options_from_args(a);
  if (!check_bom_options(opts, &err) || !source_date_epoch(&opts.timestamp, &err)) return report_error(err.message);
  ModelArtifact art;
  TensorIndex idx;
  if (!read_model(a.path, &art, &idx, &err)) return report_error(err);
  Manifest listing;
  if (!enumerate_model(a.path, ManifestOptions{}, &listing, &err)) return report_error(err);
  uint64_t tensor_bytes = 0;
  for (const TensorInfo& t : idx.tensors) tensor_bytes += t.length;
  BomInputs in{&art, &idx, nullptr, {}, {}, a.path};
  TensorFingerprint fp;
  {
    Progress p("bom", listing.total_bytes + tensor_bytes);
    if (!hash_bom_files(a.path, art, a.jobs, &in.files, &in.manifest_root, p.counter(), &err)) return report_error(err);
    if (!compute_tensor_fingerprint(art, idx, &fp, &err, a.jobs, p.counter())) return report_error(err);
  }
  in.fp = &fp;
  nlohmann::json bom;
  if (!build_bom(in, opts, &bom, &err)) return report_error(err.message);
  if (!write_output(a.output, json_text(bom), &err)) return report_error(err);
  return kOk;
}

std::string score_text(const BomScore& s, const std::string& file) {
  std::string out = fmt::format("pedigree bom score {}\n  score  {:.1f} / 100\n", file, s.total);
  out += s.model_where.empty() ? "  model  none (no machine-learning-model component)\n"
                               : fmt::format("  model  {} ({})\n", s.model_name, s.model_where);
  for (const ScoreGroup& g : s.groups) {
    out += fmt::format("  {:<17} {:>4.1f} / {:g}", g.id, g.points, g.weight);
    std::string missing;
    for (const ScoreCheck& c : g.checks)
      if (!c.present) missing += fmt::format("\n      missing: {}", c.field);
    out += (missing.empty() ? std::string("  complete") : missing) + "\n";
  }
  return out;
}

std::string shorten(const std::optional<std::string>& v) {
  if (!v) return "(absent)";
  std::string s = *v;
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s.size() > 100 ? s.substr(0, 97) + "..." : s;
}

std::string change_text(const FieldChange& c, const char* indent) {
  char mark = !c.before ? '+' : !c.after ? '-' : '~';
  if (!c.before) return fmt::format("{}{} {}: {}\n", indent, mark, c.field, shorten(c.after));
  if (!c.after) return fmt::format("{}{} {}: {}\n", indent, mark, c.field, shorten(c.before));
  return fmt::format("{}{} {}: {} -> {}\n", indent, mark, c.field, shorten(c.before), shorten(c.after));
}

std::string diff_text(const BomDiff& d, const std::string& a, const std::string& b) {
  std::string out = fmt::format("pedigree bom diff {} {}\n", a, b);
  if (d.equal()) return out + "  no differences\n";
  out += fmt::format("  model {} -> {}: {} field change{}\n", d.model_before.empty() ? "(none)" : d.model_before,
                     d.model_after.empty() ? "(none)" : d.model_after, d.model.size(), d.model.size() == 1 ? "" : "s");
  for (const FieldChange& c : d.model) out += change_text(c, "    ");
  out += fmt::format("  components: {} added, {} removed, {} changed\n", d.added.size(), d.removed.size(),
                     d.changed.size());
  for (const std::string& k : d.added) out += fmt::format("    + {}\n", k);
  for (const std::string& k : d.removed) out += fmt::format("    - {}\n", k);
  for (const ComponentChange& c : d.changed) {
    out += fmt::format("    ~ {}\n", c.key);
    for (const FieldChange& f : c.changes) out += change_text(f, "        ");
  }
  return out;
}

}  // namespace

int run_bom(const BomArgs& a) {
  if (a.path.empty()) return report_error("bom: PATH is required (see 'pedigree help bom')");
  return generate(a);
}

int run_bom_score(const BomScoreArgs& a) {
  nlohmann::json bom;
  Error err;
  if (!read_bom_document(a.file, &bom, &err)) return report_error(err);
  BomScore s = score_bom(bom);
  std::string text = a.json ? json_text(score_json(s)) : score_text(s, a.file);
  if (!write_output("", text, &err)) return report_error(err);
  return kOk;
}

int run_bom_diff(const BomDiffArgs& a) {
  nlohmann::json x, y;
  Error err;
  if (!read_bom_document(a.a, &x, &err) || !read_bom_document(a.b, &y, &err)) return report_error(err);
  BomDiff d = diff_boms(x, y);
  std::string text = a.json ? json_text(diff_json(d)) : diff_text(d, a.a, a.b);
  if (!write_output("", text, &err)) return report_error(err);
  return d.equal() ? kOk : kFlagged;
}

}  // namespace pedigree::cli
