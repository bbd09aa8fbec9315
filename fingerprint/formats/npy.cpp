// PLACEHOLDER: replaced by the real npy reader (work in progress, not committed as done).
#include "fingerprint/formats/readers.h"
namespace pedigree {
namespace {
class Placeholder final : public FormatReader {
 public:
  std::string_view name() const override { return "npy"; }
  Confidence probe(std::string_view, std::string_view) const override { return Confidence::kNo; }
  bool read(const MappedFile& f, ModelArtifact*, TensorIndex*, Error* err) const override {
    return fail(err, f.path(), std::nullopt, "npy reader not implemented");
  }
};
}  // namespace
const FormatReader& npy_reader() { static Placeholder r; return r; }
}  // namespace pedigree
