// This file implements fixtures for the lineage tests: reading every tensor of
// a model as float32, writing tensors back as an F32 safetensors file, and the
// function-preserving hidden-unit permutation + sign flip of a llama model.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pedigree::test {

/// One float32 tensor.
struct FloatTensor {
  std::vector<uint64_t> shape;
  std::vector<float> v;
};

/// Every tensor of the model at `path` as float32 (F32/F16 only), by name.
std::map<std::string, FloatTensor> load_float_tensors(const std::string& path);

/// Writes `tensors` as an F32 safetensors file at `path`.
void write_safetensors(const std::string& path, const std::map<std::string, FloatTensor>& tensors);

/// Hidden unit i of the result is unit perm[i] of `hf` times sign[i]: embeddings,
/// lm_head and every reader (q/k/v/gate/up) by columns, every writer (o/down)
/// by rows, norm weights permuted (no sign). The network computes the same function.
std::map<std::string, FloatTensor> permute_hidden(const std::map<std::string, FloatTensor>& hf,
                                                  const std::vector<size_t>& perm, const std::vector<float>& sign);

/// Same names and shapes as `like`, fresh normal weights with each tensor's
/// standard deviation (norm weights set to 1): an untrained independent model.
std::map<std::string, FloatTensor> random_like(const std::map<std::string, FloatTensor>& like, unsigned seed);

/// Writes the Hugging Face tiny llama `hf` as a llama.cpp-style GGUF v3 file:
/// llama.cpp names, Q/K rows permuted for `heads` heads, 2-D tensors whose
/// rows are a multiple of 32 quantized to `quant` ("Q8_0" or "Q4_0"), the rest F32.
void write_quantized_gguf(const std::string& path, const std::map<std::string, FloatTensor>& hf, uint32_t heads,
                          const std::string& quant);

}  // namespace pedigree::test
