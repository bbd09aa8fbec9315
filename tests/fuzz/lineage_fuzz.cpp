// This file implements the libFuzzer target of lineage loading: every input is
// read as a GGUF file and, when it parses, compared with itself (role mapping,
// Q/K unpermute, dequantization, assignment, CKA, tests). The comparison must
// succeed or fail with an error, never crash, leak or run unbounded.
#include <cstddef>
#include <cstdint>

#include "fingerprint/formats/readers.h"
#include "fingerprint/lineage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  auto file = MappedFile::from_bytes("fuzz.gguf", {reinterpret_cast<const char*>(data), size});
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  if (!gguf_reader().read(*file, &art, &idx, &err)) return 0;
  LineageReport r;
  if (compare_lineage(art, idx, art, idx, &r, &err)) {
    if (r.verdict.empty() || r.layers.empty()) __builtin_trap();
  } else if (err.message.empty()) {
    __builtin_trap();
  }
  return 0;
}
