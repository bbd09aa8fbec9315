// This file implements the list of built-in format readers: one accessor per
// reader, each defined in that format's own source file.
#pragma once

#include "fingerprint/formats/reader.h"

namespace pedigree {

const FormatReader& safetensors_reader();  ///< safetensors (.safetensors) and its sharded index
const FormatReader& gguf_reader();         ///< GGUF v2/v3
const FormatReader& onnx_reader();         ///< ONNX ModelProto (with external data)
const FormatReader& pytorch_reader();      ///< torch.save zip checkpoints
const FormatReader& pickle_reader();       ///< legacy (non-zip) pickled checkpoints
const FormatReader& npy_reader();          ///< NumPy .npy
const FormatReader& npz_reader();          ///< NumPy .npz

}  // namespace pedigree
