// This file implements tensor loading for lineage: canonical bytes to float32
// (plain floats, F8 and the ggml Q8_0/Q4_0 blocks, written from the block
// definitions) and the llama role mapping for Hugging Face and GGUF names.
#include "fingerprint/lineage_load.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "fingerprint/mapped_file.h"
#include "fingerprint/tensor_digest.h"

namespace pedigree {
namespace {

constexpr uint64_t kMaxLayers = 4096;
constexpr size_t kQ8Block = 34;  // f16 d + 32 int8
constexpr size_t kQ4Block = 18;  // f16 d + 16 bytes of nibbles

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

float bits_to_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

float e4m3_to_float(uint8_t b) {
  int sign = b >> 7, exp = (b >> 3) & 0xF, man = b & 7;
  if (exp == 15 && man == 7) return std::numeric_limits<float>::quiet_NaN();
  float v = exp == 0 ? std::ldexp(man / 8.0f, -6) : std::ldexp(1.0f + man / 8.0f, exp - 7);
  return sign ? -v : v;
}

void dequant_q8_0(const uint8_t* p, uint64_t blocks, float* out) {
  for (uint64_t b = 0; b < blocks; ++b, p += kQ8Block) {
    float d = half_to_float(le16(p));
    for (int i = 0; i < 32; ++i) *out++ = d * static_cast<float>(static_cast<int8_t>(p[2 + i]));
  }
}

void dequant_q4_0(const uint8_t* p, uint64_t blocks, float* out) {
  for (uint64_t b = 0; b < blocks; ++b, p += kQ4Block, out += 32) {
    float d = half_to_float(le16(p));
    for (int i = 0; i < 16; ++i) {
      out[i] = d * static_cast<float>((p[2 + i] & 0x0F) - 8);
      out[i + 16] = d * static_cast<float>((p[2 + i] >> 4) - 8);
    }
  }
}

// "model.layers.12.self_attn.q_proj.weight" -> (12, "self_attn.q_proj.weight").
bool split_layer(const std::string& name, const std::string& prefix, uint64_t* layer, std::string* rest) {
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  size_t i = prefix.size(), start = i;
  uint64_t n = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && i - start < 6) n = n * 10 + (name[i++] - '0');
  if (i == start || i >= name.size() || name[i] != '.') return false;
  *layer = n;
  *rest = name.substr(i + 1);
  return true;
}

const TensorInfo** role_slot(LlamaLayer& l, const std::string& rest, bool gguf) {
  static const char* const kHf[] = {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                                    "self_attn.o_proj.weight", "mlp.gate_proj.weight",    "mlp.up_proj.weight",
                                    "mlp.down_proj.weight"};
  static const char* const kGguf[] = {"attn_q.weight",   "attn_k.weight",  "attn_v.weight",  "attn_output.weight",
                                      "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"};
  const TensorInfo** slots[] = {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down};
  for (int i = 0; i < 7; ++i)
    if (rest == (gguf ? kGguf[i] : kHf[i])) return slots[i];
  return nullptr;
}

const nlohmann::json* gguf_kv(const ModelArtifact& art, const std::string& key) {
  auto g = art.metadata.find("gguf");
  if (g == art.metadata.end() || !g->contains("kv")) return nullptr;
  const nlohmann::json& kv = (*g)["kv"];
  auto it = kv.find(key);
  if (it == kv.end()) return nullptr;
  if (it->is_object() && it->contains("value")) return &(*it)["value"];
  return &*it;
}

bool gguf_count(const ModelArtifact& art, const std::string& key, uint64_t* out) {
  const nlohmann::json* v = gguf_kv(art, key);
  if (!v || !v->is_number_integer() || v->get<int64_t>() <= 0 || v->get<int64_t>() > 65536) return false;
  *out = static_cast<uint64_t>(v->get<int64_t>());
  return true;
}

bool check_gguf_arch(const ModelArtifact& art, LlamaModel* m, Error* err) {
  const nlohmann::json* arch = gguf_kv(art, "general.architecture");
  if (arch && arch->is_string() && arch->get<std::string>() != "llama")
    return fail(err, art.root, std::nullopt,
                "unsupported architecture '" + escape_bytes(arch->get<std::string>(), true, 64) +
                    "' (this version compares llama models)");
  if (!gguf_count(art, "llama.attention.head_count", &m->n_head))
    return fail(err, art.root, std::nullopt,
                "missing or invalid metadata llama.attention.head_count (needed to undo llama.cpp's q/k row order)");
  if (!gguf_count(art, "llama.attention.head_count_kv", &m->n_head_kv)) m->n_head_kv = m->n_head;
  return true;
}

bool collect_layers(const ModelArtifact& art, const TensorIndex& idx, bool gguf, LlamaModel* m, Error* err) {
  const std::string prefix = gguf ? "blk." : "model.layers.";
  for (const TensorInfo& t : idx.tensors) {
    uint64_t layer = 0;
    std::string rest;
    if (!split_layer(t.name, prefix, &layer, &rest)) continue;
    if (layer >= kMaxLayers)
      return fail(err, art.root, std::nullopt,
                  "layer index " + std::to_string(layer) + " exceeds " + std::to_string(kMaxLayers));
    if (m->layers.size() <= layer) m->layers.resize(layer + 1);
    if (const TensorInfo** slot = role_slot(m->layers[layer], rest, gguf)) *slot = &t;
  }
  if (m->layers.empty()) return fail(err, art.root, std::nullopt, "no decoder layers (" + prefix + "N.*)");
  for (size_t i = 0; i < m->layers.size(); ++i)
    if (!m->layers[i].q || !m->layers[i].k)
      return fail(err, art.root, std::nullopt, "layer " + std::to_string(i) + " has no attention q/k projection");
  return true;
}

}  // namespace

