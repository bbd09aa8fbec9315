// This file implements the libFuzzer target of the .npy reader: each input
// is read as an in-memory weights.npy file, then its header is parsed again
// at a nonzero base offset as the .npz reader does for archive members.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fingerprint/formats/npy.h"
#include "fingerprint/formats/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto file = MappedFile::from_bytes("weights.npy", bytes);
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  art.root = "weights.npy";
  npy_reader().read(*file, &art, &idx, &err);
  NpyArray a;
  if (parse_npy_header(bytes, "a.npz", 1000, &a, &err)) {
    TensorInfo t;
    npy_tensor(a, "a", "a.npz", &t, &err);
  }
  return 0;
}
