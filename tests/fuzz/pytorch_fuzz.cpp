// This file implements the libFuzzer target for the torch.save zip checkpoint
// reader: each input is read as a checkpoint from memory.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fingerprint/formats/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  auto file = MappedFile::from_bytes("fuzz.pt", std::string_view(reinterpret_cast<const char*>(data), size));
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  pytorch_reader().read(*file, &art, &idx, &err);
  (void)art.metadata.dump();
  return 0;
}
