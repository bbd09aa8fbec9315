// This file implements the libFuzzer target of the safetensors reader: each
// input is read once as a single .safetensors file and once as a shard index
// (in a directory that does not exist, so no shard is ever opened).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fingerprint/formats/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (const char* path :
       {"fuzz.safetensors", "/nonexistent-pedigree-fuzz/m.safetensors.index.json"}) {
    auto file = MappedFile::from_bytes(path, bytes);
    ModelArtifact art;
    TensorIndex idx;
    Error err;
    art.root = path;
    safetensors_reader().read(*file, &art, &idx, &err);
  }
  return 0;
}
