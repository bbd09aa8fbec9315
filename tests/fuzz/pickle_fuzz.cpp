// This file implements the libFuzzer target for the restricted pickle reader:
// each input runs through the VM directly (plus the torch tensor walk over the
// resulting tree and the import findings) and through the pickle file reader.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fingerprint/formats/pickle_vm.h"
#include "fingerprint/formats/readers.h"
#include "fingerprint/formats/torch_pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  pickle::PickleTree tree;
  pickle::PickleSource src{"fuzz.pkl", 0};
  Error err;
  if (pickle::read_pickle(bytes, src, &tree, nullptr, &err)) {
    std::vector<Finding> findings;
    pickle::add_unsafe_import_findings(tree, src, &findings);
    std::vector<torchpk::TensorRef> refs;
    torchpk::collect_tensors(tree, src, &refs, &findings, &err);
    (void)pickle::global_names(tree);
  }
  auto file = MappedFile::from_bytes("fuzz.pkl", bytes);
  ModelArtifact art;
  TensorIndex idx;
  pickle_reader().read(*file, &art, &idx, &err);
  (void)art.metadata.dump();
  return 0;
}
