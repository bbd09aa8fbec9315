// This file implements the libFuzzer target of the stored lineage fingerprint
// parser: every input is parsed as a fingerprint and, when it parses, compared
// with itself and re-serialized (which must give the input back). Parsing
// must succeed or fail with an error, never crash, leak or over-allocate.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fingerprint/lineage_fp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  LineageFp fp;
  Error err;
  if (!parse_lineage_fp(bytes, "fuzz.fp", &fp, &err)) {
    if (err.message.empty()) __builtin_trap();
    return 0;
  }
  if (serialize_lineage_fp(fp) != bytes) __builtin_trap();
  LineageReport r;
  if (!compare_fingerprints(fp, fp, "a", "b", &r, &err)) {
    if (err.message.empty()) __builtin_trap();
  } else if (r.verdict.empty() || r.layers.empty()) {
    __builtin_trap();
  }
  return 0;
}
