// This file implements the libFuzzer target for the Sigstore trusted root
// reader and the Rekor checkpoint parser: any bytes go through
// parse_trusted_root and parse_checkpoint.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "signing/rekor.h"
#include "signing/trusted_root.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  pedigree::TrustedRoot root;
  pedigree::Error err;
  pedigree::parse_trusted_root(text, "fuzz.json", &root, &err);
  pedigree::Checkpoint cp;
  std::string why;
  pedigree::parse_checkpoint(text, &cp, &why);
  pedigree::parse_rfc3339(text);
  return 0;
}
