// This file implements fixtures for the lineage tests: float32 tensor
// loading through the library's readers, a minimal F32 safetensors writer,
// the function-preserving hidden permutation and a random look-alike model.
#include "tests/support/llama_fixtures.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "fingerprint/formats/reader.h"
#include "fingerprint/lineage_load.h"
#include "fingerprint/tensor_digest.h"

namespace pedigree::test {

std::map<std::string, FloatTensor> load_float_tensors(const std::string& path) {
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  if (!read_model(path, &art, &idx, &err)) throw std::runtime_error(err.str());
  std::map<std::string, FloatTensor> out;
  for (const TensorInfo& t : idx.tensors) {
    std::string raw;
    if (!stream_canonical_bytes(art, t, [&](const uint8_t* p, size_t n) { raw.append(reinterpret_cast<const char*>(p), n); },
                                &err))
      throw std::runtime_error(err.str());
    uint64_t n = *shape_elems(t.shape.data(), t.shape.size());
    FloatTensor f{t.shape, std::vector<float>(n)};
    if (!to_float(t.dtype, reinterpret_cast<const uint8_t*>(raw.data()), n, f.v.data()))
      throw std::runtime_error("unsupported dtype in " + t.name);
    out[t.name] = std::move(f);
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, FloatTensor>& tensors) {
  nlohmann::json h = nlohmann::json::object();
  uint64_t off = 0;
  for (const auto& [name, t] : tensors) {
    h[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {off, off + 4 * t.v.size()}}};
    off += 4 * t.v.size();
  }
  std::string header = h.dump();
  while (header.size() % 8) header += ' ';
  std::ofstream f(path, std::ios::binary);
  uint64_t len = header.size();
  f.write(reinterpret_cast<const char*>(&len), 8);
  f << header;
  for (const auto& [name, t] : tensors) f.write(reinterpret_cast<const char*>(t.v.data()), 4 * t.v.size());
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

FloatTensor permute_cols(const FloatTensor& t, const std::vector<size_t>& perm, const std::vector<float>& sign) {
  FloatTensor o = t;
  size_t rows = t.shape[0], cols = t.shape[1];
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < cols; ++i) o.v[r * cols + i] = sign[i] * t.v[r * cols + perm[i]];
  return o;
}

FloatTensor permute_rows(const FloatTensor& t, const std::vector<size_t>& perm, const std::vector<float>& sign) {
  FloatTensor o = t;
  size_t cols = t.shape.size() == 2 ? t.shape[1] : 1;
  for (size_t i = 0; i < t.shape[0]; ++i)
    for (size_t c = 0; c < cols; ++c) o.v[i * cols + c] = sign[i] * t.v[perm[i] * cols + c];
  return o;
}

}  // namespace

std::map<std::string, FloatTensor> permute_hidden(const std::map<std::string, FloatTensor>& hf,
                                                  const std::vector<size_t>& perm, const std::vector<float>& sign) {
  std::vector<float> ones(sign.size(), 1.0f);
  std::map<std::string, FloatTensor> out;
  for (const auto& [name, t] : hf) {
    if (ends_with(name, "norm.weight")) out[name] = permute_rows(t, perm, ones);
    else if (ends_with(name, "o_proj.weight") || ends_with(name, "down_proj.weight")) out[name] = permute_rows(t, perm, sign);
    else out[name] = permute_cols(t, perm, sign);  // embed_tokens, lm_head, q/k/v/gate/up
  }
  return out;
}

std::map<std::string, FloatTensor> random_like(const std::map<std::string, FloatTensor>& like, unsigned seed) {
  std::mt19937 rng(seed);
  std::map<std::string, FloatTensor> out;
  for (const auto& [name, t] : like) {
    FloatTensor o = t;
    if (ends_with(name, "norm.weight")) {
      std::fill(o.v.begin(), o.v.end(), 1.0f);
    } else {
      double ss = 0;
      for (float x : t.v) ss += static_cast<double>(x) * x;
      std::normal_distribution<float> nd(0.0f, static_cast<float>(std::sqrt(ss / t.v.size())));
      for (float& x : o.v) x = nd(rng);
    }
    out[name] = std::move(o);
  }
  return out;
}

}  // namespace pedigree::test
