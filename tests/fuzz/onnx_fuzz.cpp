// This file implements the libFuzzer target for the ONNX reader: the input
// bytes become an in-memory model file under a directory that does not
// exist, so external-data references cannot reach real files.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fingerprint/formats/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto file = MappedFile::from_bytes("/nonexistent-pedigree-fuzz/model.onnx", bytes);
  onnx_reader().probe(bytes.substr(0, 4096), file->path());
  ModelArtifact art;
  art.root = file->path();
  TensorIndex idx;
  Error err;
  if (onnx_reader().read(*file, &art, &idx, &err)) (void)art.metadata.dump();
  return 0;
}
