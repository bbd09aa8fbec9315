// This file implements the libFuzzer target of the probe-pack reader: every
// input is parsed as pack YAML; the reader must accept it (then every prompt
// of a canary/trigger pack has a compiled expectation, and a watermark pack has
// its section and no prompts of its own) or fail with a message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/pack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  probes::Pack pack;
  Error err;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (probes::parse_pack(bytes, "fuzz.yaml", &pack, &err)) {
    if (pack.sha256.size() != 64) __builtin_trap();
    bool wm = pack.kind == probes::PackKind::kWatermark;
    if (wm != pack.watermark.has_value() || wm != pack.prompts.empty()) __builtin_trap();
    for (const probes::Prompt& p : pack.prompts) {
      if (pack.kind != probes::PackKind::kIdentity && !p.expect) __builtin_trap();
      if (p.expect) (void)p.expect->matcher.matches("a short response.");
    }
    for (const probes::Claim& c : pack.claims) (void)c.matcher.contains("I am a model.");
  } else if (err.message.empty()) {
    __builtin_trap();
  }
  return 0;
}
