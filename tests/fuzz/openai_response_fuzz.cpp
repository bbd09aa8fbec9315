// This file implements the libFuzzer target for the backend's untrusted-input
// parsers: bytes -> parse_response (chat and completion shapes, logprobs) and
// bytes -> decode_cache_entry. Must never crash, whatever the server or disk holds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/cache.h"
#include "probes/http_backend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  pedigree::probes::ProbeResponse r;
  std::string why;
  (void)pedigree::probes::parse_response("chat", bytes, &r, &why);
  (void)pedigree::probes::parse_response("completion", bytes, &r, &why);
  (void)pedigree::probes::decode_cache_entry(bytes, "{}", &r);
  return 0;
}
