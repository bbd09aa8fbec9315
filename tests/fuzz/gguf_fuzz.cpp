// This file implements the libFuzzer target of the GGUF reader: every input is
// wrapped as an in-memory file and parsed; the reader must return true or
// false with an error, never crash, leak or run unbounded.
#include <cstddef>
#include <cstdint>

#include "fingerprint/formats/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  auto file = MappedFile::from_bytes("fuzz.gguf", {reinterpret_cast<const char*>(data), size});
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  if (gguf_reader().read(*file, &art, &idx, &err)) {
    for (const TensorInfo& t : idx.tensors)
      if (t.offset + t.length > file->size()) __builtin_trap();
    (void)art.metadata.dump();
  } else if (err.message.empty()) {
    __builtin_trap();
  }
  return 0;
}
