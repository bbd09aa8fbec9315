// This file implements the PyTorch layer shared by the zip (pytorch.cpp) and
// legacy (pickle.cpp) checkpoint readers: it walks a pickle data tree, names
// every tensor rebuilt by torch._utils._rebuild_tensor(_v2) after its dict /
// list path, resolves its storage persistent id, and validates strided views.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fingerprint/artifact.h"
#include "fingerprint/dtype.h"
#include "fingerprint/error.h"
#include "fingerprint/formats/pickle_vm.h"

namespace pedigree::torchpk {

/// One tensor found in a checkpoint's object pickle.
struct TensorRef {
  std::string name;                ///< "model.layers.0.weight"; "tensor" for a bare tensor
  std::string key;                 ///< storage key from the persistent id
  DType dtype = DType::F32;
  uint64_t numel = 0;              ///< storage elements the persistent id declares
  uint64_t storage_offset = 0;     ///< in elements
  std::vector<uint64_t> shape;
  std::vector<int64_t> strides;
  uint64_t offset = 0;             ///< offset of the rebuild REDUCE opcode
  std::optional<uint64_t> view_offset;  ///< legacy view_metadata: element offset into the root storage
  uint64_t view_size = 0;               ///< legacy view_metadata: elements of the view
};

/// DType of a torch storage class name ("FloatStorage" -> F32); nullopt if unknown.
std::optional<DType> storage_dtype(std::string_view name);

/// Collects every tensor of `tree`, in walk order. Unsupported tensor kinds
/// (quantized, sparse, ...) become "unsupported-tensor" warnings in `findings`.
bool collect_tensors(const pickle::PickleTree& tree, const pickle::PickleSource& src,
                     std::vector<TensorRef>* out, std::vector<Finding>* findings, Error* err);

/// Checks that the view of `t` fits in `storage_elems` elements of its storage
/// and computes its canonical byte length into `*length`.
bool check_view(const TensorRef& t, uint64_t storage_elems, const std::string& path,
                uint64_t* length, Error* err);

/// True when strides are C-contiguous for the shape (size-1 dims ignored).
bool is_contiguous(const std::vector<uint64_t>& shape, const std::vector<int64_t>& strides);

/// The sorted unique "module.name" of every global reference, as a JSON array.
nlohmann::json globals_json(const pickle::PickleTree& tree);

}  // namespace pedigree::torchpk
