// This file implements the libFuzzer target of the .npz reader: each input is
// read as an in-memory arrays.npz, and every tensor it yields is hashed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fingerprint/formats/readers.h"
#include "fingerprint/tensor_digest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  auto file = MappedFile::from_bytes("arrays.npz", std::string_view(reinterpret_cast<const char*>(data), size));
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  art.root = "arrays.npz";
  npz_reader().read(*file, &art, &idx, &err);
  return 0;
}
