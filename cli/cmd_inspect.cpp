// This file implements `pedigree inspect`: read a model (file or directory)
// and show its format, metadata, tensors, totals and findings.
#include "cli/cli.h"
#include "cli/model_view.h"
#include "fingerprint/formats/reader.h"

namespace pedigree::cli {

int run_inspect(const InspectArgs& a) {
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  if (!read_model(a.path, &art, &idx, &err)) return report_error(err);
  std::string text = a.json ? json_text(model_json(art, idx, true)) : model_text(art, idx, a.all_tensors ? 0 : 40);
  if (!write_output("", text, &err)) return report_error(err);
  return has_error_findings(art) ? kFlagged : kOk;
}

}  // namespace pedigree::cli
