// PLACEHOLDER: replaced by the real directory reader.
#include "fingerprint/formats/hf_dir.h"
namespace pedigree {
bool read_model_directory(const std::string& dir, ModelArtifact*, TensorIndex*, Error* err) {
  return fail(err, dir, std::nullopt, "directory reader not implemented");
}
}  // namespace pedigree