float half_to_float(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(man), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return bits_to_float((sign << 31) | 0x7F800000u | (man << 13));
  return bits_to_float((sign << 31) | ((exp + 112) << 23) | (man << 13));
}

bool to_float(DType dtype, const uint8_t* p, uint64_t n, float* out) {
  switch (dtype) {
    case DType::F32: std::memcpy(out, p, n * 4); return true;
    case DType::F64:
      for (uint64_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      return true;
    case DType::F16:
      for (uint64_t i = 0; i < n; ++i) out[i] = half_to_float(le16(p + 2 * i));
      return true;
    case DType::BF16:
      for (uint64_t i = 0; i < n; ++i) out[i] = bits_to_float(static_cast<uint32_t>(le16(p + 2 * i)) << 16);
      return true;
    case DType::F8_E4M3:
      for (uint64_t i = 0; i < n; ++i) out[i] = e4m3_to_float(p[i]);
      return true;
    case DType::F8_E5M2:
      for (uint64_t i = 0; i < n; ++i) out[i] = half_to_float(static_cast<uint16_t>(p[i] << 8));
      return true;
    case DType::Q8_0: dequant_q8_0(p, n / 32, out); return n % 32 == 0;
    case DType::Q4_0: dequant_q4_0(p, n / 32, out); return n % 32 == 0;
    default: return false;
  }
}

bool load_matrix(const ModelArtifact& art, const TensorInfo& t, Matrix* out, Error* err) {
  const std::string where = art.root;
  if (t.shape.size() != 2)
    return fail(err, where, std::nullopt,
                "tensor '" + t.name + "' has rank " + std::to_string(t.shape.size()) + ", expected a matrix");
  auto n = shape_elems(t.shape.data(), 2);
  auto bytes = n ? dtype_bytes(t.dtype, *n) : std::nullopt;
  if (!bytes || *bytes != t.length || t.length > kMaxLineageTensorBytes)
    return fail(err, where, std::nullopt,
                "tensor '" + t.name + "' size " + human_bytes(t.length) + " is invalid or exceeds " +
                    human_bytes(kMaxLineageTensorBytes));
  std::vector<uint8_t> raw;
  raw.reserve(t.length);
  if (!stream_canonical_bytes(art, t, [&](const uint8_t* p, size_t k) { raw.insert(raw.end(), p, p + k); }, err))
    return false;
  if (raw.size() != t.length)
    return fail(err, where, std::nullopt, "tensor '" + t.name + "' yielded " + std::to_string(raw.size()) +
                                              " bytes, expected " + std::to_string(t.length));
  out->rows = t.shape[0];
  out->cols = t.shape[1];
  out->v.assign(*n, 0.0f);
  if (!to_float(t.dtype, raw.data(), *n, out->v.data()))
    return fail(err, where, std::nullopt,
                "tensor '" + t.name + "' has unsupported type " + std::string(dtype_name(t.dtype)) +
                    " (lineage reads F64, F32, F16, BF16, F8_E4M3, F8_E5M2, Q8_0, Q4_0)");
  for (size_t i = 0; i < out->v.size(); ++i)
    if (!std::isfinite(out->v[i]))
      return fail(err, where, std::nullopt,
                  "tensor '" + t.name + "' element " + std::to_string(i) + " is not finite");
  return true;
}

namespace {

bool check_finite(const ModelArtifact& art, const TensorInfo& t, const Matrix& m, Error* err) {
  for (size_t i = 0; i < m.v.size(); ++i)
    if (!std::isfinite(m.v[i]))
      return fail(err, art.root, std::nullopt, "tensor '" + t.name + "' element " + std::to_string(i) + " is not finite");
  return true;
}

// Rows of a raw tensor read in place from the mapped file.
bool load_raw_rows(const ModelArtifact& art, const TensorInfo& t, const std::vector<uint64_t>& ids, uint64_t row_bytes,
                   Matrix* out, Error* err) {
  auto f = MappedFile::open(art.files[t.file].path, err);
  if (!f) return false;
  if (t.offset > f->size() || t.length > f->size() - t.offset)
    return fail(err, art.files[t.file].path, t.offset,
                "tensor '" + t.name + "' (" + human_bytes(t.length) + ") extends past the end of the file");
  // Scattered rows of a file that is often not in the page cache: ask for
  // exactly those pages at once, then convert.
  f->advise_random();
  for (uint64_t id : ids) f->will_need(t.offset + id * row_bytes, row_bytes);
  for (size_t r = 0; r < ids.size(); ++r)
    if (!to_float(t.dtype, f->data() + t.offset + ids[r] * row_bytes, out->cols, &out->v[r * out->cols]))
      return fail(err, art.root, std::nullopt,
                  "tensor '" + t.name + "' has unsupported type " + std::string(dtype_name(t.dtype)) +
                      " (lineage reads F64, F32, F16, BF16, F8_E4M3, F8_E5M2, Q8_0, Q4_0)");
  return true;
}

}  // namespace

bool load_rows(const ModelArtifact& art, const TensorInfo& t, const std::vector<uint64_t>& ids, Matrix* out,
               Error* err) {
  if (t.shape.size() != 2)
    return fail(err, art.root, std::nullopt,
                "tensor '" + t.name + "' has rank " + std::to_string(t.shape.size()) + ", expected a matrix");
  uint64_t rows = t.shape[0], cols = t.shape[1];
  for (uint64_t id : ids)
    if (id >= rows)
      return fail(err, art.root, std::nullopt,
                  "tensor '" + t.name + "' has " + std::to_string(rows) + " rows, row " + std::to_string(id) + " wanted");
  auto row_bytes = dtype_bytes(t.dtype, cols);
  auto n = shape_elems(t.shape.data(), 2);
  auto total = n ? dtype_bytes(t.dtype, *n) : std::nullopt;
  if (t.layout == TensorLayout::kRaw && row_bytes && total && *total == t.length && *row_bytes * rows == t.length) {
    out->rows = ids.size();
    out->cols = cols;
    out->v.assign(ids.size() * cols, 0.0f);
    return load_raw_rows(art, t, ids, *row_bytes, out, err) && check_finite(art, t, *out, err);
  }
  Matrix full;
  if (!load_matrix(art, t, &full, err)) return false;
  out->rows = ids.size();
  out->cols = cols;
  out->v.resize(ids.size() * cols);
  for (size_t r = 0; r < ids.size(); ++r) std::copy_n(&full.v[ids[r] * cols], cols, &out->v[r * cols]);
  return true;
}

void unpermute_qk_rows(Matrix* m, uint64_t heads) {
  size_t hd = m->rows / heads, half = hd / 2;
  std::vector<float> out(m->v.size());
  for (size_t h = 0; h < heads; ++h)
    for (size_t j = 0; j < half; ++j)
      for (size_t s = 0; s < 2; ++s)
        std::memcpy(&out[(h * hd + s * half + j) * m->cols], &m->v[(h * hd + 2 * j + s) * m->cols],
                    m->cols * sizeof(float));
  m->v.swap(out);
}

void permute_qk_rows(Matrix* m, uint64_t heads) {
  size_t hd = m->rows / heads, half = hd / 2;
  std::vector<float> out(m->v.size());
  for (size_t h = 0; h < heads; ++h)
    for (size_t j = 0; j < half; ++j)
      for (size_t s = 0; s < 2; ++s)
        std::memcpy(&out[(h * hd + 2 * j + s) * m->cols], &m->v[(h * hd + s * half + j) * m->cols],
                    m->cols * sizeof(float));
  m->v.swap(out);
}

bool load_qk(const ModelArtifact& art, const LlamaModel& m, const TensorInfo& t, uint64_t heads, Matrix* out,
             Error* err) {
  if (!load_matrix(art, t, out, err)) return false;
  if (m.scheme != "gguf") return true;
  if (out->rows % (2 * heads) != 0)
    return fail(err, art.root, std::nullopt,
                "tensor '" + t.name + "' has " + std::to_string(out->rows) + " rows, not a multiple of 2 x " +
                    std::to_string(heads) + " heads");
  unpermute_qk_rows(out, heads);
  return true;
}

bool map_llama(const ModelArtifact& art, const TensorIndex& idx, LlamaModel* m, Error* err) {
  bool hf = false, gguf = false;
  for (const TensorInfo& t : idx.tensors) {
    if (t.name == "model.embed_tokens.weight" || t.name.rfind("model.layers.", 0) == 0) hf = true;
    if (t.name == "token_embd.weight" || t.name.rfind("blk.", 0) == 0) gguf = true;
  }
  if (hf == gguf)
    return fail(err, art.root, std::nullopt,
                "unsupported architecture: no llama-style tensor names (model.layers.N.* or blk.N.*)");
  m->scheme = gguf ? "gguf" : "hf";
  if (gguf && !check_gguf_arch(art, m, err)) return false;
  const std::string embed_name = gguf ? "token_embd.weight" : "model.embed_tokens.weight";
  for (const TensorInfo& t : idx.tensors)
    if (t.name == embed_name) m->embed = &t;
  if (!m->embed) return fail(err, art.root, std::nullopt, "missing token embedding '" + embed_name + "'");
  if (m->embed->shape.size() != 2 || m->embed->shape[0] < 4 || m->embed->shape[1] < 4)
    return fail(err, art.root, std::nullopt, "token embedding '" + embed_name + "' is not a [vocab, hidden] matrix");
  m->vocab = m->embed->shape[0];
  m->hidden = m->embed->shape[1];
  return collect_layers(art, idx, gguf, m, err);
}

}  // namespace pedigree
