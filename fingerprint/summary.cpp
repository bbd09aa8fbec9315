// This file implements summarize() and has_error_findings().
#include "fingerprint/summary.h"

namespace pedigree {
namespace {
uint64_t sat_add(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}
}  // namespace

ModelTotals summarize(const TensorIndex& idx) {
  ModelTotals t;
  for (const TensorInfo& x : idx.tensors) {
    uint64_t elems = shape_elems(x.shape.data(), x.shape.size()).value_or(UINT64_MAX);
    DTypeTotals& d = t.by_dtype[std::string(dtype_name(x.dtype))];
    ++d.tensors;
    d.elements = sat_add(d.elements, elems);
    d.bytes = sat_add(d.bytes, x.length);
    ++t.tensors;
    t.parameters = sat_add(t.parameters, elems);
    t.bytes = sat_add(t.bytes, x.length);
  }
  return t;
}

bool has_error_findings(const ModelArtifact& art) {
  for (const Finding& f : art.findings)
    if (f.severity == "error") return true;
  return false;
}

}  // namespace pedigree
