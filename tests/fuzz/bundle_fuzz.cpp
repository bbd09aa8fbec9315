// This file implements the libFuzzer target for the OMS bundle reader: any
// bytes go through parse_bundle and, when a payload comes out, through
// parse_statement, and a keyless bundle through the keyless checks with an
// empty trusted root (certificate, SCT, tlog and RFC 3161 decoding); the raw
// input is also parsed as a statement.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "signing/bundle.h"
#include "signing/keyless.h"
#include "signing/statement.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  pedigree::Bundle b;
  pedigree::Error err;
  pedigree::Statement st;
  if (pedigree::parse_bundle(text, "fuzz.sig", &b, &err) == pedigree::BundleStatus::kOk)
    pedigree::parse_statement(b.payload, "fuzz.sig", &st, &err);
  if (b.material == pedigree::BundleMaterial::kCertificate)
    pedigree::verify_keyless(b, pedigree::TrustedRoot(), {"fuzz@example.com", "https://issuer.example"});
  pedigree::parse_statement(text, "fuzz.sig", &st, &err);
  return 0;
}
