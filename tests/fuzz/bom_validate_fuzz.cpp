// This file implements the libFuzzer target for the CycloneDX validator:
// bytes -> parse_bom (size, depth, malformed JSON) -> validate_bom (schema of
// the specVersion, references, hashes, model cards). Must never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sbom/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc;
  pedigree::Error err;
  if (!pedigree::parse_bom(bytes, "fuzz.json", &doc, &err)) return 0;
  pedigree::BomValidation v;
  (void)pedigree::validate_bom(doc, "fuzz.json", &v, &err);
  return 0;
}
