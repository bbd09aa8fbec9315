// This file implements fixtures for the lineage tests: float32 tensor
// loading through the library's readers, a minimal F32 safetensors writer,
// the function-preserving hidden permutation and a random look-alike model.
#include "tests/support/llama_fixtures.h"
#include "tests/support/test_util.h"

#include <algorithm>
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

namespace {

void put_str(std::string* s, const std::string& v) {
  put_u64(s, v.size());
  *s += v;
}

uint16_t to_half(float f) {  // exact enough for scales: round-to-nearest on normal values
  uint32_t b;
  std::memcpy(&b, &f, 4);
  uint32_t sign = (b >> 16) & 0x8000, exp = (b >> 23) & 0xFF, man = b & 0x7FFFFF;
  if (exp < 113) return static_cast<uint16_t>(sign);  // flush tiny values to zero
  uint32_t h = ((exp - 112) << 10) | (man >> 13);
  if (man & 0x1000) ++h;
  return static_cast<uint16_t>(sign | h);
}

void put_half(std::string* s, float f) {
  uint16_t h = to_half(f);
  s->push_back(static_cast<char>(h & 0xFF));
  s->push_back(static_cast<char>(h >> 8));
}

std::string quantize(const std::vector<float>& v, bool q8) {
  std::string out;
  for (size_t b = 0; b < v.size(); b += 32) {
    float amax = 0;
    for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(v[b + i]));
    float d = amax / (q8 ? 127.0f : 7.0f);
    put_half(&out, d);
    float inv = d > 0 ? 1 / half_to_float(to_half(d)) : 0;
    if (q8) {
      for (size_t i = 0; i < 32; ++i) out.push_back(static_cast<char>(static_cast<int8_t>(std::lround(v[b + i] * inv))));
      continue;
    }
    auto nib = [&](size_t i) { return static_cast<uint8_t>(std::clamp<long>(std::lround(v[b + i] * inv) + 8, 0, 15)); };
    for (size_t i = 0; i < 16; ++i) out.push_back(static_cast<char>(nib(i) | (nib(i + 16) << 4)));
  }
  return out;
}

std::string gguf_name(const std::string& hf) {
  static const std::pair<const char*, const char*> kMap[] = {
      {"self_attn.q_proj.weight", "attn_q.weight"}, {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"}, {"self_attn.o_proj.weight", "attn_output.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},  {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},  {"input_layernorm.weight", "attn_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"}};
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  size_t dot = hf.find('.', 13);
  std::string rest = hf.substr(dot + 1);
  for (auto [from, to] : kMap)
    if (rest == from) return "blk." + hf.substr(13, dot - 13) + "." + to;
  return hf;
}

}  // namespace

void write_quantized_gguf(const std::string& path, const std::map<std::string, FloatTensor>& hf, uint32_t heads,
                          const std::string& quant) {
  bool q8 = quant == "Q8_0";
  std::string info, data;
  for (const auto& [name, t] : hf) {
    FloatTensor w = t;
    if (ends_with(name, "q_proj.weight") || ends_with(name, "k_proj.weight")) {
      Matrix m{t.shape[0], t.shape[1], t.v};
      permute_qk_rows(&m, heads);
      w.v = m.v;
    }
    bool quantized = w.shape.size() == 2 && w.shape[1] % 32 == 0;
    std::string bytes = quantized ? quantize(w.v, q8) : std::string(reinterpret_cast<const char*>(w.v.data()), 4 * w.v.size());
    while (data.size() % 32) data.push_back('\0');
    put_str(&info, gguf_name(name));
    put_u32(&info, static_cast<uint32_t>(w.shape.size()));
    for (size_t d = w.shape.size(); d-- > 0;) put_u64(&info, w.shape[d]);  // innermost first
    put_u32(&info, quantized ? (q8 ? 8 : 2) : 0);
    put_u64(&info, data.size());
    data += bytes;
  }
  std::string f = "GGUF";
  put_u32(&f, 3);
  put_u64(&f, hf.size());
  put_u64(&f, 3);
  put_str(&f, "general.architecture");
  put_u32(&f, 8);
  put_str(&f, "llama");
  put_str(&f, "llama.attention.head_count");
  put_u32(&f, 4);
  put_u32(&f, heads);
  put_str(&f, "llama.attention.head_count_kv");
  put_u32(&f, 4);
  put_u32(&f, heads);
  f += info;
  while (f.size() % 32) f.push_back('\0');
  f += data;
  std::ofstream(path, std::ios::binary) << f;
}

}  // namespace pedigree::test
