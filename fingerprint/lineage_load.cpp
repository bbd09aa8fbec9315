// This file implements tensor loading for lineage: canonical bytes to float32
// (plain floats, F8, and the ggml block types through fingerprint/dequant.h),
// a role's matrix (fused slices, Conv1D transposes) and the
// llama.cpp Q/K row order.
#include "fingerprint/lineage_load.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "fingerprint/dequant.h"
#include "fingerprint/mapped_file.h"
#include "fingerprint/tensor_digest.h"

namespace pedigree {
namespace {

constexpr uint64_t kMaxLayers = 4096;

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

// Error text naming the element types to_float reads.
std::string unsupported_type(const TensorInfo& t) {
  return "tensor '" + t.name + "' has unsupported type " + std::string(dtype_name(t.dtype)) +
         " (lineage reads F64, F32, F16, BF16, F8_E4M3, F8_E5M2, " + std::string(dequant_type_list()) + ")";
}

}  // namespace

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
    default: {
      uint32_t per_block = dtype_info(dtype).block_elems;
      if (!dequant_supported(dtype) || n % per_block != 0) return false;
      return dequantize_blocks(dtype, p, n / per_block, out);
    }
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
    return fail(err, where, std::nullopt, unsupported_type(t));
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
      return fail(err, art.root, std::nullopt, unsupported_type(t));
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

std::string role_name(const RoleMatrix& r) {
  std::string n = r.t->name;
  uint64_t total = r.t->shape.size() == 2 ? r.t->shape[r.transposed ? 1 : 0] : 0;
  if (r.row0 != 0 || r.rows != total)
    n += " rows " + std::to_string(r.row0) + ".." + std::to_string(r.row0 + r.rows - 1);
  return r.transposed ? n + " (transposed)" : n;
}

namespace {

// Rows [row0, row0 + rows) of the full stored matrix, transposed first when asked.
Matrix slice_of(const Matrix& full, const RoleMatrix& r) {
  Matrix out{r.rows, r.cols, std::vector<float>(r.rows * r.cols)};
  for (size_t i = 0; i < r.rows; ++i)
    for (size_t c = 0; c < r.cols; ++c)
      out.v[i * r.cols + c] = r.transposed ? full.at(c, r.row0 + i) : full.at(r.row0 + i, c);
  return out;
}

}  // namespace

bool load_role(const ModelArtifact& art, const RoleMatrix& r, Matrix* out, Error* err) {
  Matrix full;
  if (!load_matrix(art, *r.t, &full, err)) return false;
  if (!r.transposed && r.row0 == 0 && r.rows == full.rows) {
    *out = std::move(full);
    return true;
  }
  *out = slice_of(full, r);
  return true;
}

bool load_role_rows(const ModelArtifact& art, const RoleMatrix& r, const std::vector<uint64_t>& ids, Matrix* out,
                    Error* err) {
  for (uint64_t id : ids)
    if (id >= r.rows)
      return fail(err, art.root, std::nullopt,
                  "tensor '" + role_name(r) + "' has " + std::to_string(r.rows) + " rows, row " + std::to_string(id) +
                      " wanted");
  if (!r.transposed) {
    std::vector<uint64_t> stored(ids);
    for (uint64_t& id : stored) id += r.row0;
    return load_rows(art, *r.t, stored, out, err);
  }
  Matrix role;
  if (!load_role(art, r, &role, err)) return false;
  *out = Matrix{ids.size(), r.cols, std::vector<float>(ids.size() * r.cols)};
  for (size_t i = 0; i < ids.size(); ++i) std::copy_n(&role.v[ids[i] * r.cols], r.cols, &out->v[i * r.cols]);
  return true;
}

bool load_qk(const ModelArtifact& art, const RoleMatrix& r, bool interleaved, uint64_t heads, Matrix* out,
             Error* err) {
  if (!load_role(art, r, out, err)) return false;
  if (!interleaved) return true;
  if (heads == 0 || out->rows % (2 * heads) != 0)
    return fail(err, art.root, std::nullopt,
                "tensor '" + role_name(r) + "' has " + std::to_string(out->rows) + " rows, not a multiple of 2 x " +
                    std::to_string(heads) + " heads");
  unpermute_qk_rows(out, heads);
  return true;
}

}  // namespace pedigree
