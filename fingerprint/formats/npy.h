// This file implements the public parser of the NumPy .npy header (magic,
// version, and the Python dict literal naming descr, fortran_order and
// shape), shared by the .npy reader and the .npz reader whose members are
// .npy files. The literal is parsed strictly; nothing is ever evaluated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/artifact.h"
#include "fingerprint/dtype.h"
#include "fingerprint/error.h"

namespace pedigree {

/// What an .npy header says about its one array.
struct NpyArray {
  uint8_t major = 1;  ///< format version 1.0, 2.0 or 3.0
  uint8_t minor = 0;
  std::string descr;  ///< as written, e.g. "<f4"
  DType dtype = DType::F32;
  std::vector<uint64_t> shape;  ///< outermost-first, as written
  bool fortran_order = false;   ///< column-major data
  bool big_endian = false;      ///< '>' byte order on a type wider than one byte
  uint64_t data_offset = 0;     ///< base_offset + header end: where the data starts
  uint64_t data_length = 0;     ///< elements * element size
};

/// Parses the .npy header at the start of `bytes`. Offsets in errors and
/// `out->data_offset` are `base_offset` + position in `bytes`, so an .npz
/// member reports offsets in its archive. Does not require the data itself
/// to be present in `bytes` (a compressed member may only expose its head).
bool parse_npy_header(std::string_view bytes, const std::string& path, uint64_t base_offset,
                      NpyArray* out, Error* err);

/// parse_npy_header, then checks that the `data_length` bytes follow the
/// header within `bytes`.
bool parse_npy(std::string_view bytes, const std::string& path, uint64_t base_offset, NpyArray* out,
               Error* err);

/// Fills `out` (name, dtype, shape, offset, length, layout) for the array
/// `a`: kRaw, kByteSwap for big-endian data, or kStrided with column-major
/// strides for fortran_order. Fails for layouts a TensorInfo cannot express
/// (big-endian fortran order, big-endian complex). `file` is left to the caller.
bool npy_tensor(const NpyArray& a, const std::string& name, const std::string& path,
                TensorInfo* out, Error* err);

}  // namespace pedigree
