// This file implements the libFuzzer target for JSF verification: bytes ->
// parse_bom -> jsf_verify (signature object parsing, JWK and certificate
// import, RFC 8785 canonicalization, signature checks). Must never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sbom/validate.h"
#include "signing/jsf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc;
  pedigree::Error err;
  if (!pedigree::parse_bom(bytes, "fuzz.json", &doc, &err)) return 0;
  pedigree::JsfReport r;
  (void)pedigree::jsf_verify(doc, nullptr, &r, &err);
  return 0;
}
